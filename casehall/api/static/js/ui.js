// Small DOM helpers shared by every screen: escaping, dialogs, time-left lights, documents, shared look-ups.
import { api } from "./api.js";
import { duration, label, t, when } from "./i18n.js";

export const $ = (selector, root = document) => root.querySelector(selector);
export const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];
export const esc = (s) => String(s ?? "").replace(/[&<>"']/g,
  (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));

export const FINAL = ["closed", "rejected"];
const CLOCK_RUNNING = ["in_handling", "veto_requested", "in_consultation", "supplement_overdue"];

// ---- shared look-ups, loaded once per sign-in (a logout reloads the page, which forgets them) ----------------
export const store = {config: {warn_share: 0.75, idle_seconds: 900, refresh_seconds: 30}, me: null, items: [],
                      departments: [], colleagues: null};

/** The service items, withdrawn ones included (their cases still name them). */
export async function loadCatalogue() {
  store.items = await api("/items");
  return store.items;
}
export const itemOf = (code) => store.items.find((i) => i.code === code);
export const itemName = (code) => { const i = itemOf(code); return i ? `${i.name}` : code; };
export const departmentName = (code) => store.departments.find((d) => d.code === code)?.name || code;
export async function colleagues() {
  if (store.colleagues === null) store.colleagues = await api("/ui/colleagues");
  return store.colleagues;
}
export function userName(id) {
  const u = (store.colleagues || []).find((c) => c.user_id === id);
  return u ? `${u.display_name} (${u.username})` : (id ? `#${id}` : "");
}

// ---- time left: a traffic light ---------------------------------------------------------------------------
/**
 * green: time left; yellow: more than the configured share of the time used; red: overdue; paused: the legal
 * clock waits for supplements; none: no running clock.
 */
export function light(start, due, {paused = false, running = true, now = Date.now()} = {}) {
  if (paused) return {cls: "paused", text: t("Clock paused"), rank: 3};
  if (!due || !running) return {cls: "none", text: due ? when(due) : "", rank: 4};
  const end = new Date(due).getTime(), begin = start ? new Date(start).getTime() : end;
  const left = (end - now) / 1000;
  if (left < 0) return {cls: "red", text: t("Overdue by {d}", {d: duration(-left)}), rank: 0};
  const used = end > begin ? (now - begin) / (end - begin) : 1;
  const cls = used >= store.config.warn_share ? "yellow" : "green";
  return {cls, text: t("{d} left", {d: duration(left)}), rank: cls === "yellow" ? 1 : 2};
}
export function caseLight(c) {
  return light(c.registered_at, c.deadline, {paused: c.clock_paused && !FINAL.includes(c.status),
                                             running: CLOCK_RUNNING.includes(c.status) && !c.clock_paused});
}
export const lightHtml = (l) => !l.text ? "" : `<span class="light ${l.cls}" title="${esc(l.text)}"><i></i>${esc(l.text)}</span>`;
export const statusBadge = (status) => `<span class="badge st-${esc(status)}">${esc(label("status", status))}</span>`;

// ---- messages ----------------------------------------------------------------------------------------------
export function flash(container, message, kind = "ok") {
  container.innerHTML = message ? `<div class="flash ${kind}" role="${kind === "error" ? "alert" : "status"}">
    ${esc(message)}</div>` : "";
}

// ---- dialogs -----------------------------------------------------------------------------------------------
function fieldHtml(f) {
  const id = `f-${f.name}`;
  const req = f.required ? "required" : "";
  const hint = f.hint ? `<small class="muted">${esc(f.hint)}</small>` : "";
  switch (f.type) {
    case "textarea":
      return `<label for="${id}">${esc(f.label)}${f.required ? " *" : ""}</label>
        <textarea id="${id}" name="${f.name}" rows="${f.rows || 3}" ${req}
          maxlength="4000">${esc(f.value ?? "")}</textarea>${hint}`;
    case "select":
      return `<label for="${id}">${esc(f.label)}</label><select id="${id}" name="${f.name}" ${req}>
        ${f.options.map(([v, l]) => `<option value="${esc(v)}" ${v === f.value ? "selected" : ""}>${esc(l)}</option>`)
          .join("")}</select>${hint}`;
    case "radio":
      return `<fieldset><legend>${esc(f.label)}${f.required ? " *" : ""}</legend>${f.options.map(([v, l], i) =>
        `<label class="choice"><input type="radio" name="${f.name}" value="${esc(v)}"
          ${(f.value ?? (f.required ? null : "")) === v ? "checked" : ""} ${req && i === 0 ? "required" : ""}>
          ${esc(l)}</label>`).join("")}</fieldset>${hint}`;
    case "checkboxes":
      return `<fieldset><legend>${esc(f.label)}</legend>${f.options.map(([v, l]) =>
        `<label class="choice"><input type="checkbox" name="${f.name}" value="${esc(v)}"
          ${(f.value || []).includes(v) ? "checked" : ""}> ${esc(l)}</label>`).join("")}</fieldset>${hint}`;
    case "html":
      return f.html;
    default:
      return `<label for="${id}">${esc(f.label)}${f.required ? " *" : ""}</label>
        <input id="${id}" name="${f.name}" type="${f.type || "text"}" value="${esc(f.value ?? "")}" ${req}
          ${f.min !== undefined ? `min="${f.min}"` : ""} ${f.max !== undefined ? `max="${f.max}"` : ""}
          ${f.list ? `list="${f.list}"` : ""}>${hint}`;
  }
}

/**
 * A modal form. ``onSubmit(values)`` runs the action; the dialog closes when it succeeds and shows the error
 * (keeping what was typed) when it fails. Resolves with the action's result, or null when cancelled.
 */
export function formDialog({title, intro = "", fields = [], submit, danger = false, onSubmit, onChange}) {
  return new Promise((resolve) => {
    const dlg = document.createElement("dialog");
    dlg.className = "form-dialog";
    dlg.innerHTML = `<form method="dialog" novalidate>
      <h2>${esc(title)}</h2>${intro}
      ${fields.map((f) => `<div class="field" data-field="${f.name || ""}">${fieldHtml(f)}</div>`).join("")}
      <div class="dialog-error" role="alert"></div>
      <div class="actions">
        <button type="button" class="secondary" data-cancel>${esc(t("Cancel"))}</button>
        <button type="submit" class="${danger ? "danger" : ""}" data-submit>${esc(submit || t("Save"))}</button>
      </div></form>`;
    document.body.append(dlg);
    const form = dlg.querySelector("form");
    const finish = (value) => { dlg.close(); dlg.remove(); resolve(value); };
    const values = () => {
      const out = {};
      for (const f of fields) {
        if (!f.name) continue;
        if (f.type === "checkboxes") out[f.name] = $$(`input[name="${f.name}"]:checked`, form).map((x) => x.value);
        else if (f.type === "radio") out[f.name] = $(`input[name="${f.name}"]:checked`, form)?.value ?? "";
        else out[f.name] = form.elements[f.name]?.value ?? "";
      }
      return out;
    };
    if (onChange) { form.addEventListener("change", () => onChange(values(), form)); onChange(values(), form); }
    dlg.querySelector("[data-cancel]").onclick = () => finish(null);
    dlg.addEventListener("cancel", (ev) => { ev.preventDefault(); finish(null); });
    form.onsubmit = async (ev) => {
      ev.preventDefault();
      const err = dlg.querySelector(".dialog-error");
      err.textContent = "";
      const missing = fields.filter((f) => f.required && !f.hidden &&
        !form.querySelector(`[data-field="${f.name}"]`)?.hidden && !String(values()[f.name] ?? "").trim());
      if (missing.length) {
        err.textContent = t("Please fill in: {fields}", {fields: missing.map((f) => f.label).join(", ")});
        return;
      }
      const button = dlg.querySelector("[data-submit]");
      button.disabled = true;
      try {
        finish(await onSubmit(values()) ?? true);
      } catch (e) {
        err.textContent = e.message;
        button.disabled = false;
      }
    };
    dlg.showModal();
    (form.querySelector("textarea, input:not([type=radio]):not([type=checkbox]), select") ||
     dlg.querySelector("[data-submit]")).focus();
  });
}

// ---- documents: fetched with the token, opened in a new tab for printing --------------------------------------
export async function openDocument(path) {
  const win = window.open("", "_blank");
  try {
    const blob = await api(path, {raw: true});
    const url = URL.createObjectURL(new Blob([blob], {type: "application/pdf"}));
    if (win) win.location.href = url; else window.location.assign(url);
    setTimeout(() => URL.revokeObjectURL(url), 120_000);
  } catch (e) {
    if (win) win.close();
    throw e;
  }
}

/** Save an API answer (JSON or CSV) as a file. */
export async function download(path, filename) {
  const blob = await api(path, {raw: true});
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url; a.download = filename; document.body.append(a); a.click(); a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** How many cases a list holds as the API counted them (``GET /cases``): exactly, "more than" the count's cap (a
 * text search stops counting at 200), or about the planner's estimate. */
export function casesCountText(page) {
  if (page.total_exact) return t("{n} cases", {n: page.total});
  if (page.more_than != null && page.total <= page.more_than + 1) return t("More than {n} cases", {n: page.more_than});
  return t("About {n} cases", {n: page.total});
}

// ---- pages and the administrators' change logs (the admin screens and the auditor's) ----------------------------
/** "1-20 of 45" with Previous / Next under a page {total, offset, limit, items}; ``onMove(offset)`` loads another. */
export function pager(page, onMove) {
  const from = page.total ? page.offset + 1 : 0, to = page.offset + page.items.length;
  const html = `<div class="actions pager"><span class="muted">${esc(t("{from}-{to} of {total}",
      {from, to, total: page.total}))}</span>
    <button type="button" class="secondary" data-move="-1" ${page.offset > 0 ? "" : "disabled"}>${esc(t("Previous"))}</button>
    <button type="button" class="secondary" data-move="1" ${to < page.total ? "" : "disabled"}>${esc(t("Next"))}</button></div>`;
  return {html, wire: (root) => $$("[data-move]", root).forEach((b) => {
    b.onclick = () => onMove(Math.max(0, page.offset + Number(b.dataset.move) * page.limit));
  })};
}

/** The kinds of account change (``GET /admin/changes?action=``) and their words. */
export const ACCOUNT_ACTIONS = ["create", "update", "disable", "enable", "reset_password", "unlock"];
export const accountActionText = (a) => ({create: t("Created"), update: t("Edited"), disable: t("Disabled"),
  enable: t("Enabled"), reset_password: t("Password reset"), unlock: t("Lock lifted")}[a] || a);
const accountFieldText = (k) => ({display_name: t("Name"), title: t("Title"), role: t("Role"),
  department_code: t("Department"), active: t("Active"), password: t("Password"), sessions_ended: t("Sessions ended"),
  lock_lifted: t("Lock lifted")}[k] || k);

function accountValueText(key, value) {
  if (value === true) return t("yes");
  if (value === false) return t("no");
  if (key === "role") return label("role", value);
  if (key === "department_code") return departmentName(value);
  if (key === "password") return t("changed");
  return String(value ?? "");
}

/** An account change in words: "Active: yes → no; Sessions ended: yes" (a password only as changed). */
export function accountChangeText(change) {
  const c = change.changes || {};
  if (change.action === "unlock") return `${c.scope === "user" ? t("Username") : t("Address")} ${c.subject ?? ""}`;
  return Object.entries(c).map(([k, v]) => Array.isArray(v)
    ? `${accountFieldText(k)}: ${accountValueText(k, v[0]) || "—"} → ${accountValueText(k, v[1]) || "—"}`
    : `${accountFieldText(k)}: ${accountValueText(k, v)}`).join("; ");
}

/** The rules of a service item: [field, label, min, max] of casehall.models.catalogue.RulesIn. */
export const ITEM_RULES = [
  ["veto_reminder_days", () => t("Veto: remind the manager after (working days)"), 1, 30],
  ["veto_escalation_days", () => t("Veto: hand over to the director after (working days)"), 1, 60],
  ["supplement_days", () => t("Supplement time (working days)"), 1, 60],
  ["supplement_reminder_days", () => t("Supplement: remind before the deadline (working days)"), 0, 30],
  ["callback_calendar_days", () => t("Callback: default rating after (calendar days)"), 1, 30],
  ["rectification_days", () => t("Rectification time (working days)"), 1, 60],
];
const RULE_LABEL = Object.fromEntries(ITEM_RULES.map(([key, text]) => [key, text]));
const sorted = (v) => (Array.isArray(v) ? v.map(sorted) : v && typeof v === "object"
  ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sorted(v[k])])) : v);
