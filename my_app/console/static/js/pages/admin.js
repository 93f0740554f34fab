// The deciders' side: the pending queue with overlaps (admins and approvers); resources and users (admins).

import * as api from "../api.js";
import {
  alertSlot,
  append,
  badge,
  button,
  clearErrors,
  field,
  h,
  heading,
  onSubmit,
  select,
  showProblem,
  toast,
} from "../dom.js";
import { go } from "../router.js";
import { MAX_DURATION_DAYS, overlaps, span, when } from "../time.js";
import { bookingCard, reasonAction, resourceNames } from "./requests.js";

const DAY_MS = 24 * 60 * 60 * 1000;

/** Accepted requests of `resourceId` that could touch [from, to): any longer one starts within a week before. */
export async function acceptedAround(resourceId, from, to) {
  return api.all("/list_requests", "bookings", {
    status: "accepted",
    resource_id: resourceId,
    from: new Date(from.getTime() - MAX_DURATION_DAYS * DAY_MS).toISOString(),
    to: to.toISOString(),
  });
}

export async function queue(main) {
  main.append(
    heading("Pending queue"),
    h("p", { class: "muted" }, "Oldest first. Each request shows the accepted requests it would overlap."),
  );
  const [resources, pending] = await Promise.all([
    resourceNames(),
    api.all("/list_requests", "bookings", { status: "pending" }),
  ]);
  pending.sort((a, b) => a.created_at.localeCompare(b.created_at) || a.id - b.id);
  const accepted = new Map();
  for (const id of new Set(pending.map((b) => b.resource_id))) {
    const mine = pending.filter((b) => b.resource_id === id);
    const from = new Date(Math.min(...mine.map((b) => Date.parse(b.event_time))));
    const to = new Date(Math.max(...mine.map((b) => Date.parse(b.end_time))));
    accepted.set(id, await acceptedAround(id, from, to));
  }
  const list = h("ul", { class: "plain cards", id: "queue" });
  main.append(list);
  if (!pending.length) list.append(h("li", { class: "muted" }, "Nothing is waiting for a decision."));
  for (const booking of pending) {
    const conflicts = accepted.get(booking.resource_id).filter((a) => overlaps(a, booking));
    list.append(queueCard(booking, conflicts, resources, list));
  }
}

export async function accepted(main) {
  main.append(
    heading("Accepted requests"),
    h("p", { class: "muted" }, "Upcoming, soonest first. An accepted request can still be cancelled."),
  );
  const resources = await resourceNames();
  const list = h("ul", { class: "plain cards", id: "accepted" });
  const more = button("Show more", { hidden: true });
  main.append(list, more);
  const card = (booking) =>
    bookingCard(booking, resources, {
      actions: (item, error) =>
        reasonAction("Cancel", "cancel", booking, item, error, (updated) => {
          const fresh = bookingCard(updated, resources);
          item.replaceWith(fresh);
          fresh.querySelector("button").focus();
        }),
    });
  const from = new Date().toISOString();
  let cursor = null;
  const load = async () => {
    const page = await api.get("/list_requests", { status: "accepted", from, cursor, limit: 20 });
    list.append(...page.bookings.map(card));
    cursor = page.next_cursor;
    more.hidden = !cursor;
    if (!list.children.length) list.append(h("li", { class: "muted" }, "No upcoming accepted requests."));
  };
  more.addEventListener("click", load);
  await load();
}

function overlapBox(conflicts) {
  if (!conflicts.length) return h("p", { class: "overlap none" }, "No overlap with accepted requests.");
  return h(
    "div",
    { class: "overlap conflict" },
    h("p", {}, h("strong", {}, `Overlaps ${conflicts.length} accepted request${conflicts.length > 1 ? "s" : ""}:`)),
    h(
      "ul",
      {},
      conflicts.map((c) =>
        h("li", { "data-conflict-id": c.id }, `#${c.id} “${c.topic}”, ${span(c)}, by ${c.requested_by.username}`),
      ),
    ),
  );
}

