// Building the page: every value goes in as text, never as HTML.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (key === "style" || key.toLowerCase() === "innerhtml") throw new Error(`refusing ${key}`);
    if (key === "class") el.className = value;
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child)); // strings become text nodes
  }
  return el;
}

let serial = 0;
export const uid = (prefix) => `${prefix}-${++serial}`;

/** A labelled control with a place for its error message: `field("Topic", "topic", {...})`. */
export function field(label, name, attrs = {}, { hint, control, optional = false } = {}) {
  const id = uid("f");
  const errorId = `${id}-error`;
  const hintId = hint ? `${id}-hint` : null;
  const input =
    control ||
    h(attrs.type === "textarea" ? "textarea" : "input", {
      ...attrs,
      type: attrs.type === "textarea" ? null : attrs.type || "text",
    });
  input.id = id;
  input.name = name;
  input.setAttribute("aria-describedby", [hintId, errorId].filter(Boolean).join(" "));
  return h(
    "div",
    { class: "field" },
    h("label", { for: id }, label, optional ? h("span", { class: "optional" }, " (optional)") : null),
    hint ? h("p", { class: "hint", id: hintId }, hint) : null,
    input,
    h("p", { class: "field-error", id: errorId, "data-error-for": name }),
  );
}

export function select(options, { value: chosen, ...attrs } = {}) {
  return h(
    "select",
    attrs,
    options.map(([value, text]) => h("option", { value, selected: value === chosen }, text)),
  );
}

export function button(text, attrs = {}) {
  return h("button", { type: "button", ...attrs }, text);
}

export function link(href, text, attrs = {}) {
  return h("a", { href, ...attrs }, text);
}

export function heading(text) {
  return h("h1", { tabindex: "-1" }, text);
}

export function clearErrors(root) {
  for (const p of root.querySelectorAll(".field-error, .form-error, .action-error")) p.textContent = "";
  for (const el of root.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
}

/** Put an API problem next to the fields it names, the rest at the form's or action's alert. */
export function showProblem(root, error) {
  const errors = (error.problem && error.problem.errors) || {};
  const leftover = [];
  let first = null;
  for (const [name, messages] of Object.entries(errors)) {
    const slot = errorSlot(root, name);
    const text = Array.isArray(messages) ? messages.join(" ") : String(messages);
    if (slot) {
      slot.textContent = slot.textContent ? `${slot.textContent} ${text}` : text;
      const input = root.querySelector(`[name="${CSS.escape(name)}"]`);
      if (input) {
        input.setAttribute("aria-invalid", "true");
        first = first || input;
      }
    } else {
      leftover.push(`${name}: ${text}`);
    }
  }
  const alert = root.querySelector(".form-error, .action-error");
  if (alert && (!first || leftover.length)) {
    alert.textContent = [error.message, ...leftover].join(" ");
  }
  (first || alert)?.focus?.();
}

/** The error place of `name`, or of the nearest part it belongs to ("a.b.0" → "a.b" → "a"). */
function errorSlot(root, name) {
  for (let part = name; part; part = part.includes(".") ? part.slice(0, part.lastIndexOf(".")) : "") {
    const slot = root.querySelector(`[data-error-for="${CSS.escape(part)}"]`);
    if (slot) return slot;
  }
  return null;
}

export function alertSlot(kind = "form-error") {
  return h("p", { class: kind, role: "alert", tabindex: "-1" });
}

/** Wire a form: values by name, errors shown in place, the submit button busy meanwhile. */
export function onSubmit(form, handler) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const buttons = form.querySelectorAll("button[type=submit]");
    buttons.forEach((b) => (b.disabled = true));
    try {
      await handler(values(form), form);
    } catch (error) {
      if (!error.problem) throw error;
      showProblem(form, error);
    } finally {
      buttons.forEach((b) => (b.disabled = false));
    }
  });
  return form;
}

export function values(form) {
  const out = {};
  for (const el of form.elements) {
    if (!el.name || el.disabled) continue;
    out[el.name] = el.type === "checkbox" ? el.checked : el.value;
  }
  return out;
}

let toastTimer = null;
export function toast(message) {
  const el = document.getElementById("toast");
  el.textContent = message;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (el.hidden = true), 6000);
}

export function badge(status) {
  return h("span", { class: `badge badge-${status}` }, status);
}
