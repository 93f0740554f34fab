// A requester's side: submit a booking request, follow one's requests, check in, cancel.

import * as api from "../api.js";
import {
  alertSlot,
  append,
  badge,
  button,
  field,
  h,
  heading,
  link,
  onSubmit,
  select,
  showProblem,
  toast,
  clearErrors,
} from "../dom.js";
import { buildRrule, datesList, datesOf, repeatFieldset } from "../repeat.js";
import { go } from "../router.js";
import { rulesList } from "../rules.js";
import { pickerValue, span, when, withOffset, zone } from "../time.js";

let countryList = null;

async function countries() {
  if (!countryList) {
    const response = await fetch("/app/countries.json", { headers: { Accept: "application/json" } });
    countryList = (await response.json()).countries;
  }
  return countryList;
}

export async function resourceNames() {
  const { resources } = await api.get("/resources");
  return new Map(resources.map((r) => [r.id, r]));
}

export async function submit(main) {
  const [resources, list] = await Promise.all([resourceNames(), countries()]);
  const bookable = [...resources.values()].filter((r) => r.active);
  const soon = new Date(Date.now() + 2 * 60 * 60 * 1000); // on the hour, one to two hours ahead
  soon.setMinutes(0, 0, 0);
  const picker = select(
    bookable.map((r) => [String(r.id), r.name]),
    { required: true, value: String(bookable[0]?.id) },
  );
  const rules = h("div", { class: "resource-rules", id: "resource-rules", "aria-live": "polite" });
  const showRules = () => {
    const resource = resources.get(Number(picker.value));
    rules.replaceChildren(
      ...(resource
        ? [
            h("h2", {}, `Rules of ${resource.name}`),
            rulesList(resource),
            link(`/app/calendar?resource=${resource.id}`, "See when it is busy or closed"),
          ]
        : []),
    );
  };
  picker.addEventListener("change", showRules);
  showRules();
  const repeat = repeatFieldset();
  const preview = h("div", { class: "series-preview", id: "series-preview", "aria-live": "polite" });
  const send = h("button", { type: "submit", class: "primary" }, "Submit request");
  const form = h(
    "form",
    { class: "card", novalidate: true },
    field("Resource", "resource_id", { required: true }, { control: picker }),
    rules,
    field("Topic", "topic", { required: true, maxlength: 200 }),
    h(
      "div",
      { class: "pair" },
      field(
        "Starts",
        "event_time",
        { type: "datetime-local", required: true, min: pickerValue(new Date()), value: pickerValue(soon) },
        { hint: `Your time zone: ${zone()}` },
      ),
      field("Duration in minutes", "duration_minutes", {
        type: "number",
        required: true,
        min: 1,
        max: 10080,
        step: 1,
        value: 60,
        inputmode: "numeric",
      }),
    ),
    h(
      "fieldset",
      {},
      h("legend", {}, "Address"),
      field("Street", "address.street", { required: true, autocomplete: "street-address" }),
      h(
        "div",
        { class: "pair" },
        field("City", "address.city", { required: true, autocomplete: "address-level2" }),
        field("State or region", "address.state", { autocomplete: "address-level1" }, { optional: true }),
      ),
      h(
        "div",
        { class: "pair" },
        field("Postal code", "address.postal_code", { autocomplete: "postal-code" }, { optional: true }),
        field(
          "Country",
          "address.country",
          { required: true },
          {
            control: select([["", "Choose a country"], ...list.map((c) => [c.code, c.name])], {
              required: true,
              autocomplete: "country",
            }),
          },
        ),
      ),
    ),
    repeat.element,
    alertSlot(),
    send,
    preview,
  );
  // Any change after a dry run makes its dates stale: they go, and the form asks again.
  const changed = (event) => {
    if (preview.contains(event.target)) return;
    preview.replaceChildren();
    if (repeat.choice().freq === "weekly") repeat.weekdayOf(new Date(form.elements.event_time.value));
    send.textContent = repeat.repeating() ? "Show the dates" : "Submit request";
  };
  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  onSubmit(form, async (v) => {
    const body = {
      resource_id: Number(v.resource_id),
      topic: v.topic,
      event_time: withOffset(v.event_time),
      duration_minutes: v.duration_minutes === "" ? null : Number(v.duration_minutes),
      address: { street: v["address.street"], city: v["address.city"], country: v["address.country"] },
    };
    if (v["address.state"].trim()) body.address.state = v["address.state"];
    if (v["address.postal_code"].trim()) body.address.postal_code = v["address.postal_code"];
    if (repeat.repeating()) {
      body.recurrence = { rrule: buildRrule(repeat.choice()) };
      await tryTheSeries(form, preview, body);
      return;
    }
    const created = await api.post("/submit_request", body);
    toast(
      created.status === "accepted"
        ? `Request #${created.id} is accepted.`
        : `Request #${created.id} submitted; it is pending until an admin or approver decides.`,
    );
    go("/app/requests");
  });
  main.append(heading("New booking request"), form);
}

