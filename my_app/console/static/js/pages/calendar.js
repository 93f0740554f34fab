// The week calendar of one resource: its rules, the times it is closed (shaded), and its
// bookings for those who decide them, or only when it is busy for everyone else.

import * as api from "../api.js";
import { badge, field, h, heading, select } from "../dom.js";
import { go } from "../router.js";
import { decides, rulesList } from "../rules.js";
import { MAX_DURATION_DAYS, addDays, clock, dateKey, day, fromDateKey, longDate, startOfWeek } from "../time.js";
import { acceptedAround } from "./admin.js";
import { resourceNames } from "./requests.js";

const DAY_MS = 24 * 60 * 60 * 1000;

async function bookingsOf(resourceId, start, end) {
  const [accepted, pending] = await Promise.all([
    acceptedAround(resourceId, start, end),
    api.all("/list_requests", "bookings", {
      status: "pending",
      resource_id: resourceId,
      from: new Date(start.getTime() - MAX_DURATION_DAYS * DAY_MS).toISOString(),
      to: end.toISOString(),
    }),
  ]);
  return [...accepted, ...pending];
}

function slot(kind, s, e, ...details) {
  return h(
    "li",
    { class: `slot slot-${kind}` },
    h("span", { class: "slot-time" }, `${clock(s)}–${clock(e)}`),
    ...details,
  );
}

export async function calendar(main, params) {
  const resources = await resourceNames();
  const resourceId = Number(params.get("resource")) || [...resources.keys()][0];
  const resource = resources.get(resourceId);
  const start = startOfWeek(fromDateKey(params.get("week")) || new Date());
  const end = addDays(start, 7);
  const url = (week, id = resourceId) => `/app/calendar?resource=${id}&week=${dateKey(week)}`;
  const picker = select(
    [...resources.values()].map((r) => [String(r.id), r.active ? r.name : `${r.name} (inactive)`]),
    { value: String(resourceId) },
  );
  const form = h(
    "form",
    { class: "toolbar" },
    field("Resource", "resource", {}, { control: picker }),
    h("button", { type: "submit" }, "Show"),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    go(url(start, picker.value));
  });
  const nav = h(
    "div",
    { class: "toolbar" },
    h("a", { class: "button", href: url(addDays(start, -7)) }, "← Previous week"),
    h("a", { class: "button", href: url(startOfWeek(new Date())) }, "This week"),
    h("a", { class: "button", href: url(end) }, "Next week →"),
  );
  const seesBookings = decides(api.user(), resource);
  const [availability, bookings] = await Promise.all([
    api.get(`/resources/${resourceId}/availability`, { from: start.toISOString(), to: end.toISOString() }),
    seesBookings ? bookingsOf(resourceId, start, end) : [],
  ]);
  const intervals = (kind, list) => list.map((i) => ({ kind, event_time: i.start, end_time: i.end, booking: null }));
  const entries = [
    ...intervals("closed", availability.closed),
    ...(seesBookings ? [] : intervals("busy", availability.busy)),
    ...bookings.map((b) => ({ kind: b.status, event_time: b.event_time, end_time: b.end_time, booking: b })),
  ].sort((a, b) => a.event_time.localeCompare(b.event_time));
  const days = [];
  for (let i = 0; i < 7; i++) {
    const from = addDays(start, i);
    const to = addDays(from, 1);
    const today = dateKey(from) === dateKey(new Date());
    const items = entries
      .filter((x) => Date.parse(x.event_time) < to.getTime() && from.getTime() < Date.parse(x.end_time))
      .map((x) => {
        const s = new Date(Math.max(Date.parse(x.event_time), from.getTime()));
        const e = new Date(Math.min(Date.parse(x.end_time), to.getTime()));
        const b = x.booking;
        if (!b) return slot(x.kind, s, e, h("span", {}, x.kind === "closed" ? "Closed" : "Busy"));
        return slot(
          b.status,
          s,
          e,
          h("span", { class: "slot-topic" }, b.topic),
          h("span", { class: "muted" }, `#${b.id} · ${b.requested_by.username} · `, badge(b.status)),
        );
      });
    days.push(
      h(
        "section",
        { class: today ? "day today" : "day", "aria-label": day(from) },
        h("h2", {}, day(from)),
        items.length ? h("ul", { class: "plain" }, items) : h("p", { class: "muted" }, "Free"),
      ),
    );
  }
  main.append(
    heading("Week calendar"),
    form,
    h("p", {}, h("strong", {}, resource ? resource.name : `Resource #${resourceId}`), ` · week of ${longDate(start)}`),
    resource
      ? h("details", { class: "card", open: true }, h("summary", {}, "Booking rules"), rulesList(resource))
      : null,
    nav,
    h("div", { class: "week", id: "week" }, days),
  );
}
