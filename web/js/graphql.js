// A small GraphQL client of Switchboard's /graphql: the Bearer token from sessionStorage,
// top-level errors to the page's banner, and the multipart request spec for uploads.

import { token } from "./session.js";

export const ENDPOINT = "/graphql";

/** The server's schema lacks what the document asks for: an older or partial server. */
export class Unavailable extends Error {}

/** The request failed with top-level errors (already shown in the banner). */
export class RequestFailed extends Error {
  constructor(errors) {
    super(errors.map((e) => e.message).join(" "));
    this.errors = errors;
    this.code = errors[0]?.extensions?.code;
  }
}

// Validation errors that mean "this server has no such API", not "the page is wrong".
const MISSING_API = [
  /^Cannot query field/,
  /^Unknown type/,
  /^Unknown argument/,
  /is not defined by type/,
  /not supported by the schema/,
];

export function isMissingApi(errors) {
  return (
    errors.length > 0 &&
    errors.every(
      (e) =>
        e.extensions?.code === "GRAPHQL_VALIDATION_FAILED" &&
        MISSING_API.some((pattern) => pattern.test(e.message)),
    )
  );
}

const listeners = new Set();

/** `handler(errors)` runs for every top-level failure but a missing API. */
export function onRequestFailed(handler) {
  listeners.add(handler);
}

function authorization() {
  const value = token();
  return value ? { Authorization: `Bearer ${value}` } : {};
}

/** The answer's `data` and top-level `errors`; a transport failure becomes an error too. */
async function post(init) {
  let response;
  try {
    response = await fetch(ENDPOINT, { method: "POST", credentials: "omit", ...init });
  } catch {
    return { errors: [{ message: "Switchboard could not be reached. Is the server running?" }] };
  }
  const text = await response.text();
  try {
    const body = JSON.parse(text);
    return { data: body.data, errors: body.errors || [] };
  } catch {
    const message = text.trim() || `The server answered HTTP ${response.status}.`;
    return { errors: [{ message, extensions: { code: `HTTP_${response.status}` } }] };
  }
}

async function send(init) {
  const { data, errors } = await post(init);
  if (!errors.length) return data;
  if (isMissingApi(errors)) throw new Unavailable(errors[0].message);
  for (const handler of listeners) handler(errors);
  throw new RequestFailed(errors);
}

function json(query, variables) {
  return {
    headers: { "Content-Type": "application/json", Accept: "application/json", ...authorization() },
    body: JSON.stringify({ query, variables }),
  };
}

/** `data` of a query or mutation; throws Unavailable or RequestFailed. */
export function gql(query, variables = {}) {
  return send(json(query, variables));
}

/**
 * Whether the server knows `document`, an operation with a required variable, sent
 * without it: the server validates the document, then refuses to run it for the
 * missing variable, so nothing happens. Works with introspection turned off.
 */
export async function knows(document) {
  const { errors } = await post(json(document, {}));
  return !isMissingApi(errors);
}

/**
 * A GraphQL multipart request (github.com/jaydenseric/graphql-multipart-request-spec)
 * carrying `file` at the variable `name`, which `variables` holds as null.
 */
export function upload(query, variables, name, file) {
  const form = new FormData();
  form.append("operations", JSON.stringify({ query, variables: { ...variables, [name]: null } }));
  form.append("map", JSON.stringify({ 0: [`variables.${name}`] }));
  form.append("0", file, file.name);
  // No Content-Type: the browser sets multipart/form-data with its boundary.
  return send({ headers: { Accept: "application/json", ...authorization() }, body: form });
}
