// One resource, for admins: its booking rules (opening hours as a weekly grid), its approvers
// and its blackouts.

import * as api from "../api.js";
import {
  alertSlot,
  button,
  clearErrors,
  field,
  h,
  heading,
  link,
  onSubmit,
  select,
  showProblem,
  toast,
} from "../dom.js";
import { DAYS } from "../rules.js";
import { span, withOffset } from "../time.js";

const NUMBERS = [
  ["Minimum notice (minutes)", "min_notice_minutes"],
  ["Furthest ahead (days)", "max_advance_days"],
  ["Shortest booking (minutes)", "min_duration_minutes"],
  ["Longest booking (minutes)", "max_duration_minutes"],
  ["Buffer between bookings (minutes)", "buffer_minutes"],
];

// Once a request is in: each has its own input attributes, the API's bounds.
const AFTER_ACCEPTANCE = [
  ["Check in within (minutes after the start)", "checkin_minutes", { min: 1, max: 1440, step: 1 }],
  ["Remind the requester (minutes before)", "reminder_minutes", { min: 1, max: 10080, step: 1 }],
  ["Escalate pending requests after (hours)", "approval_deadline_hours", { min: 0, max: 744, step: "any" }],
];

export async function page(main, params) {
  const id = Number(params.get("id"));
  const [resource, users] = await Promise.all([
    api.get(`/resources/${id}`),
    api.all("/users", "users", { status: "active" }),
  ]);
  main.append(
    heading(resource.name),
    h("p", {}, link("/app/resources", "← All resources"), " · ", link(`/app/calendar?resource=${id}`, "Week calendar")),
    rulesForm(resource),
    approversForm(resource, users),
    await blackouts(resource),
  );
}

function rulesForm(resource) {
  const rules = resource.rules;
  const zones = h(
    "datalist",
    { id: "time-zones" },
    Intl.supportedValuesOf("timeZone").map((z) => h("option", { value: z })),
  );
  const limited = h("input", { type: "checkbox", id: "limit-hours", checked: rules.opening_hours !== null });
  const grid = weekGrid(rules.opening_hours);
  grid.hidden = !limited.checked;
  limited.addEventListener("change", () => (grid.hidden = !limited.checked));
  const quota = rules.quota || { hours: "", per: "" };
  const form = h(
    "form",
    { class: "card", novalidate: true, "aria-labelledby": "rules-title", id: "rules" },
    h("h2", { id: "rules-title" }, "Booking rules"),
    h(
      "div",
      { class: "pair" },
      field("Time zone", "time_zone", { value: resource.time_zone, list: "time-zones", required: true }),
      field(
        "Approval",
        "approval",
        {},
        {
          control: select(
            [
              ["required", "An admin or approver decides"],
              ["auto", "Accept at once when free"],
            ],
            { value: resource.approval },
          ),
        },
      ),
    ),
    zones,
    h(
      "div",
      { class: "pair" },
      NUMBERS.map(([label, name]) =>
        field(
          label,
          `rules.${name}`,
          { type: "number", min: 0, step: 1, inputmode: "numeric", value: rules[name] ?? "" },
          { optional: true },
        ),
      ),
    ),
    h(
      "fieldset",
      {},
      h("legend", {}, "After acceptance"),
      h(
        "div",
        { class: "pair" },
        AFTER_ACCEPTANCE.map(([label, name, attrs]) =>
          field(label, `rules.${name}`, { type: "number", ...attrs, value: rules[name] ?? "" }, { optional: true }),
        ),
      ),
    ),
    h(
      "fieldset",
      {},
      h("legend", {}, "Quota per requester"),
      h(
        "div",
        { class: "pair" },
        field(
          "Hours",
          "rules.quota.hours",
          { type: "number", min: 0, step: 0.25, value: quota.hours },
          { optional: true },
        ),
        field(
          "Per",
          "rules.quota.per",
          {},
          {
            control: select(
              [
                ["", "No quota"],
                ["day", "Day"],
                ["week", "Week (Monday to Sunday)"],
                ["month", "Month"],
              ],
              { value: quota.per },
            ),
          },
        ),
      ),
    ),
    h(
      "fieldset",
      {},
      h("legend", {}, "Opening hours"),
      h("div", { class: "check" }, limited, h("label", { for: "limit-hours" }, "Only within opening hours")),
      h("p", { class: "hint" }, `Local times in the resource's time zone; a day without hours is closed.`),
      grid,
      h("p", { class: "field-error", "data-error-for": "rules.opening_hours" }),
    ),
    alertSlot(),
    h("button", { type: "submit", class: "primary" }, "Save rules"),
  );
  onSubmit(form, async (v) => {
    const number = (name) => (v[name].trim() === "" ? null : Number(v[name]));
    const body = { time_zone: v.time_zone, approval: v.approval, rules: {} };
    for (const [, name] of [...NUMBERS, ...AFTER_ACCEPTANCE]) body.rules[name] = number(`rules.${name}`);
    body.rules.quota = v["rules.quota.per"] ? { hours: number("rules.quota.hours"), per: v["rules.quota.per"] } : null;
    body.rules.opening_hours = limited.checked ? readGrid(grid) : null;
    await api.patch(`/resources/${resource.id}`, body);
    toast("Rules saved.");
  });
  return form;
}

