// Times: picked and shown in the browser's time zone, sent with its UTC offset.

const two = (n) => String(n).padStart(2, "0");

export const zone = () => Intl.DateTimeFormat().resolvedOptions().timeZone;

/** "2027-03-01T15:00" (a datetime-local value) → "2027-03-01T15:00:00+01:00". */
export function withOffset(localValue) {
  const date = new Date(localValue);
  if (!localValue || Number.isNaN(date.getTime())) return localValue;
  return isoLocal(date);
}

export function isoLocal(date) {
  const offset = -date.getTimezoneOffset();
  const sign = offset >= 0 ? "+" : "-";
  const abs = Math.abs(offset);
  return (
    `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())}` +
    `T${two(date.getHours())}:${two(date.getMinutes())}:00${sign}${two(Math.floor(abs / 60))}:${two(abs % 60)}`
  );
}

/** A datetime-local value for `date` (for the picker's `min`). */
export function pickerValue(date) {
  return isoLocal(date).slice(0, 16);
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const timeOnly = new Intl.DateTimeFormat(undefined, { timeStyle: "short" });
const dayName = new Intl.DateTimeFormat(undefined, { weekday: "short", day: "numeric", month: "short" });

export const when = (iso) => (iso ? dateTime.format(new Date(iso)) : "");
export const clock = (date) => timeOnly.format(date);
export const day = (date) => dayName.format(date);
export const longDate = (date) => new Intl.DateTimeFormat(undefined, { dateStyle: "long" }).format(date);

export function span(booking) {
  const start = new Date(booking.event_time);
  const end = new Date(booking.end_time);
  const sameDay = start.toDateString() === end.toDateString();
  return `${dateTime.format(start)} – ${sameDay ? timeOnly.format(end) : dateTime.format(end)}`;
}

/** Half-open intervals [start, end) overlap. */
export function overlaps(a, b) {
  return new Date(a.event_time) < new Date(b.end_time) && new Date(b.event_time) < new Date(a.end_time);
}

export function startOfWeek(date) {
  const d = new Date(date.getFullYear(), date.getMonth(), date.getDate());
  d.setDate(d.getDate() - ((d.getDay() + 6) % 7)); // Monday
  return d;
}

export function addDays(date, days) {
  const d = new Date(date);
  d.setDate(d.getDate() + days);
  return d;
}

export function dateKey(date) {
  return `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())}`;
}

export function fromDateKey(key) {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(key || "");
  return match ? new Date(Number(match[1]), Number(match[2]) - 1, Number(match[3])) : null;
}

export const MAX_DURATION_DAYS = 7; // duration_minutes is at most 10080
