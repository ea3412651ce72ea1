// DOM helpers shared by every section. Text always goes in as text, never as HTML.

import { RequestFailed, Unavailable } from "./graphql.js";

/** An element: h("a", {href: "/x", class: "c", onclick: f}, "text", child). */
export function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "class") node.className = value;
    else if (name === "text") node.textContent = value;
    else if (name in node && typeof value !== "string") node[name] = value;
    else node.setAttribute(name, value === true ? "" : value);
  }
  node.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

export function $(selector, root = document) {
  return root.querySelector(selector);
}

export function $$(selector, root = document) {
  return [...root.querySelectorAll(selector)];
}

/**
 * A labelled field: `control` (which has an id) under its label, then its hint and the
 * slot of its errors (those of the payload fields `errorFor` names), both of which the
 * control names in aria-describedby.
 */
export function field(label, control, { hint, errorFor, narrow } = {}) {
  const notes = [
    hint && h("p", { class: "hint", id: `${control.id}-hint`, text: hint }),
    errorFor && h("p", { class: "field-error", id: `${control.id}-error`, "data-error-for": errorFor, hidden: true }),
  ].filter(Boolean);
  if (notes.length) control.setAttribute("aria-describedby", notes.map((note) => note.id).join(" "));
  return h("div", { class: narrow ? "field narrow" : "field" }, h("label", { for: control.id, text: label }), control,
    ...notes);
}

/** The slot of a form's errors that name none of its fields. */
export function formError() {
  return h("p", { class: "form-error", "data-error-for": "", role: "alert", hidden: true });
}

const SI = ["B", "kB", "MB", "GB", "TB", "PB"];
const ONE_DECIMAL = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });

/** 1234567 → "1.2 MB": storage is sold in powers of ten, as the plan's 100 GB. */
export function formatBytes(bytes) {
  let value = Number(bytes);
  let unit = 0;
  while (value >= 1000 && unit < SI.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${ONE_DECIMAL.format(value)} ${SI[unit]}`;
}

export function formatPercent(fraction) {
  const percent = Number(fraction) * 100;
  if (percent > 0 && percent < 0.1) return "< 0.1%";
  return `${percent.toFixed(percent < 10 ? 1 : 0)}%`;
}

const DATE = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const DAY = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });

export function formatDateTime(iso) {
  return iso ? DATE.format(new Date(iso)) : "";
}

export function formatDate(iso) {
  return iso ? DAY.format(new Date(iso)) : "";
}

/** A <time> element showing `iso` in the reader's locale. */
export function time(iso, withTime = true) {
  if (!iso) return h("span", { class: "muted", text: "Never" });
  return h("time", { datetime: iso, text: withTime ? formatDateTime(iso) : formatDate(iso) });
}

/** Words for an enum value: RUN_FINISHED → "Run finished". */
export function humanize(value) {
  const words = String(value).toLowerCase().replaceAll("_", " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** Runs `action` with `button` disabled and marked busy; returns what it returns. */
export async function busy(control, action) {
  // Disabling a control drops its focus; a keyboard user gets it back afterwards.
  const focused = document.activeElement === control;
  control.disabled = true;
  control.setAttribute("aria-busy", "true");
  try {
    return await action();
  } finally {
    control.disabled = false;
    control.removeAttribute("aria-busy");
    if (focused && control.isConnected) control.focus();
  }
}

/** Says `text` in the status line of `root` (a polite live region), then fades it. */
export function status(root, text) {
  const line = $(".status", root);
  if (!line) return;
  line.textContent = text;
  clearTimeout(line._timer);
  line._timer = setTimeout(() => {
    line.textContent = "";
  }, 4000);
}

function errorSlots(root) {
  return $$("[data-error-for]", root);
}

export function clearErrors(root) {
  for (const slot of errorSlots(root)) {
    slot.hidden = true;
    slot.textContent = "";
  }
  for (const input of $$("[aria-invalid]", root)) input.removeAttribute("aria-invalid");
}

/**
 * Shows each payload error beside the field it names, or in the form's general slot
 * (data-error-for="") when no slot names that field. Returns the errors shown nowhere.
 */
export function showErrors(root, errors) {
  clearErrors(root);
  const general = $('[data-error-for=""]', root);
  const unplaced = [];
  const seen = new Map();
  for (const error of errors) {
    const slot =
      (error.field && $(`[data-error-for~="${CSS.escape(error.field)}"]`, root)) || general;
    if (!slot) {
      unplaced.push(error);
      continue;
    }
    const lines = seen.get(slot) || [];
    lines.push(error.message);
    seen.set(slot, lines);
    slot.textContent = lines.join(" ");
    slot.hidden = false;
    const input = slot.id && $(`[aria-describedby~="${CSS.escape(slot.id)}"]`, root);
    if (input) input.setAttribute("aria-invalid", "true");
  }
  const first = $("[aria-invalid]", root);
  if (first) first.focus();
  return unplaced;
}

/** The button that submitted a form (Enter in a field counts as its first submit button). */
export function submitter(event) {
  return event.submitter || $('[type="submit"]', event.currentTarget);
}

/**
 * An event handler that runs `handler` and shows what went wrong in `root`: a mutation
 * this server lacks as a note in its general error slot; other top-level failures are
 * already in the page's banner.
 */
export function action(root, handler) {
  return async (event) => {
    try {
      await handler(event);
    } catch (error) {
      if (error instanceof Unavailable) {
        showErrors(root, [{ field: null, message: "Not available on this server yet." }]);
      } else if (!(error instanceof RequestFailed)) {
        throw error;
      }
    }
  };
}