/** The dry run of a series: its dates listed, conflicts marked, then "Send" submits it. */
async function tryTheSeries(form, preview, body) {
  preview.replaceChildren();
  let dates;
  try {
    const answer = await api.call("POST", "/submit_series", {
      body: { ...body, on_conflict: "skip" },
      query: { dry_run: "true" },
    });
    dates = datesOf(answer);
  } catch (error) {
    if (!error.problem?.occurrences) throw error;
    showProblem(form, error);
    preview.append(
      h("h2", {}, "No date is free"),
      datesList(datesOf({ skipped: error.problem.occurrences }), body.duration_minutes),
    );
    return;
  }
  const refused = dates.filter((d) => d.refused).length;
  const leaveOut = h("input", { type: "checkbox", id: "leave-out", name: "leave_out" });
  const error = alertSlot("action-error");
  const sendButton = button(`Send ${dates.length - refused} requests`, { class: "primary", id: "send-series" });
  sendButton.addEventListener("click", async () => {
    clearErrors(form);
    sendButton.disabled = true;
    try {
      const onConflict = leaveOut.checked ? "skip" : "fail";
      const series = await api.post("/submit_series", { ...body, on_conflict: onConflict });
      const accepted = series.occurrences.every((o) => o.status === "accepted");
      toast(
        `Series #${series.id}: ${series.occurrences.length} requests ${accepted ? "accepted" : "submitted, pending until an admin or approver decides"}.`,
      );
      go(`/app/series?id=${series.id}`);
    } catch (problem) {
      sendButton.disabled = false;
      if (!problem.problem) throw problem;
      showProblem(preview, problem);
    }
  });
  preview.append(
    h("h2", { tabindex: "-1" }, `${dates.length} dates${refused ? `, ${refused} not free` : ", all free"}`),
    datesList(dates, body.duration_minutes),
    refused
      ? h(
          "p",
          { class: "check" },
          leaveOut,
          h(
            "label",
            { for: "leave-out" },
            "Leave out conflicting dates (otherwise nothing is sent while one conflicts)",
          ),
        )
      : null,
    error,
    h("div", { class: "actions" }, sendButton),
  );
  preview.querySelector("h2").focus();
}

export async function mine(main, params) {
  const status = params.get("status") || "";
  const resources = await resourceNames();
  const filter = select(
    [
      ["", "All"],
      ["pending", "Pending"],
      ["accepted", "Accepted"],
      ["rejected", "Rejected"],
      ["cancelled", "Cancelled"],
      ["expired", "Expired"],
      ["released", "Released"],
    ],
    { value: status },
  );
  const filterForm = h(
    "form",
    { class: "toolbar" },
    field("Status", "status", {}, { control: filter }),
    h("button", { type: "submit" }, "Show"),
  );
  filterForm.addEventListener("submit", (e) => {
    e.preventDefault();
    go(`/app/requests${filter.value ? `?status=${encodeURIComponent(filter.value)}` : ""}`);
  });
  const list = h("ul", { class: "plain cards", id: "my-requests" });
  const more = button("Show more", { hidden: true });
  main.append(
    heading("My requests"),
    h("p", {}, link("/app/submit", "New request", { class: "button primary" })),
    filterForm,
    list,
    more,
  );
  let cursor = null;
  const load = async () => {
    const page = await api.get("/my_requests", { status, cursor, limit: 20 });
    list.append(...page.bookings.map((b) => bookingCard(b, resources, { owner: true })));
    cursor = page.next_cursor;
    more.hidden = !cursor;
    if (!list.children.length) list.append(h("li", { class: "muted" }, "No requests yet."));
  };
  more.addEventListener("click", load);
  await load();
}

