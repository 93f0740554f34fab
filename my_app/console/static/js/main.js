// The console's shell: the pages it routes to, the navigation bar, and the session at start.

import * as api from "./api.js";
import { button, h, link, toast } from "./dom.js";
import * as account from "./pages/account.js";
import * as admin from "./pages/admin.js";
import { calendar } from "./pages/calendar.js";
import * as requests from "./pages/requests.js";
import * as resource from "./pages/resource.js";
import * as series from "./pages/series.js";
import * as session from "./pages/session.js";
import { decides } from "./rules.js";
import { BASE, addRoutes, go, markCurrent, pageName, render, whoMaySee } from "./router.js";

addRoutes({
  "sign-in": ["Sign in", "guest", session.signIn],
  register: ["Register", "guest", session.register],
  confirm: ["Confirm your e-mail", "anyone", session.confirm],
  "forgot-password": ["Forgot password", "anyone", session.forgotPassword],
  "reset-password": ["Choose a new password", "anyone", session.resetPassword],
  account: ["Your account", "user", account.page],
  submit: ["New request", "user", requests.submit],
  requests: ["My requests", "user", requests.mine],
  series: ["Series", "user", series.page],
  queue: ["Pending queue", "user", admin.queue], // admins, and approvers for their resources
  accepted: ["Accepted requests", "admin", admin.accepted],
  calendar: ["Week calendar", "user", calendar],
  resources: ["Resources", "admin", admin.resources],
  resource: ["Resource", "admin", resource.page],
  users: ["Users", "admin", admin.users],
});

const nav = document.getElementById("nav");

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
      me.role === "admin" ? null : link(`${BASE}calendar`, "Calendar"),
      link(`${BASE}requests`, "My requests"),
      link(`${BASE}submit`, "New request"),
      link(`${BASE}account`, me.username, { class: "who", title: `Signed in as ${me.username} (${me.role})` }),
      button("Sign out", { class: "link-button", id: "sign-out", onclick: signOut }),
    );
  }
  const list = h(
    "ul",
    {},
    items.filter(Boolean).map((item) => h("li", {}, item)),
  );
  nav.replaceChildren(list);
  markCurrent();
  if (me && me.role !== "admin") offerQueue(me, list);
}

/** Approvers (of any resource) get the queue of their resources' requests. */
async function offerQueue(me, list) {
  const { resources } = await api.get("/resources");
  if (api.user() !== me || !resources.some((r) => decides(me, r))) return;
  list.prepend(h("li", {}, link(`${BASE}queue`, "Queue")));
  markCurrent();
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

let started = false;
window.addEventListener("session-changed", () => {
  drawNav();
  const who = whoMaySee(pageName());
  if (started && !leaving && !api.user() && who !== "guest" && who !== "anyone") {
    toast("Your session has ended; please sign in again.");
    go(`${BASE}sign-in`, { replace: true });
  }
});

await api.restore();
started = true;
drawNav();
await render();
