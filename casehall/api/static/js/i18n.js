// Labels from ONE catalogue: casehall/locale/<lang>/LC_MESSAGES/ui.po, served as JSON by /ui/i18n/<lang>.json.
// Plain strings are keyed by their English text; enumerations by "context|value" (status|registered).

export const LANGUAGES = ["zh-CN", "en"];
let messages = {};
let lang = "zh-CN";
let timeZone = "Asia/Shanghai";

export async function loadLanguage(wanted) {
  const code = LANGUAGES.includes(wanted) ? wanted : "zh-CN";
  const r = await fetch(`/ui/i18n/${code}.json`);
  if (!r.ok) throw new Error(`language ${code}: HTTP ${r.status}`);
  messages = (await r.json()).messages;
  lang = code;
  document.documentElement.lang = code;
}

export const currentLanguage = () => lang;
export function setTimeZone(tz) { timeZone = tz || timeZone; }

/** A label; {name} placeholders are filled from params. */
export function t(key, params) {
  let text = messages[key] ?? key;
  if (params) text = text.replace(/\{(\w+)\}/g, (m, k) => (params[k] ?? m));
  return text;
}

/** The label of an enumerated value (a status, an event type, a role...), the raw value when unknown. */
export function label(context, value) {
  if (value === null || value === undefined || value === "") return "";
  return messages[`${context}|${value}`] ?? String(value);
}

/** A moment in the hall's time zone, formatted for the language. */
export function when(iso, withSeconds = false) {
  if (!iso) return "";
  const opts = {timeZone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
                hour12: false};
  if (withSeconds) opts.second = "2-digit";
  return new Intl.DateTimeFormat(lang, opts).format(new Date(iso));
}

/** A length of time: "2 d 3 h", "45 min". */
export function duration(seconds) {
  const s = Math.abs(seconds);
  const days = Math.floor(s / 86400), hours = Math.floor((s % 86400) / 3600), minutes = Math.floor((s % 3600) / 60);
  if (days) return t("{days} d {hours} h", {days, hours});
  if (hours) return t("{hours} h {minutes} min", {hours, minutes});
  return t("{minutes} min", {minutes});
}

/** The local wall-clock value of a datetime-local input, as an ISO moment in the hall's time zone. */
export function localInputToIso(value, endOfSecond = false) {
  if (!value) return null;
  let local = value.length === 16 ? `${value}:00` : value;
  if (endOfSecond && local.length === 19) local += ".999";  // "as of 10:15:42" includes what happened in it
  // The hall is Asia/Shanghai (UTC+8, no daylight saving); other zones fall back to the browser's.
  if (timeZone === "Asia/Shanghai") return `${local}+08:00`;
  return new Date(local).toISOString();
}