/** Past its resource's approval deadline: the admins were told (escalate-requests). */
function overdueNote(booking, resource) {
  const hours = resource?.rules?.approval_deadline_hours;
  if (hours == null || Date.now() < Date.parse(booking.created_at) + hours * 3600 * 1000) return null;
  return h(
    "p",
    { class: "overlap conflict escalated" },
    h("strong", {}, "Escalated: "),
    `waiting longer than ${hours} h.`,
  );
}

function queueCard(booking, conflicts, resources, list) {
  const decided = (item) => (updated) => {
    const next = item.nextElementSibling || item.previousElementSibling;
    item.remove();
    (next?.querySelector("button") || document.querySelector("main h1"))?.focus();
    if (!list.querySelector("li.booking"))
      list.append(h("li", { class: "muted" }, "Nothing is waiting for a decision."));
    return updated;
  };
  return bookingCard(booking, resources, {
    extra: [overdueNote(booking, resources.get(booking.resource_id)), overlapBox(conflicts)],
    actions: (item, error) => {
      const accept = button("Accept", { class: "primary" });
      accept.addEventListener("click", async () => {
        clearErrors(item);
        accept.disabled = true;
        try {
          await api.post("/accept_request", { id: booking.id });
          toast(`Request #${booking.id} accepted.`);
          decided(item)();
        } catch (problem) {
          if (!problem.problem) throw problem;
          accept.disabled = false;
          showProblem(item, problem);
          error.focus();
        }
      });
      return [
        accept,
        ...reasonAction("Reject", "reject", booking, item, error, decided(item)),
        ...reasonAction("Cancel", "cancel", booking, item, error, decided(item)),
      ];
    },
  });
}

export async function resources(main) {
  const { resources: rows } = await api.get("/resources");
  const createForm = h(
    "form",
    { class: "card narrow", novalidate: true, "aria-labelledby": "new-resource" },
    h("h2", { id: "new-resource" }, "Add a resource"),
    field("Name", "name", { required: true, maxlength: 120 }),
    field("Description", "description", { maxlength: 500 }, { optional: true }),
    alertSlot(),
    h("button", { type: "submit", class: "primary" }, "Add resource"),
  );
  onSubmit(createForm, async ({ name, description }) => {
    const created = await api.post("/resources", description.trim() ? { name, description } : { name });
    toast(`Resource “${created.name}” added.`);
    go("/app/resources", { replace: true });
  });
  main.append(
    heading("Resources"),
    h("ul", { class: "plain cards", id: "resources" }, rows.map(resourceCard)),
    createForm,
  );
}

function resourceCard(resource) {
  const item = h("li", { class: "card", "data-id": resource.id });
  const error = alertSlot("action-error");
  const rename = h(
    "form",
    { class: "inline", hidden: true, novalidate: true },
    field("Name", "name", { required: true, value: resource.name }),
    field("Description", "description", { value: resource.description || "" }, { optional: true }),
    alertSlot(),
    h("button", { type: "submit", class: "primary" }, "Save"),
  );
  onSubmit(rename, async (body) => {
    const updated = await api.patch(`/resources/${resource.id}`, body);
    toast(`Saved “${updated.name}”.`);
    const fresh = resourceCard(updated);
    item.replaceWith(fresh);
    fresh.querySelector("button").focus();
  });
  const edit = button("Rename", { "aria-expanded": "false" });
  edit.addEventListener("click", () => {
    rename.hidden = !rename.hidden;
    edit.setAttribute("aria-expanded", String(!rename.hidden));
    if (!rename.hidden) rename.querySelector("input").focus();
  });
  const activate = button(resource.active ? "Deactivate" : "Reactivate", { class: resource.active ? "danger" : "" });
  activate.addEventListener("click", async () => {
    clearErrors(item);
    try {
      const updated = await api.patch(`/resources/${resource.id}`, { active: !resource.active });
      toast(`“${updated.name}” is now ${updated.active ? "active" : "inactive"}.`);
      const fresh = resourceCard(updated);
      item.replaceWith(fresh);
      fresh.querySelector("button").focus();
    } catch (problem) {
      if (!problem.problem) throw problem;
      showProblem(item, problem);
    }
  });
  let feed = null;
  if (resource.calendar_url) {
    const feedId = `feed-${resource.id}`;
    const input = h("input", { id: feedId, readonly: true, value: resource.calendar_url, class: "feed" });
    const copy = button("Copy feed link");
    copy.addEventListener("click", async () => {
      input.select();
      try {
        await navigator.clipboard.writeText(resource.calendar_url);
        toast("Calendar feed link copied.");
      } catch {
        toast("Press Ctrl+C (⌘C) to copy the selected link.");
      }
    });
    feed = h(
      "div",
      { class: "field" },
      h("label", { for: feedId }, "Calendar feed (subscribe in a calendar app; keep it secret)"),
      h("div", { class: "pair-tight" }, input, copy),
    );
  }
  append(item, [
    h(
      "div",
      { class: "booking-head" },
      h("h2", {}, resource.name),
      resource.active ? badge("active") : badge("inactive"),
    ),
    resource.description ? h("p", {}, resource.description) : null,
    h("p", { class: "muted" }, `Resource #${resource.id}`),
    feed,
    h(
      "div",
      { class: "actions" },
      edit,
      activate,
      h("a", { class: "button", href: `/app/resource?id=${resource.id}` }, "Rules, approvers, blackouts"),
      h("a", { class: "button", href: `/app/calendar?resource=${resource.id}` }, "Week calendar"),
    ),
    rename,
    error,
  ]);
  return item;
}

