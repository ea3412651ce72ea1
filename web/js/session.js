// Sign-in for local use: a token arrives in the URL fragment (#token=…), which the
// browser never sends to a server; it is kept in sessionStorage (this tab only) and
// the fragment is cleared so it is not left in the address bar or history.

const TOKEN = "switchboard.token";
const PROVIDER = "switchboard.oauthProvider";

export function takeTokenFromFragment() {
  const params = new URLSearchParams(location.hash.slice(1));
  const value = params.get("token");
  if (!value) return false;
  sessionStorage.setItem(TOKEN, value);
  history.replaceState(null, "", location.pathname + location.search);
  return true;
}

export function token() {
  return sessionStorage.getItem(TOKEN);
}

export function setToken(value) {
  sessionStorage.setItem(TOKEN, value);
}

export function signOut() {
  sessionStorage.removeItem(TOKEN);
  sessionStorage.removeItem(PROVIDER);
}

/**
 * Leaves for a provider's authorize page, remembering which provider ("slack" or
 * "github") so that /settings/connected knows whom the `code` it gets back is for.
 */
export function leaveFor(provider, authorizeUrl) {
  const url = new URL(authorizeUrl, location.href);
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new Error(`Refusing to leave for ${url.protocol} URL`);
  }
  sessionStorage.setItem(PROVIDER, provider);
  location.assign(url.href);
}

export function takeProvider() {
  const provider = sessionStorage.getItem(PROVIDER);
  sessionStorage.removeItem(PROVIDER);
  return provider;
}

/** Where the provider sends the browser back: this server's /settings/connected. */
export function redirectUri() {
  return `${location.origin}/settings/connected`;
}

const FLASH = "switchboard.flash";

/** A message for the settings page to show once, after a redirect. */
export function setFlash(text) {
  sessionStorage.setItem(FLASH, text);
}

export function takeFlash() {
  const text = sessionStorage.getItem(FLASH);
  sessionStorage.removeItem(FLASH);
  return text;
}
