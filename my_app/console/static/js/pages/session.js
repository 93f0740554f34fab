// Signing in, registering, confirming the e-mail address, and resetting a forgotten password.

import * as api from "../api.js";
import { alertSlot, field, h, heading, link, onSubmit, toast } from "../dom.js";
import { go } from "../router.js";

function safeNext(params) {
  const next = params.get("next") || "";
  return next.startsWith("/app/") && !next.startsWith("//") ? next : "/app/";
}

export function signIn(main, params) {
  const form = h(
    "form",
    { class: "card narrow", novalidate: true },
    field("Username or e-mail", "username", { required: true, autocomplete: "username" }),
    field("Password", "password", { type: "password", required: true, autocomplete: "current-password" }),
    alertSlot(),
    h("button", { type: "submit", class: "primary" }, "Sign in"),
  );
  onSubmit(form, async ({ username, password }) => {
    try {
      await api.signIn(username, password);
    } catch (error) {
      if (error.status === 403) {
        error.message += " If you have not confirmed your e-mail address yet, ask for a new link below.";
      }
      throw error;
    }
    go(safeNext(params), { replace: true });
  });
  main.append(
    heading("Sign in"),
    form,
    h(
      "ul",
      { class: "links" },
      h("li", {}, link("/app/register", "Create an account")),
      h("li", {}, link("/app/forgot-password", "Forgot your password?")),
      h("li", {}, link("/app/confirm", "Confirm your e-mail or get a new confirmation link")),
    ),
  );
}

export function register(main) {
  const done = h("div", { class: "notice", role: "status", hidden: true });
  const form = h(
    "form",
    { class: "card narrow", novalidate: true },
    field(
      "Username",
      "username",
      { required: true, autocomplete: "username" },
      { hint: "3 to 80 letters, digits, _ . or -" },
    ),
    field("E-mail", "email", { type: "email", required: true, autocomplete: "email" }),
    field(
      "Password",
      "password",
      { type: "password", required: true, autocomplete: "new-password" },
      { hint: "8 to 128 characters; not a common password, nor your name or e-mail" },
    ),
    alertSlot(),
    h("button", { type: "submit", class: "primary" }, "Register"),
  );
  onSubmit(form, async (body) => {
    const created = await api.publicCall("POST", "/register", body);
    form.hidden = true;
    done.replaceChildren(
      h("p", {}, `Welcome, ${created.username}. We sent a confirmation link to ${created.email}.`),
      h("p", {}, "Open it to confirm your address, then ", link("/app/sign-in", "sign in"), "."),
    );
    done.hidden = false;
    done.focus();
  });
  done.tabIndex = -1;
  main.append(
    heading("Create an account"),
    form,
    done,
    h("p", {}, "Already registered? ", link("/app/sign-in", "Sign in"), "."),
  );
}

/** The token from `?token=`, or from a pasted confirmation link or token. */
function tokenFrom(text) {
  const value = (text || "").trim();
  const inLink = /\/user_confirm\/([^/?#\s]+)/.exec(value) || /[?&]token=([^&#\s]+)/.exec(value);
  return inLink ? decodeURIComponent(inLink[1]) : value;
}

export async function confirm(main, params) {
  const result = h("div", { class: "notice", role: "status", tabindex: "-1", hidden: true });
  const form = h(
    "form",
    { class: "card narrow", novalidate: true },
    field(
      "Confirmation link or token",
      "token",
      { required: true, autocomplete: "off" },
      { hint: "Paste the link from the e-mail we sent you." },
    ),
    alertSlot(),
    h("button", { type: "submit", class: "primary" }, "Confirm"),
  );
  const confirmToken = async (token) => {
    const answer = await api.publicCall("GET", `/user_confirm/${encodeURIComponent(token)}`);
    form.hidden = true;
    result.replaceChildren(h("p", {}, answer.message, " "), h("p", {}, link("/app/sign-in", "Sign in now"), "."));
    result.hidden = false;
    result.focus();
  };
  onSubmit(form, ({ token }) => confirmToken(tokenFrom(token)));
  main.append(heading("Confirm your e-mail"), result, form, resendForm());
  const token = params.get("token");
  if (token) {
    window.history.replaceState(null, "", "/app/confirm"); // keep the token out of history
    try {
      await confirmToken(token);
    } catch (error) {
      if (!error.problem) throw error;
      form.querySelector(".form-error").textContent = `${error.message} Ask for a new link below.`;
    }
  }
}

function resendForm() {
  const form = h(
    "form",
    { class: "card narrow", novalidate: true },
    h("h2", {}, "Need a new confirmation link?"),
    field("E-mail", "email", { type: "email", required: true, autocomplete: "email" }),
    alertSlot(),
    h("button", { type: "submit" }, "Send a new link"),
  );
  onSubmit(form, async (body) => {
    const answer = await api.publicCall("POST", "/resend_confirmation", body);
    toast(answer.message);
    form.querySelector(".form-error").textContent = "";
  });
  return form;
}

export function forgotPassword(main) {
  const result = h("p", { class: "notice", role: "status", tabindex: "-1", hidden: true });
  const form = h(
    "form",
    { class: "card narrow", novalidate: true },
    field("E-mail", "email", { type: "email", required: true, autocomplete: "email" }),
    alertSlot(),
    h("button", { type: "submit", class: "primary" }, "E-mail me a reset link"),
  );
  onSubmit(form, async (body) => {
    const answer = await api.publicCall("POST", "/forgot_password", body);
    result.textContent = answer.message;
    result.hidden = false;
    result.focus();
  });
  main.append(
    heading("Forgot your password?"),
    h("p", {}, "We will e-mail you a link to choose a new one."),
    form,
    result,
  );
}

let resetToken = null;

export function resetPassword(main, params) {
  if (params.get("token")) {
    resetToken = params.get("token");
    window.history.replaceState(null, "", "/app/reset-password"); // keep the token out of history
  }
  main.append(heading("Choose a new password"));
  if (!resetToken) {
    main.append(
      h(
        "p",
        {},
        "Open this page from the link in your password-reset e-mail, or ",
        link("/app/forgot-password", "ask for a new link"),
        ".",
      ),
    );
    return;
  }
  const result = h("div", { class: "notice", role: "status", tabindex: "-1", hidden: true });
  const form = h(
    "form",
    { class: "card narrow", novalidate: true },
    field(
      "New password",
      "password",
      { type: "password", required: true, autocomplete: "new-password" },
      { hint: "8 to 128 characters" },
    ),
    field("New password again", "repeat", { type: "password", required: true, autocomplete: "new-password" }),
    alertSlot(),
    h("button", { type: "submit", class: "primary" }, "Set the new password"),
  );
  onSubmit(form, async ({ password, repeat }) => {
    if (password !== repeat) {
      throw new api.ApiError(422, {
        detail: "The passwords differ.",
        errors: { repeat: ["Type the same password twice."] },
      });
    }
    try {
      await api.publicCall("POST", "/reset_password", { token: resetToken, password });
    } catch (error) {
      if (error.status === 400) error.message += " Ask for a new link on the forgot-password page.";
      throw error;
    }
    resetToken = null;
    form.hidden = true;
    result.replaceChildren(
      h("p", {}, "Your password is changed and every session is signed out. "),
      h("p", {}, link("/app/sign-in", "Sign in"), " with the new password."),
    );
    result.hidden = false;
    result.focus();
  });
  main.append(form, result);
}
