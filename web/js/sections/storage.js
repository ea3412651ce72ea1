// Storage: a bar of used / limit, split by kind, and the largest projects.

import { gql } from "../graphql.js";
import { $, formatBytes, formatPercent, h, humanize } from "../ui.js";

const QUERY = `query StorageUsage {
  viewer { storageUsage {
    usedBytes limitBytes fraction
    breakdown { category bytes }
    projects(first: 5) { projectName bytes }
  } }
}`;
const LABELS = { RUN_FILES: "Run files", ARTIFACTS: "Artifacts", MEDIA: "Media" };

export const reloadOn = ["photo"];

export async function load(root) {
  const { viewer } = await gql(QUERY);
  const usage = viewer.storageUsage;
  const used = Number(usage.usedBytes);
  const limit = Number(usage.limitBytes);
  $("#storage-summary", root).textContent =
    `${formatBytes(used)} of ${formatBytes(limit)} used (${formatPercent(usage.fraction)}).`;

  const bar = $("#storage-bar", root);
  bar.classList.toggle("over", usage.fraction >= 1);
  bar.replaceChildren(
    ...usage.breakdown
      .filter((part) => Number(part.bytes) > 0)
      .map((part) => {
        const segment = h("span", { class: `segment category-${part.category.toLowerCase()}` });
        // Set through the CSSOM: the page's policy forbids inline style attributes.
        segment.style.width = `${Math.min(100, (Number(part.bytes) / limit) * 100)}%`;
        return segment;
      }),
  );
  $("#storage-breakdown", root).replaceChildren(
    ...usage.breakdown.map((part) =>
      h("li", { "data-category": part.category },
        h("span", { class: `swatch category-${part.category.toLowerCase()}`, "aria-hidden": "true" }),
        `${LABELS[part.category] || humanize(part.category)}: ${formatBytes(part.bytes)}`),
    ),
  );
  $("#storage-projects", root).replaceChildren(
    ...usage.projects.map((project) =>
      h("li", {}, h("span", { text: project.projectName }), h("span", { class: "muted", text: formatBytes(project.bytes) }))),
  );
  $("#storage-projects-empty", root).hidden = usage.projects.length > 0;
}
