// A series of requests: its dates with their status, and deciding them all at once.

import * as api from "../api.js";
import { alertSlot, append, badge, button, clearErrors, field, h, heading, showProblem, toast } from "../dom.js";
import { datesList, datesOf } from "../repeat.js";
import { decides } from "../rules.js";
import { span, when } from "../time.js";
import { resourceNames } from "./requests.js";

const OPEN = ["pending", "accepted"];

export async function page(main, params) {
  const id = Number(params.get("id"));
  main.append(heading(`Series #${params.get("id") || "?"}`));
  if (!Number.isInteger(id) || id < 1) {
    main.append(h("p", { class: "form-error", role: "alert" }, "No series is named in the address."));
    return;
  }
  const [series, resources] = await Promise.all([api.get(`/series/${id}`), resourceNames()]);
  main.append(view(series, resources));
}

function view(series, resources) {
  const me = api.user();
  const resource = resources.get(series.resource_id);
  const counts = {};
  for (const o of series.occurrences) counts[o.status] = (counts[o.status] || 0) + 1;
  const minutes = series.occurrences[0]?.duration_minutes || 0;
  const box = h("div", { class: "series", id: "series", "data-id": series.id, "data-minutes": minutes });
  const error = alertSlot("action-error");
  const redraw = (fresh) => {
    const next = view(fresh, resources);
    box.replaceWith(next);
    next.querySelector("h2")?.focus();
  };
  const deciding = decides(me, resource);
  const pending = counts.pending || 0;
  const open = OPEN.reduce((n, s) => n + (counts[s] || 0), 0);
  const actions = h("div", { class: "actions" });
  if (deciding && pending) {
    actions.append(...acceptAll(series, box, redraw), ...decideAll("Reject all", "reject", series, box, redraw));
  }
  if ((deciding || series.requested_by.id === me.id) && open) {
    actions.append(...decideAll("Cancel all", "cancel", series, box, redraw));
  }
  append(box, [
    h(
      "dl",
      { class: "facts card" },
      h("dt", {}, "Resource"),
      h("dd", {}, resource ? resource.name : `#${series.resource_id}`),
      h("dt", {}, "Rule"),
      h("dd", {}, h("code", {}, series.rrule), ` (${series.time_zone})`),
      h("dt", {}, "Requested by"),
      h("dd", {}, series.requested_by.username),
      h("dt", {}, "Submitted"),
      h("dd", {}, when(series.created_at)),
      h("dt", {}, "Dates"),
      h(
        "dd",
        { id: "series-counts" },
        Object.entries(counts)
          .map(([status, n]) => `${n} ${status}`)
          .join(", ") || "none",
      ),
    ),
    actions,
    error,
    h("h2", { tabindex: "-1" }, "Dates"),
    h(
      "ol",
      { class: "plain cards", id: "series-occurrences" },
      series.occurrences.map((o) =>
        h(
          "li",
          { class: "card row occurrence", "data-id": o.id, "data-status": o.status },
          h("span", {}, `#${o.id} ${span(o)}`),
          badge(o.status),
          o.reason ? h("span", { class: "muted" }, `“${o.reason}”`) : null,
        ),
      ),
    ),
    series.skipped?.length
      ? [h("h2", {}, "Left out when submitted"), datesList(datesOf({ skipped: series.skipped }), minutes)]
      : null,
  ]);
  return box;
}

/** "Accept all", optionally rejecting the dates something accepted is in the way of. */
function acceptAll(series, box, redraw) {
  const skip = h("input", { type: "checkbox", id: "reject-conflicting" });
  const accept = button("Accept all", { class: "primary" });
  accept.addEventListener("click", () =>
    act(box, accept, "accept", { id: series.id, on_conflict: skip.checked ? "skip" : "fail" }, redraw),
  );
  return [
    accept,
    h("span", { class: "check" }, skip, h("label", { for: "reject-conflicting" }, "Reject the dates that conflict")),
  ];
}

/** A button opening a small form for an optional reason, then `/<verb>_series`. */
function decideAll(label, verb, series, box, redraw) {
  const opener = button(label, { class: "danger", "aria-expanded": "false" });
  const form = h(
    "form",
    { class: "inline", hidden: true, novalidate: true },
    field("Reason", "reason", { maxlength: 500 }, { optional: true }),
    h("button", { type: "submit", class: "danger" }, label),
    button("Never mind", { onclick: () => toggle(false) }),
  );
  const toggle = (show) => {
    form.hidden = !show;
    opener.setAttribute("aria-expanded", String(show));
    if (show) form.querySelector("input").focus();
    else opener.focus();
  };
  opener.addEventListener("click", () => toggle(form.hidden));
  form.addEventListener("keydown", (event) => {
    if (event.key === "Escape") toggle(false);
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const reason = form.elements.reason.value.trim();
    act(
      box,
      form.querySelector("button[type=submit]"),
      verb,
      reason ? { id: series.id, reason } : { id: series.id },
      redraw,
    );
  });
  return [opener, form];
}

async function act(box, control, verb, body, redraw) {
  clearErrors(box);
  control.disabled = true;
  try {
    const fresh = await api.post(`/${verb}_series`, body);
    toast(`Series #${fresh.id}: ${verb === "accept" ? "accepted" : verb === "reject" ? "rejected" : "cancelled"}.`);
    redraw(fresh);
  } catch (problem) {
    control.disabled = false;
    if (!problem.problem) throw problem;
    showProblem(box, problem);
    const listed = problem.problem.occurrences;
    if (listed?.length) {
      const minutes = Number(box.dataset.minutes) || 0;
      box.querySelector("#series-dates")?.remove();
      box.querySelector(".action-error").after(datesList(datesOf({ skipped: listed }), minutes));
    }
  }
}
