// The console's shell: navigation, routing by path under /app/, and the session at start.

import * as api from "./api.js";
import { button, h, link, toast } from "./dom.js";
import * as account from "./pages/account.js";
import * as admin from "./pages/admin.js";
import * as requests from "./pages/requests.js";
import * as session from "./pages/session.js";

const BASE = "/app/";

// page name → [title, who may see it, render(main, params)]
const PAGES = {
  "sign-in": ["Sign in", "guest", session.signIn],
  register: ["Register", "guest", session.register],
  confirm: ["Confirm your e-mail", "anyone", session.confirm],
  "forgot-password": ["Forgot password", "anyone", session.forgotPassword],
  "reset-password": ["Choose a new password", "anyone", session.resetPassword],
  account: ["Your account", "user", account.page],
  submit: ["New request", "user", requests.submit],
  requests: ["My requests", "user", requests.mine],
  queue: ["Pending queue", "admin", admin.queue],
  accepted: ["Accepted requests", "admin", admin.accepted],
  calendar: ["Week calendar", "admin", admin.calendar],
  resources: ["Resources", "admin", admin.resources],
  users: ["Users", "admin", admin.users],
};

const main = document.getElementById("main");
const nav = document.getElementById("nav");

export function go(path, { replace = false } = {}) {
  const url = new URL(path, window.location.origin);
  if (replace) window.history.replaceState(null, "", url);
  else window.history.pushState(null, "", url);
  render();
}

function pageName() {
  const path = window.location.pathname;
  return path.startsWith(BASE) ? path.slice(BASE.length).replace(/\/$/, "") : "";
}

function home() {
  if (!api.user()) return "sign-in";
  return api.isAdmin() ? "queue" : "requests";
}

async function render() {
  if (!pageName()) return go(BASE + home(), { replace: true });
  let name = pageName();
  const page = PAGES[name];
  if (!page) {
    show("Page not found", (m) =>
      m.append(h("h1", { tabindex: "-1" }, "Page not found"), h("p", {}, link(BASE, "Go to the start page"))),
    );
    return;
  }
  const [, who] = page;
  if (who === "guest" && api.user()) return go(BASE + home(), { replace: true });
  if ((who === "user" || who === "admin") && !api.user()) {
    const back = window.location.pathname + window.location.search;
    return go(`${BASE}sign-in?next=${encodeURIComponent(back)}`, { replace: true });
  }
  if (who === "admin" && !api.isAdmin()) name = home();
  const [title, , draw] = PAGES[name];
  await show(title, (m) => draw(m, new URLSearchParams(window.location.search)));
}

let generation = 0;

async function show(title, draw) {
  // Each page draws into its own container: a slow page that finishes after the
  // person has moved on draws into a container no longer shown.
  const mine = ++generation;
  const page = h("div", { class: "page" });
  document.title = `${title} · Booking console`;
  delete main.dataset.ready;
  main.replaceChildren(page);
  markCurrent();
  try {
    await draw(page);
  } catch (error) {
    if (!error.problem) throw error;
    page.append(h("p", { class: "form-error", role: "alert" }, error.message));
  }
  if (mine !== generation) return;
  main.dataset.ready = "";
  const heading = page.querySelector("h1");
  if (heading && !main.contains(document.activeElement)) heading.focus();
}

function drawNav() {
  const me = api.user();
  const items = [];
  if (!me) {
    items.push(link(`${BASE}sign-in`, "Sign in"), link(`${BASE}register`, "Register"));
  } else {
    if (me.role === "admin") {
      items.push(
        link(`${BASE}queue`, "Queue"),
        link(`${BASE}accepted`, "Accepted"),
        link(`${BASE}calendar`, "Calendar"),
        link(`${BASE}resources`, "Resources"),
        link(`${BASE}users`, "Users"),
      );
    }
    items.push(
      link(`${BASE}requests`, "My requests"),
      link(`${BASE}submit`, "New request"),
      link(`${BASE}account`, me.username, { class: "who", title: `Signed in as ${me.username} (${me.role})` }),
      button("Sign out", { class: "link-button", id: "sign-out", onclick: signOut }),
    );
  }
  nav.replaceChildren(h("ul", {}, items.map((item) => h("li", {}, item))));
  markCurrent();
}

function markCurrent() {
  const name = pageName() || home();
  for (const a of nav.querySelectorAll("a")) {
    if (a.pathname === BASE + name) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
}

let leaving = false;

async function signOut() {
  leaving = true;
  try {
    await api.signOut();
  } finally {
    leaving = false;
    toast("Signed out.");
    go(`${BASE}sign-in`);
  }
}

// Links inside the console stay in the page; everything else behaves as usual.
document.addEventListener("click", (event) => {
  const a = event.target.closest("a");
  if (!a || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
  if (a.origin !== window.location.origin || !a.pathname.startsWith(BASE) || a.target || a.hasAttribute("download")) return;
  if (a.pathname.startsWith(`${BASE}assets/`)) return;
  event.preventDefault();
  go(a.pathname + a.search);
});
window.addEventListener("popstate", render);

let started = false;
window.addEventListener("session-changed", () => {
  drawNav();
  if (started && !leaving && !api.user() && PAGES[pageName()]?.[1] !== "guest" && PAGES[pageName()]?.[1] !== "anyone") {
    toast("Your session has ended; please sign in again.");
    go(`${BASE}sign-in`, { replace: true });
  }
});

await api.restore();
started = true;
drawNav();
await render();
