// Navigation: the route table, the address bar, and the page shown in <main>.
// Page modules import go() from here and main.js fills the table, so no module
// imports another that imports it back.

import * as api from "./api.js";
import { h, link } from "./dom.js";

export const BASE = "/app/";

// page name → [title, who may see it, render(main, params)]
const routes = {};

const main = document.getElementById("main");
const nav = document.getElementById("nav");

export function addRoutes(table) {
  Object.assign(routes, table);
}

export function go(path, { replace = false } = {}) {
  const url = new URL(path, window.location.origin);
  if (replace) window.history.replaceState(null, "", url);
  else window.history.pushState(null, "", url);
  render();
}

export function pageName() {
  const path = window.location.pathname;
  return path.startsWith(BASE) ? path.slice(BASE.length).replace(/\/$/, "") : "";
}

// "guest", "anyone", "user" or "admin"; undefined for a page that does not exist
export const whoMaySee = (name) => routes[name]?.[1];

function home() {
  if (!api.user()) return "sign-in";
  return api.isAdmin() ? "queue" : "requests";
}

export async function render() {
  if (!pageName()) return go(BASE + home(), { replace: true });
  let name = pageName();
  const page = routes[name];
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
  const [title, , draw] = routes[name];
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

export function markCurrent() {
  const name = pageName() || home();
  for (const a of nav.querySelectorAll("a")) {
    if (a.pathname === BASE + name) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
}

// Links inside the console stay in the page; everything else behaves as usual.
document.addEventListener("click", (event) => {
  const a = event.target.closest("a");
  if (!a || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
  if (a.origin !== window.location.origin || !a.pathname.startsWith(BASE) || a.target || a.hasAttribute("download"))
    return;
  if (a.pathname.startsWith(`${BASE}assets/`)) return;
  event.preventDefault();
  go(a.pathname + a.search);
});
window.addEventListener("popstate", render);
