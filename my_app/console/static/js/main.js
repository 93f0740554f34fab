// The console's shell: the pages it routes to, the navigation bar, and the session at start.

import * as api from "./api.js";
import { button, h, link, toast } from "./dom.js";
import * as account from "./pages/account.js";
import * as admin from "./pages/admin.js";
import * as requests from "./pages/requests.js";
import * as session from "./pages/session.js";
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
  queue: ["Pending queue", "admin", admin.queue],
  accepted: ["Accepted requests", "admin", admin.accepted],
  calendar: ["Week calendar", "admin", admin.calendar],
  resources: ["Resources", "admin", admin.resources],
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
      link(`${BASE}requests`, "My requests"),
      link(`${BASE}submit`, "New request"),
      link(`${BASE}account`, me.username, { class: "who", title: `Signed in as ${me.username} (${me.role})` }),
      button("Sign out", { class: "link-button", id: "sign-out", onclick: signOut }),
    );
  }
  nav.replaceChildren(
    h(
      "ul",
      {},
      items.map((item) => h("li", {}, item)),
    ),
  );
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
