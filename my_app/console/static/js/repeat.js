// Repeating a request: the "Repeat" controls of the submit form, the RRULE they make,
// and the dates a dry run answers, each marked bookable or refused.

import { field, h, select, uid } from "./dom.js";
import { DAYS } from "./rules.js";
import { span } from "./time.js";

const BYDAY = { mon: "MO", tue: "TU", wed: "WE", thu: "TH", fri: "FR", sat: "SA", sun: "SU" };
const KEYS = DAYS.map(([key]) => key);
const two = (n) => String(n).padStart(2, "0");

/** A Date as an RFC 5545 UTC time, "20270308T090000Z". */
export function utcStamp(date) {
  return (
    `${date.getUTCFullYear()}${two(date.getUTCMonth() + 1)}${two(date.getUTCDate())}` +
    `T${two(date.getUTCHours())}${two(date.getUTCMinutes())}${two(date.getUTCSeconds())}Z`
  );
}

/** The rule for `choice` ({freq, days, end, count, until}); null when it does not repeat.
 * `until` is a date ("2027-05-31"): the series runs through the end of that day, here. */
export function buildRrule({ freq, days = [], end, count, until }) {
  if (!freq || freq === "none") return null;
  const parts = [`FREQ=${freq.toUpperCase()}`, "INTERVAL=1"];
  if (freq === "weekly" && days.length) parts.push(`BYDAY=${days.map((d) => BYDAY[d]).join(",")}`);
  if (end === "until") {
    const [y, m, d] = String(until || "")
      .split("-")
      .map(Number);
    const last = new Date(y, m - 1, d, 23, 59, 59);
    parts.push(`UNTIL=${Number.isNaN(last.getTime()) ? "" : utcStamp(last)}`);
  } else {
    parts.push(`COUNT=${count}`);
  }
  return parts.join(";");
}

/** The "Repeat" fieldset; `choice()` reads it, `weekdayOf(date)` ticks the start's day when
 * nothing is ticked yet. Its errors show under `recurrence`. */
export function repeatFieldset() {
  const freq = select(
    [
      ["none", "Does not repeat"],
      ["daily", "Every day"],
      ["weekly", "Every week on…"],
      ["monthly", "Every month"],
    ],
    { value: "none" },
  );
  const days = h(
    "fieldset",
    { class: "weekdays", hidden: true },
    h("legend", {}, "On these days"),
    DAYS.map(([key, name]) => {
      const id = uid("day");
      return h(
        "span",
        { class: "check" },
        h("input", { type: "checkbox", id, name: `repeat.day.${key}`, value: key }),
        h("label", { for: id }, name),
      );
    }),
  );
  const endChoice = select(
    [
      ["count", "After a number of times"],
      ["until", "On a date"],
    ],
    { value: "count" },
  );
  const count = field("How many times", "repeat.count", {
    type: "number",
    min: 1,
    max: 366,
    step: 1,
    value: 4,
    inputmode: "numeric",
  });
  const until = field("Last date", "repeat.until", { type: "date" });
  until.hidden = true;
  const ends = h("div", { class: "pair" }, field("Ends", "repeat.end", {}, { control: endChoice }), count, until);
  const sync = () => {
    const repeating = freq.value !== "none";
    days.hidden = freq.value !== "weekly";
    ends.hidden = !repeating;
    count.hidden = endChoice.value !== "count";
    until.hidden = endChoice.value !== "until";
    for (const wrap of [days, ends]) {
      for (const input of wrap.querySelectorAll("input, select")) input.disabled = wrap.hidden;
    }
    count.querySelector("input").disabled ||= count.hidden;
    until.querySelector("input").disabled ||= until.hidden;
  };
  freq.addEventListener("change", sync);
  endChoice.addEventListener("change", sync);
  const element = h(
    "fieldset",
    { class: "repeat" },
    h("legend", {}, "Repeat"),
    field("How often", "repeat.freq", {}, { control: freq }),
    days,
    ends,
    h("p", { class: "field-error", "data-error-for": "recurrence" }),
  );
  sync();
  return {
    element,
    repeating: () => freq.value !== "none",
    weekdayOf(date) {
      const boxes = [...days.querySelectorAll("input")];
      if (!boxes.some((b) => b.checked) && !Number.isNaN(date.getTime())) {
        boxes[(date.getDay() + 6) % 7].checked = true; // Monday first
      }
    },
    choice: () => ({
      freq: freq.value,
      days: KEYS.filter((key) => days.querySelector(`[value="${key}"]`).checked),
      end: endChoice.value,
      count: count.querySelector("input").value,
      until: until.querySelector("input").value,
    }),
  };
}

/** Every date of a dry run's answer, in order: kept ones, and refused ones with why. */
export function datesOf(answer) {
  const kept = (answer.occurrences || []).map((o) => ({ booking: o, refused: null }));
  const refused = (answer.skipped || []).map((s) => ({ booking: null, refused: s }));
  const start = (d) => Date.parse(d.booking ? d.booking.event_time : d.refused.event_time);
  return [...kept, ...refused].sort((a, b) => start(a) - start(b));
}

/** The dates as a list: each bookable one plainly, each refused one marked with its reason. */
export function datesList(dates, duration) {
  const at = (iso) => {
    const end = new Date(Date.parse(iso) + duration * 60 * 1000).toISOString();
    return span({ event_time: iso, end_time: end });
  };
  return h(
    "ol",
    { class: "dates", id: "series-dates" },
    dates.map(({ booking, refused }) =>
      refused
        ? h(
            "li",
            { class: "date refused", "data-refused": "" },
            h("span", { class: "badge badge-rejected" }, "conflict"),
            ` ${at(refused.event_time)} — ${refused.reason}`,
            refused.conflicts?.length ? ` (in the way: ${refused.conflicts.map((id) => `#${id}`).join(", ")})` : "",
          )
        : h("li", { class: "date" }, h("span", { class: "badge badge-accepted" }, "free"), ` ${span(booking)}`),
    ),
  );
}