/** Equal as data (objects compared whatever the order of their keys). */
export const same = (a, b) => JSON.stringify(sorted(a)) === JSON.stringify(sorted(b));

function catalogueValue(key, v) {
  if (v === null || v === undefined || v === "") return "—";
  if (typeof v === "boolean") return v ? t("yes") : t("no");
  if (key === "withdrawn_at") return when(v);
  if (key === "kind") return label("dkind", v);
  return String(v);
}

/** One field's change, readable: materials added, removed or changed by name; rules one by one; values as such. */
function catalogueFieldChange(key, was, now) {
  if (key === "materials") {
    const names = (list) => new Map((list || []).map((m) => [m.name, m]));
    const a = names(was), b = names(now);
    const main = (m) => (m.main ? t("main") : t("secondary"));
    const parts = [...[...b.keys()].filter((n) => !a.has(n)).map((n) => `+ ${n}（${main(b.get(n))}）`),
                   ...[...a.keys()].filter((n) => !b.has(n)).map((n) => `− ${n}`),
                   ...[...b.keys()].filter((n) => a.has(n) && !same(a.get(n), b.get(n))).map((n) => `~ ${n}`)];
    return parts.join("；") || t("order changed");
  }
  if (key === "rules") {
    return Object.keys({...was, ...now}).filter((k) => !same(was?.[k], now?.[k]))
      .map((k) => `${RULE_LABEL[k] ? RULE_LABEL[k]() : t("Default rating")}: ${
        k === "default_rating" ? label("grade", was?.[k]) : was?.[k] ?? "—"} → ${
        k === "default_rating" ? label("grade", now?.[k]) : now?.[k] ?? "—"}`).join("；");
  }
  return `${catalogueValue(key, was)} → ${catalogueValue(key, now)}`;
}

// What a created (or deleted) department or item was: its main facts, not every field.
const SNAPSHOT_FIELDS = ["name", "kind", "parent_code", "department_code", "time_limit_days", "expedited_days"];

/** A catalogue change as HTML lines: each field changed as before → after; a creation or deletion by its facts. */
export function catalogueDifferences(before, after) {
  const line = (k, text) => `<div><b>${esc(label("cfield", k))}</b>: ${esc(text)}</div>`;
  if (!before || !after) {
    const one = before || after;
    if (!one) return "";
    return SNAPSHOT_FIELDS.filter((k) => one[k] !== undefined && one[k] !== null && one[k] !== "")
      .map((k) => line(k, catalogueValue(k, one[k]))).join("")
      + (one.materials?.length ? line("materials", one.materials.map((m) => m.name).join("、")) : "");
  }
  return Object.keys({...before, ...after}).filter((k) => !same(before[k], after[k]))
    .map((k) => line(k, catalogueFieldChange(k, before[k], after[k]))).join("");
}
