// The signed-in person's account: password change and live sessions.

import * as api from "../api.js";
import { alertSlot, button, field, h, heading, onSubmit, showProblem, toast } from "../dom.js";
import { go } from "../router.js";
import { when } from "../time.js";

export async function page(main) {
  const me = api.user();
  main.append(
    heading("Your account"),
    h(
      "dl",
      { class: "facts card" },
      h("dt", {}, "Username"),
      h("dd", {}, me.username),
      h("dt", {}, "E-mail"),
      h("dd", {}, me.email),
      h("dt", {}, "Role"),
      h("dd", {}, me.role),
      h("dt", {}, "Member since"),
      h("dd", {}, when(me.created_at)),
    ),
    changePassword(),
  );
  const sessions = h("section", { class: "card", "aria-labelledby": "sessions-title" });
  main.append(sessions);
  await drawSessions(sessions);
}

function changePassword() {
  const form = h(
    "form",
    { class: "card narrow", novalidate: true, "aria-labelledby": "password-title" },
    h("h2", { id: "password-title" }, "Change your password"),
    field("Current password", "current_password", {
      type: "password",
      required: true,
      autocomplete: "current-password",
    }),
    field(
      "New password",
      "new_password",
      { type: "password", required: true, autocomplete: "new-password" },
      { hint: "8 to 128 characters; your other sessions will be signed out" },
    ),
    alertSlot(),
    h("button", { type: "submit", class: "primary" }, "Change password"),
  );
  onSubmit(form, async ({ current_password, new_password }) => {
    await api.changePassword(current_password, new_password);
    form.reset();
    toast("Password changed; your other sessions are signed out.");
    const sessions = document.querySelector("[aria-labelledby=sessions-title]");
    if (sessions) await drawSessions(sessions);
  });
  return form;
}

async function drawSessions(section) {
  const error = alertSlot("action-error");
  let sessions = [];
  try {
    ({ sessions } = await api.get("/sessions"));
  } catch (problem) {
    if (!problem.problem) throw problem;
    error.textContent = `Your sessions cannot be listed: ${problem.message}`;
  }
  const rows = sessions.map((s) => {
    const end = button(s.current ? "Sign out here" : "End session", {
      class: s.current ? "" : "danger",
      "aria-label": s.current ? "Sign out of this session" : `End the session started ${when(s.created_at)}`,
      onclick: async () => {
        try {
          await api.del(`/sessions/${encodeURIComponent(s.id)}`);
        } catch (problem) {
          if (!problem.problem) throw problem;
          return showProblem(section, problem);
        }
        if (s.current) {
          api.ended();
          return go("/app/sign-in");
        }
        toast("Session ended.");
        await drawSessions(section);
      },
    });
    return h(
      "li",
      { class: "row" },
      h(
        "div",
        { class: "session" },
        h("strong", {}, s.user_agent || "Unknown browser"),
        s.current ? h("span", { class: "badge badge-accepted" }, "this session") : null,
        h(
          "div",
          { class: "muted" },
          `From ${s.ip || "an unknown address"} · started ${when(s.created_at)} · last used ${when(s.last_used_at)}`,
        ),
      ),
      end,
    );
  });
  section.replaceChildren(
    h("h2", { id: "sessions-title" }, "Your sessions"),
    h("ul", { class: "plain" }, rows),
    error,
    button("Sign out everywhere", {
      class: "danger",
      onclick: async () => {
        await api.signOut(true);
        go("/app/sign-in");
      },
    }),
  );
}
