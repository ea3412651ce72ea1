// Profile: name, institution, bio, location, website, hiding teams, and the photo.

import { gql, upload } from "../graphql.js";
import { $, action, busy, clearErrors, showErrors, status, submitter } from "../ui.js";

const FIELDS = `username email name institution bio location websiteUrl photoUrl hideTeamsFromPublic`;
const QUERY = `query Profile { viewer { ${FIELDS} } }`;
const UPDATE = `mutation UpdateUser($input: UpdateUserInput!) {
  updateUser(input: $input) { user { ${FIELDS} } errors { field message code } }
}`;
const UPLOAD = `mutation UploadPhoto($file: Upload!) {
  uploadProfilePhoto(input: {file: $file}) { user { photoUrl } errors { field message code } }
}`;
const REMOVE = `mutation RemovePhoto {
  removeProfilePhoto(input: {}) { user { photoUrl } errors { field message code } }
}`;

const TEXT_FIELDS = ["name", "institution", "location", "websiteUrl", "bio"];
const MAX_PHOTO_BYTES = 5 * 1024 * 1024;

let wired = false;
let chosen = null; // the object URL of a chosen, not yet uploaded photo

function fill(root, user) {
  $("#profile-username", root).value = user.username;
  $("#profile-email", root).value = user.email;
  for (const name of TEXT_FIELDS) $(`[name="${name}"]`, root).value = user[name] ?? "";
  $("#profile-hide-teams", root).checked = user.hideTeamsFromPublic;
  showPhoto(root, user.photoUrl);
  $("#photo-placeholder", root).textContent = (user.name || user.username).charAt(0).toUpperCase();
}

function showPhoto(root, url) {
  const image = $("#photo-preview", root);
  image.hidden = !url;
  if (url) image.src = url;
  else image.removeAttribute("src");
  $("#photo-placeholder", root).hidden = Boolean(url);
  $("#photo-remove", root).hidden = !url;
}

function discardChoice(root) {
  if (chosen) URL.revokeObjectURL(chosen.url);
  chosen = null;
  $("#photo-file", root).value = "";
  $("#photo-upload", root).hidden = true;
  $("#photo-cancel", root).hidden = true;
}

export async function load(root, page) {
  const { viewer } = await gql(QUERY);
  fill(root, viewer);
  if (!wired) wire(root, page);
  wired = true;
}

function wire(root, page) {
  const form = $("#profile-form", root);
  const photo = $(".photo-row", root);

  form.addEventListener("submit", (event) => event.preventDefault());
  form.addEventListener("submit", action(form, async (event) => {
    const input = Object.fromEntries(TEXT_FIELDS.map((n) => [n, $(`[name="${n}"]`, form).value]));
    input.hideTeamsFromPublic = $("#profile-hide-teams", form).checked;
    clearErrors(form);
    const { updateUser } = await busy(submitter(event), () => gql(UPDATE, { input }));
    if (updateUser.errors.length) {
      showErrors(form, updateUser.errors);
      return;
    }
    fill(root, updateUser.user);
    status(form, "Profile saved.");
    page.changed("profile");
  }));

  $("#photo-file", root).addEventListener("change", (event) => {
    const [file] = event.target.files;
    clearErrors(photo);
    if (!file) return;
    if (file.size > MAX_PHOTO_BYTES) {
      showErrors(photo, [{ field: "file", message: "A profile photo must be at most 5 MB." }]);
      event.target.value = "";
      return;
    }
    if (chosen) URL.revokeObjectURL(chosen.url);
    chosen = { file, url: URL.createObjectURL(file), previous: $("#photo-preview", root).getAttribute("src") };
    showPhoto(root, chosen.url);
    $("#photo-upload", root).hidden = false;
    $("#photo-cancel", root).hidden = false;
    $("#photo-remove", root).hidden = true;
  });

  $("#photo-cancel", root).addEventListener("click", () => {
    const previous = chosen?.previous;
    discardChoice(root);
    showPhoto(root, previous);
  });

  $("#photo-upload", root).addEventListener("click", action(photo, async (event) => {
    if (!chosen) return;
    const { uploadProfilePhoto: result } = await busy(event.currentTarget, () =>
      upload(UPLOAD, {}, "file", chosen.file),
    );
    if (result.errors.length) {
      showErrors(photo, result.errors);
      return;
    }
    discardChoice(root);
    showPhoto(root, result.user.photoUrl);
    status(photo, "Photo uploaded.");
    page.changed("photo");
  }));

  $("#photo-remove", root).addEventListener("click", action(photo, async (event) => {
    const { removeProfilePhoto: result } = await busy(event.currentTarget, () => gql(REMOVE));
    if (result.errors.length) {
      showErrors(photo, result.errors);
      return;
    }
    showPhoto(root, null);
    status(photo, "Photo removed.");
    page.changed("photo");
  }));
}
