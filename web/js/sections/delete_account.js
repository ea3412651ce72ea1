// Delete account: irreversible, so the username must be typed to confirm.

import { Unavailable, gql, knows } from "../graphql.js";
import { $, action, busy, clearErrors, showErrors, submitter } from "../ui.js";

const QUERY = `query DeleteAccountViewer { viewer { username } }`;
const DELETE = `mutation DeleteAccount($input: DeleteAccountInput!) {
  deleteAccount(input: $input) { success errors { field message code } }
}`;

let username = null;
let wired = false;

export async function load(root, page) {
  if (!(await knows(DELETE))) throw new Unavailable("deleteAccount");
  username = (await gql(QUERY)).viewer.username;
  $("#delete-username", root).textContent = username;
  if (!wired) wire($("#delete-form", root), page);
  wired = true;
}

function wire(form, page) {
  const confirm = $("#delete-confirm", form);
  confirm.addEventListener("input", () => {
    $("#delete-submit", form).disabled = confirm.value.trim() !== username;
  });
  form.addEventListener("submit", (event) => event.preventDefault());
  form.addEventListener("submit", action(form, async (event) => {
    const input = { confirmUsername: confirm.value.trim() };
    if (input.confirmUsername !== username) return;
    clearErrors(form);
    const { deleteAccount: result } = await busy(submitter(event), () => gql(DELETE, { input }));
    if (result.errors.length) {
      showErrors(form, result.errors);
      return;
    }
    page.accountDeleted();
  }));
}