/** One row per day; each span is a pair of "HH:MM" inputs ("24:00" may end a day). */
function weekGrid(week) {
  const rows = DAYS.map(([key, name]) => {
    const spans = h("ul", { class: "plain spans", "data-day": key });
    const add = button("Add hours", { "aria-label": `Add hours on ${name}` });
    add.addEventListener("click", () => {
      const row = spanRow(name, ["", ""]);
      spans.append(row);
      row.querySelector("input").focus();
    });
    spans.append(...(week?.[key] || []).map((s) => spanRow(name, s)));
    return h(
      "tr",
      { "data-day": key },
      h("th", { scope: "row" }, name),
      h("td", {}, spans, add, h("p", { class: "field-error", "data-error-for": `rules.opening_hours.${key}` })),
    );
  });
  return h(
    "table",
    { class: "week-grid" },
    h("caption", { class: "muted" }, "Weekly opening hours"),
    h("tbody", {}, rows),
  );
}

function spanRow(dayName, [from, to]) {
  const clockInput = (value, label) =>
    h("input", {
      value,
      "aria-label": label,
      placeholder: "HH:MM",
      inputmode: "numeric",
      maxlength: 5,
      class: "clock",
    });
  const remove = button("Remove", { "aria-label": `Remove ${dayName} ${from || "new"}–${to || "hours"}` });
  const row = h(
    "li",
    { class: "span" },
    clockInput(from, `${dayName} opens`),
    "–",
    clockInput(to, `${dayName} closes`),
    remove,
  );
  remove.addEventListener("click", () => {
    const next = row.nextElementSibling?.querySelector("input") || row.closest("td").querySelector(":scope > button");
    row.remove();
    next.focus();
  });
  return row;
}

function readGrid(grid) {
  const week = {};
  for (const list of grid.querySelectorAll("ul[data-day]")) {
    week[list.dataset.day] = [...list.querySelectorAll("li")].map((li) =>
      [...li.querySelectorAll("input")].map((input) => input.value.trim()),
    );
  }
  return week;
}

function approversForm(resource, users) {
  const chosen = new Set(resource.approvers.map((a) => a.id));
  const boxes = users.map((u) => {
    const id = `approver-${u.id}`;
    return h(
      "li",
      { class: "check" },
      h("input", { type: "checkbox", id, value: u.id, checked: chosen.has(u.id) }),
      h("label", { for: id }, `${u.username} `, h("span", { class: "muted" }, `<${u.email}>`)),
    );
  });
  const form = h(
    "form",
    { class: "card", novalidate: true, "aria-labelledby": "approvers-title", id: "approvers" },
    h("h2", { id: "approvers-title" }, "Approvers"),
    h("p", { class: "hint" }, "They decide this resource's requests and manage its blackouts; admins decide all."),
    h("ul", { class: "plain" }, boxes),
    alertSlot(),
    h("button", { type: "submit", class: "primary" }, "Save approvers"),
  );
  onSubmit(form, async () => {
    const ids = [...form.querySelectorAll("input:checked")].map((box) => Number(box.value));
    const updated = await api.put(`/resources/${resource.id}/approvers`, { user_ids: ids });
    toast(`Approvers saved: ${updated.approvers.map((a) => a.username).join(", ") || "none"}.`);
  });
  return form;
}

async function blackouts(resource) {
  const path = `/resources/${resource.id}/blackouts`;
  const list = h("ul", { class: "plain", id: "blackouts" });
  const draw = async () => {
    const { blackouts: found } = await api.get(path, { from: new Date().toISOString() });
    list.replaceChildren(...found.map(item));
    if (!found.length) list.append(h("li", { class: "muted" }, "No blackouts ahead."));
  };
  const item = (blackout) => {
    const when = span({ event_time: blackout.start, end_time: blackout.end });
    const remove = button("Delete", { class: "danger", "aria-label": `Delete blackout ${when}` });
    const row = h(
      "li",
      { class: "row", "data-id": blackout.id },
      h("span", {}, when, blackout.reason ? ` — ${blackout.reason}` : ""),
      remove,
    );
    remove.addEventListener("click", async () => {
      clearErrors(section);
      try {
        await api.del(`${path}/${blackout.id}`);
        toast("Blackout deleted.");
        await draw();
        section.querySelector("h2").focus();
      } catch (problem) {
        if (!problem.problem) throw problem;
        showProblem(section, problem);
      }
    });
    return row;
  };
  const form = h(
    "form",
    { novalidate: true, "aria-labelledby": "new-blackout" },
    h("h3", { id: "new-blackout" }, "Add a blackout"),
    h(
      "div",
      { class: "pair" },
      field("Blackout starts", "start", { type: "datetime-local", required: true }),
      field("Blackout ends", "end", { type: "datetime-local", required: true }),
    ),
    field("Reason", "reason", { maxlength: 500 }, { optional: true }),
    alertSlot(),
    h("button", { type: "submit", class: "primary" }, "Add blackout"),
  );
  onSubmit(form, async (v) => {
    const body = { start: withOffset(v.start), end: withOffset(v.end) };
    if (v.reason.trim()) body.reason = v.reason;
    await api.post(path, body);
    toast("Blackout added.");
    form.reset();
    await draw();
  });
  const section = h(
    "section",
    { class: "card", "aria-labelledby": "blackouts-title" },
    h("h2", { id: "blackouts-title", tabindex: "-1" }, "Blackouts"),
    h("p", { class: "hint" }, "Times nobody can book: no request may be submitted or accepted over one."),
    list,
    alertSlot("action-error"),
    form,
  );
  await draw();
  return section;
}
