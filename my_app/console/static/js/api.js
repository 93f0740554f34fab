// The JSON API, and the session: the access token lives in this module's memory only.
// Across a reload the session comes back through the HttpOnly refresh cookie, which
// no script can read; /refresh wants the CSRF cookie's value echoed in a header.

let accessToken = null;
let currentUser = null;
let refreshing = null;

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

export const user = () => currentUser;
export const isAdmin = () => currentUser?.role === "admin";

function csrfToken() {
  const cookie = document.cookie.split("; ").find((c) => c.startsWith("csrf_refresh_token="));
  return cookie ? decodeURIComponent(cookie.slice("csrf_refresh_token=".length)) : null;
}

function changed() {
  window.dispatchEvent(new CustomEvent("session-changed"));
}

function forget() {
  const had = currentUser !== null;
  accessToken = null;
  currentUser = null;
  if (had) changed();
}

async function parse(response) {
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return { title: response.statusText, detail: `The server answered ${response.status}.` };
  }
}

/** One refresh at a time, whoever asks: concurrent 401s share it. */
export function refresh() {
  refreshing ||= (async () => {
    const csrf = csrfToken();
    if (!csrf) return false;
    const response = await fetch("/refresh", {
      method: "POST",
      headers: { Accept: "application/json", "X-CSRF-TOKEN": csrf },
      credentials: "same-origin",
    });
    if (!response.ok) {
      forget();
      return false;
    }
    accessToken = (await response.json()).access_token;
    return true;
  })().finally(() => (refreshing = null));
  return refreshing;
}

/** Call the API; a 401 on a signed-in call refreshes once and retries once. */
export async function call(method, path, { body, query, auth = true, accept } = {}) {
  const url = new URL(path, window.location.origin);
  for (const [key, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(key, value);
  }
  const send = () => {
    const headers = { Accept: accept || "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (auth && accessToken) headers.Authorization = `Bearer ${accessToken}`;
    return fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
    });
  };
  let response = await send();
  if (response.status === 401 && auth && (await refresh())) response = await send();
  const data = await parse(response);
  if (!response.ok) {
    if (response.status === 401 && auth) forget();
    throw new ApiError(response.status, data || { title: response.statusText });
  }
  return data;
}

export const get = (path, query) => call("GET", path, { query });
export const post = (path, body) => call("POST", path, { body: body ?? {} });
export const patch = (path, body) => call("PATCH", path, { body });
export const put = (path, body) => call("PUT", path, { body });
export const del = (path) => call("DELETE", path);

/** Every page of a paged list (`bookings`, `users`), up to `max` rows. */
export async function all(path, key, query = {}, max = 2000) {
  const rows = [];
  let cursor = null;
  do {
    const page = await get(path, { ...query, limit: 100, cursor });
    rows.push(...page[key]);
    cursor = page.next_cursor;
  } while (cursor && rows.length < max);
  return rows;
}

async function adopt(pair) {
  accessToken = pair.access_token;
  currentUser = await get("/me");
  changed();
}

export async function signIn(username, password) {
  await adopt(await call("POST", "/login", { body: { username, password }, auth: false }));
}

/** After a reload: the refresh cookie, if there is one, gives back the session. */
export async function restore() {
  if (await refresh()) {
    try {
      currentUser = await get("/me");
    } catch {
      forget();
    }
  }
  changed();
}

export async function changePassword(current_password, new_password) {
  await adopt(await post("/change_password", { current_password, new_password }));
}

export async function signOut(everywhere = false) {
  try {
    await post(everywhere ? "/logout_all" : "/logout");
  } finally {
    forget();
  }
}

/** The session ended on the server (e.g. from the sessions list): drop it here too. */
export function ended() {
  forget();
}

export function publicCall(method, path, body) {
  return call(method, path, { body, auth: false });
}