/** One booking request, with its history on demand and the actions the viewer may take. */
export function bookingCard(booking, resources, { owner = false, extra = null, actions = null } = {}) {
  const item = h("li", { class: "card booking", "data-id": booking.id, "data-status": booking.status });
  const history = h("div", { class: "history", hidden: true });
  const historyButton = button("History", { "aria-expanded": "false" });
  historyButton.addEventListener("click", async () => {
    const open = historyButton.getAttribute("aria-expanded") === "true";
    historyButton.setAttribute("aria-expanded", String(!open));
    history.hidden = open;
    if (!open && !history.childElementCount) {
      const { history: entries } = await api.get(`/request/${booking.id}/history`);
      history.append(
        h(
          "ol",
          {},
          entries.map((e) =>
            h(
              "li",
              {},
              `${when(e.at)}: ${e.from_status ? `${e.from_status} → ` : ""}${e.to_status}`,
              e.by ? ` by ${e.by.username}` : "",
              e.reason ? ` — “${e.reason}”` : "",
            ),
          ),
        ),
      );
    }
  });
  const address = booking.address || {};
  const resource = resources.get(booking.resource_id);
  const error = alertSlot("action-error");
  const buttons = h("div", { class: "actions" }, historyButton);
  if (owner && booking.status === "accepted" && !booking.checked_in_at && checkinOpen(booking, resource)) {
    buttons.append(checkinButton(booking, item, error, (b) => replace(item, bookingCard(b, resources, { owner }))));
  }
  if (owner && (booking.status === "pending" || booking.status === "accepted")) {
    buttons.append(
      ...reasonAction("Cancel request", "cancel", booking, item, error, (b) =>
        replace(item, bookingCard(b, resources, { owner })),
      ),
    );
  }
  if (actions) buttons.append(...actions(item, error));
  append(item, [
    h("div", { class: "booking-head" }, h("h2", { class: "topic" }, booking.topic), badge(booking.status)),
    h(
      "dl",
      { class: "facts" },
      h("dt", {}, "Request"),
      h("dd", {}, `#${booking.id}`),
      h("dt", {}, "When"),
      h("dd", {}, span(booking), ` (${booking.duration_minutes} min)`),
      booking.series_id
        ? [
            h("dt", {}, "Series"),
            h("dd", {}, link(`/app/series?id=${booking.series_id}`, `Series #${booking.series_id}: all its dates`)),
          ]
        : null,
      h("dt", {}, "Resource"),
      h("dd", {}, resource ? resource.name : `#${booking.resource_id}`),
      h("dt", {}, "Where"),
      h(
        "dd",
        {},
        [address.street, address.city, address.state, address.postal_code, address.country].filter(Boolean).join(", "),
      ),
      owner
        ? null
        : [
            h("dt", {}, "Requested by"),
            h("dd", {}, `${booking.requested_by.username} <${booking.requested_by.email}>`),
          ],
      h("dt", {}, "Submitted"),
      h("dd", {}, when(booking.created_at)),
      booking.decided_by
        ? [h("dt", {}, "Decided by"), h("dd", {}, `${booking.decided_by.username}, ${when(booking.decided_at)}`)]
        : null,
      booking.reason ? [h("dt", {}, "Reason"), h("dd", {}, booking.reason)] : null,
      booking.checked_in_at ? [h("dt", {}, "Checked in"), h("dd", {}, when(booking.checked_in_at))] : null,
    ),
    extra,
    buttons,
    error,
    history,
  ]);
  return item;
}

const CHECKIN_OPENS_MS = 15 * 60 * 1000;

/** From 15 minutes before the start until the resource's checkin_minutes after it (the end
 * without), as POST /checkin_request allows. */
function checkinOpen(booking, resource) {
  const start = Date.parse(booking.event_time);
  const minutes = resource?.rules?.checkin_minutes;
  const closes = minutes == null ? Date.parse(booking.end_time) : start + minutes * 60 * 1000;
  const now = Date.now();
  return start - CHECKIN_OPENS_MS <= now && now <= closes;
}

function checkinButton(booking, item, error, done) {
  const checkin = button("Check in", { class: "primary" });
  checkin.addEventListener("click", async () => {
    clearErrors(item);
    checkin.disabled = true;
    try {
      const updated = await api.post("/checkin_request", { id: booking.id });
      toast(`Checked in to #${booking.id}.`);
      done(updated);
    } catch (problem) {
      checkin.disabled = false;
      if (!problem.problem) throw problem;
      showProblem(item, problem);
    }
  });
  return checkin;
}

function replace(item, fresh) {
  item.replaceWith(fresh);
  fresh.querySelector("button")?.focus();
}

/** A button that opens a small form asking for an optional reason, then posts `/<verb>_request`. */
export function reasonAction(label, verb, booking, item, error, done) {
  const opener = button(label, { class: verb === "accept" ? "primary" : "danger", "aria-expanded": "false" });
  const form = h(
    "form",
    { class: "inline", hidden: true, novalidate: true },
    field("Reason", "reason", { maxlength: 500 }, { optional: true }),
    h("button", { type: "submit", class: "danger" }, `${label}`),
    button("Never mind", { onclick: () => toggle(false) }),
  );
  const toggle = (open) => {
    form.hidden = !open;
    opener.setAttribute("aria-expanded", String(open));
    if (open) form.querySelector("input").focus();
    else opener.focus();
  };
  opener.addEventListener("click", () => toggle(form.hidden));
  form.addEventListener("keydown", (event) => {
    if (event.key === "Escape") toggle(false);
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(item);
    const reason = form.elements.reason.value.trim();
    try {
      const updated = await api.post(`/${verb}_request`, reason ? { id: booking.id, reason } : { id: booking.id });
      toast(`Request #${booking.id} is now ${updated.status}.`);
      done(updated);
    } catch (problem) {
      if (!problem.problem) throw problem;
      showProblem(item, problem);
    }
  });
  return [opener, form];
}