export async function users(main, params) {
  const role = params.get("role") || "";
  const status = params.get("status") || "";
  const roleFilter = select(
    [
      ["", "Any role"],
      ["admin", "Admins"],
      ["requester", "Requesters"],
    ],
    { value: role },
  );
  const statusFilter = select(
    [
      ["", "Any status"],
      ["active", "Active"],
      ["disabled", "Disabled"],
    ],
    { value: status },
  );
  const filters = h(
    "form",
    { class: "toolbar" },
    field("Role", "role", {}, { control: roleFilter }),
    field("Status", "status", {}, { control: statusFilter }),
    h("button", { type: "submit" }, "Show"),
  );
  filters.addEventListener("submit", (e) => {
    e.preventDefault();
    const q = new URLSearchParams();
    if (roleFilter.value) q.set("role", roleFilter.value);
    if (statusFilter.value) q.set("status", statusFilter.value);
    go(`/app/users${q.size ? `?${q}` : ""}`);
  });
  const list = h("ul", { class: "plain cards", id: "users" });
  const more = button("Show more", { hidden: true });
  main.append(heading("Users"), filters, list, more);
  let cursor = null;
  const load = async () => {
    const page = await api.get("/users", { role, status, cursor, limit: 50 });
    list.append(...page.users.map(userCard));
    cursor = page.next_cursor;
    more.hidden = !cursor;
  };
  more.addEventListener("click", load);
  await load();
}

function userCard(account) {
  const item = h("li", { class: "card row", "data-id": account.id });
  const error = alertSlot("action-error");
  const change = (label, body, cls = "") => {
    const b = button(label, { class: cls, "aria-label": `${label}: ${account.username}` });
    b.addEventListener("click", async () => {
      clearErrors(item);
      try {
        const updated = await api.patch(`/user/${account.id}`, body);
        toast(`${updated.username} is now ${updated.role}, ${updated.status}.`);
        const fresh = userCard(updated);
        item.replaceWith(fresh);
        fresh.querySelector("button").focus();
      } catch (problem) {
        if (!problem.problem) throw problem;
        showProblem(item, problem);
      }
    });
    return b;
  };
  append(item, [
    h(
      "div",
      {},
      h("strong", {}, account.username),
      " ",
      badge(account.role),
      " ",
      badge(account.status),
      account.confirmed ? null : [" ", badge("unconfirmed")],
      h("div", { class: "muted" }, `${account.email} · since ${when(account.created_at)}`),
      error,
    ),
    h(
      "div",
      { class: "actions" },
      account.role === "admin"
        ? change("Make requester", { role: "requester" })
        : change("Make admin", { role: "admin" }),
      account.status === "active"
        ? change("Disable", { status: "disabled" }, "danger")
        : change("Enable", { status: "active" }),
    ),
  ]);
  return item;
}
