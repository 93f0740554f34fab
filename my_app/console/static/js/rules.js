// A resource's booking rules in words, for whoever is about to book it or edit them.

import { h } from "./dom.js";

export const DAYS = [
  ["mon", "Monday"],
  ["tue", "Tuesday"],
  ["wed", "Wednesday"],
  ["thu", "Thursday"],
  ["fri", "Friday"],
  ["sat", "Saturday"],
  ["sun", "Sunday"],
];

const has = (value) => value !== null && value !== undefined;
const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** Whether the signed-in `me` decides the resource's requests: an admin, or one of its approvers. */
export const decides = (me, resource) =>
  Boolean(me && (me.role === "admin" || resource?.approvers?.some((a) => a.id === me.id)));

export function openingHours(week) {
  if (!week) return "Any time";
  return DAYS.map(([key, name]) => {
    const spans = week[key] || [];
    return `${name.slice(0, 3)} ${spans.length ? spans.map(([a, b]) => `${a}–${b}`).join(", ") : "closed"}`;
  }).join("; ");
}

/** The rules as a definition list; `null` rules are left out. */
export function rulesList(resource) {
  const r = resource.rules || {};
  const facts = [
    ["Time zone", resource.time_zone],
    ["Approval", resource.approval === "auto" ? "Accepted at once when free" : "An admin or approver decides"],
    ["Opening hours", `${openingHours(r.opening_hours)}${r.opening_hours ? ` (${resource.time_zone})` : ""}`],
    has(r.min_notice_minutes) && ["Notice", `At least ${plural(r.min_notice_minutes, "minute")} ahead`],
    has(r.max_advance_days) && ["Booking ahead", `At most ${plural(r.max_advance_days, "day")} ahead`],
    has(r.min_duration_minutes) && ["Shortest", plural(r.min_duration_minutes, "minute")],
    has(r.max_duration_minutes) && ["Longest", plural(r.max_duration_minutes, "minute")],
    has(r.buffer_minutes) && ["Buffer", `${plural(r.buffer_minutes, "minute")} free between bookings`],
    r.quota && ["Quota", `At most ${plural(r.quota.hours, "hour")} per ${r.quota.per} each`],
    has(r.checkin_minutes) && [
      "Check-in",
      `Check in by ${plural(r.checkin_minutes, "minute")} after the start, or the booking is released`,
    ],
    has(r.reminder_minutes) && ["Reminder", `E-mailed ${plural(r.reminder_minutes, "minute")} before the start`],
    has(r.approval_deadline_hours) && [
      "Decision",
      `Escalated to the admins if still pending ${plural(r.approval_deadline_hours, "hour")} after submitting`,
    ],
  ].filter(Boolean);
  return h(
    "dl",
    { class: "facts rules" },
    facts.map(([term, text]) => [h("dt", {}, term), h("dd", {}, text)]),
  );
}
