// User administration (administrators): the accounts with filters and pages, create, edit, disable / enable and
// password reset; the sign-in locks with an unlock button; the sign-in log; the log of account changes. The API
// checks every rule again (casehall.workflows.access); this screen only offers what an administrator may do.
import { api, post } from "./api.js";
import { label, t, when } from "./i18n.js";
import {
  $, $$, ACCOUNT_ACTIONS as ACTIONS, accountActionText as actionText, accountChangeText as changesText,
  departmentName, esc, flash, formDialog, pager, store,
} from "./ui.js";

export const ROLES = ["clerk", "manager", "director", "auditor", "admin"];
const OUTCOMES = ["ok", "wrong_password", "unknown_user", "disabled", "locked", "logout", "idle"];
const PAGE = 20;
const state = {view: "users", users: {q: "", role: "", department: "", active: "", offset: 0},
               signIns: {username: "", outcome: "", offset: 0}, changes: {target: "", action: "", offset: 0}};

const VIEWS = () => [["users", t("Account list")], ["locks", t("Sign-in locks")], ["sign-ins", t("Sign-in log")],
                     ["changes", t("Account changes")]];

export function mount(root) {
  root.innerHTML = `<section class="pane admin-users" id="admin-users">
    <nav class="tabs" role="tablist" id="au-views">${VIEWS().map(([key, text]) => `<button type="button" role="tab"
      data-view="${key}" aria-selected="${key === state.view}">${esc(text)}</button>`).join("")}</nav>
    <div class="msg" id="au-msg"></div><div id="au-body"></div></section>`;
  $("#au-views").onclick = (ev) => {
    const view = ev.target.closest("button")?.dataset.view;
    if (!view) return;
    state.view = view;
    $$("#au-views button").forEach((b) => b.setAttribute("aria-selected", String(b.dataset.view === view)));
    flash($("#au-msg"), "");
    show();
  };
  show();
}

function show() {
  ({users, locks, "sign-ins": signIns, changes}[state.view] || users)();
}

const message = (text, kind = "ok") => { const box = $("#au-msg"); if (box) flash(box, text, kind); };
const guard = (promise) => promise.catch((e) => message(e.message, "error"));
const options = (pairs, selected) => pairs.map(([v, l]) => `<option value="${esc(v)}" ${v === selected ? "selected" : ""}>
  ${esc(l)}</option>`).join("");
// Every department (filters), or those in use plus ``keep`` (the account's own, even if taken out of use).
const departments = (keep) => store.departments.filter((d) => keep === undefined || d.active !== false || d.code === keep)
  .map((d) => [d.code, `${d.name} (${d.code})`]);
const roleOptions = () => ROLES.map((r) => [r, label("role", r)]);

// ---- accounts ------------------------------------------------------------------------------------------------
async function users() {
  const f = state.users;
  $("#au-body").innerHTML = `<form class="toolbar" id="au-filter">
      <input type="search" id="au-q" value="${esc(f.q)}" placeholder="${esc(t("Username or name"))}"
        aria-label="${esc(t("Username or name"))}" maxlength="100">
      <label>${esc(t("Role"))} <select id="au-role"><option value="">${esc(t("All"))}</option>
        ${options(roleOptions(), f.role)}</select></label>
      <label>${esc(t("Department"))} <select id="au-department"><option value="">${esc(t("All"))}</option>
        ${options(departments(), f.department)}</select></label>
      <label>${esc(t("Status"))} <select id="au-active"><option value="">${esc(t("All"))}</option>
        ${options([["true", t("Active")], ["false", t("Disabled")]], f.active)}</select></label>
      <button class="secondary">${esc(t("Search"))}</button>
      <button type="button" class="primary" id="au-new">${esc(t("New user"))}</button>
    </form><div id="au-users"></div>`;
  $("#au-filter").onsubmit = (ev) => {
    ev.preventDefault();
    Object.assign(f, {q: $("#au-q").value.trim(), role: $("#au-role").value, department: $("#au-department").value,
                      active: $("#au-active").value, offset: 0});
    guard(listUsers());
  };
  $("#au-new").onclick = () => guard(createUser());
  await guard(listUsers());
}

async function listUsers() {
  const f = state.users;
  const p = new URLSearchParams({offset: String(f.offset), limit: String(PAGE)});
  for (const key of ["q", "role", "department", "active"]) if (f[key]) p.set(key, f[key]);
  const page = await api(`/admin/users?${p}`);
  const box = $("#au-users");
  if (!box) return;  // another view was opened meanwhile
  const nav = pager(page, (offset) => { f.offset = offset; guard(listUsers()); });
  box.innerHTML = `<table class="grid" id="au-user-table"><thead><tr>
      <th>${esc(t("Username"))}</th><th>${esc(t("Name"))}</th><th>${esc(t("Role"))}</th><th>${esc(t("Department"))}</th>
      <th>${esc(t("Status"))}</th><th>${esc(t("Last sign-in"))}</th><th></th></tr></thead><tbody>
      ${page.items.map((u) => `<tr data-username="${esc(u.username)}">
        <td>${esc(u.username)}</td><td>${esc(u.display_name)}${u.title ? ` <span class="muted">${esc(u.title)}</span>` : ""}</td>
        <td>${esc(label("role", u.role))}</td><td>${esc(departmentName(u.department_code))}</td>
        <td>${u.active ? `<span class="badge st-closed">${esc(t("Active"))}</span>`
                       : `<span class="badge st-rejected">${esc(t("Disabled"))}</span>`}
          ${u.locked_until ? `<span class="badge warn" title="${esc(when(u.locked_until))}">${esc(t("Locked"))}</span>` : ""}</td>
        <td>${esc(when(u.last_sign_in)) || `<span class="muted">${esc(t("Never"))}</span>`}</td>
        <td class="row-actions"><button type="button" class="link" data-act="edit">${esc(t("Edit"))}</button>
          ${u.username === store.me.username ? "" : u.active
            ? `<button type="button" class="link" data-act="disable">${esc(t("Disable"))}</button>`
            : `<button type="button" class="link" data-act="enable">${esc(t("Enable"))}</button>`}
          <button type="button" class="link" data-act="password">${esc(t("Reset password"))}</button></td></tr>`).join("")}
      </tbody></table>${page.items.length ? "" : `<p class="muted">${esc(t("No users match."))}</p>`}${nav.html}`;
  nav.wire(box);
  $$("#au-user-table [data-act]").forEach((b) => {
    const user = page.items.find((u) => u.username === b.closest("tr").dataset.username);
    b.onclick = () => guard({edit: editUser, disable: disableUser, enable: enableUser, password: resetPassword}
      [b.dataset.act](user));
  });
}

const passwordHint = () => t("At least 10 characters mixing two kinds (lower case, upper case, digits, others), not containing the username.");

function samePasswords(values) {
  if (values.password !== values.again) throw new Error(t("The two passwords differ."));
}

async function createUser() {
  const done = await formDialog({
    title: t("New user"), submit: t("Create"),
    fields: [
      {name: "username", label: t("Username"), required: true,
       hint: t("2-32 lower-case letters, digits, '.', '_' or '-'; it cannot be changed later.")},
      {name: "display_name", label: t("Name"), required: true},
      {name: "title", label: t("Title (printed after the name on documents)")},
      {name: "role", label: t("Role"), type: "select", options: roleOptions(), value: "clerk"},
      {name: "department_code", label: t("Department"), type: "select", options: departments(""),
       value: store.me.department_code},
      {name: "password", label: t("Password"), type: "password", required: true, hint: passwordHint()},
      {name: "again", label: t("Password again"), type: "password", required: true},
    ],
    onSubmit: async (v) => {
      samePasswords(v);
      return post("/admin/users", {username: v.username.trim(), display_name: v.display_name, title: v.title,
                                   role: v.role, department_code: v.department_code, password: v.password});
    },
  });
  if (!done) return;
  message(t("User {name} created; they can log in now.", {name: done.username}));
  await listUsers();
}

async function editUser(user) {
  const self = user.username === store.me.username;
  const fields = [
    {name: "display_name", label: t("Name"), required: true, value: user.display_name},
    {name: "title", label: t("Title (printed after the name on documents)"), value: user.title},
    self || !ROLES.includes(user.role)
      ? {type: "html", html: `<p class="muted small">${esc(self ? t("You cannot change your own role.")
        : t("The role of a hotline account is not changed here."))}</p>`}
      : {name: "role", label: t("Role"), type: "select", options: roleOptions(), value: user.role},
    {name: "department_code", label: t("Department"), type: "select", options: departments(user.department_code),
     value: user.department_code},
  ];
  const done = await formDialog({
    title: t("Edit {name}", {name: `${user.display_name} (${user.username})`}), fields,
    onSubmit: (v) => {
      const changed = Object.fromEntries(["display_name", "title", "role", "department_code"]
        .filter((k) => k in v && v[k] !== user[k]).map((k) => [k, v[k]]));
      if (!Object.keys(changed).length) return user;
      return api(`/admin/users/${encodeURIComponent(user.username)}`, {method: "PATCH", body: changed});
    },
  });
  if (!done) return;
  message(t("Saved."));
  await listUsers();
}

async function disableUser(user) {
  const done = await formDialog({
    title: t("Disable {name}", {name: `${user.display_name} (${user.username})`}), danger: true,
    submit: t("Disable"),
    intro: `<p>${esc(t("They can no longer log in, and their open sessions end at once. Their cases and records stay."))}</p>`,
    onSubmit: () => post(`/admin/users/${encodeURIComponent(user.username)}/disable`),
  });
  if (!done) return;
  message(t("{name} is disabled; their sessions are ended.", {name: user.username}));
  await listUsers();
}

async function enableUser(user) {
  await post(`/admin/users/${encodeURIComponent(user.username)}/enable`);
  message(t("{name} is enabled again.", {name: user.username}));
  await listUsers();
}

async function resetPassword(user) {
  const done = await formDialog({
    title: t("Reset the password of {name}", {name: `${user.display_name} (${user.username})`}),
    intro: `<p class="muted">${esc(t("Their open sessions end and the lock on their name is lifted. Give them the new password in person."))}</p>`,
    fields: [{name: "password", label: t("New password"), type: "password", required: true, hint: passwordHint()},
             {name: "again", label: t("Password again"), type: "password", required: true}],
    onSubmit: (v) => {
      samePasswords(v);
      return post(`/admin/users/${encodeURIComponent(user.username)}/password`, {password: v.password});
    },
  });
  if (!done) return;
  message(t("New password set for {name}; their sessions are ended.", {name: user.username}));
  await listUsers();
}

// ---- locks ---------------------------------------------------------------------------------------------------
async function locks() {
  $("#au-body").innerHTML = `<p class="muted small">${esc(t("Too many failed log-ins lock a username or an address for a while. Lift a lock once the person is identified."))}</p>
    <div id="au-locks"></div>`;
  await guard(listLocks());
}

async function listLocks() {
  const found = await api("/admin/locks");
  const box = $("#au-locks");
  if (!box) return;
  box.innerHTML = found.length ? `<table class="grid" id="au-lock-table"><thead><tr>
      <th>${esc(t("Locked"))}</th><th></th><th>${esc(t("Until"))}</th><th></th></tr></thead><tbody>
      ${found.map((lk, i) => `<tr><td>${esc(lk.scope === "user" ? t("Username") : t("Address"))}</td>
        <td>${esc(lk.subject)}</td><td>${esc(when(lk.locked_until))}</td>
        <td><button type="button" class="secondary" data-unlock="${i}">${esc(t("Unlock"))}</button></td></tr>`).join("")}
      </tbody></table>` : `<p class="muted">${esc(t("No lock in force."))}</p>`;
  $$("[data-unlock]").forEach((b) => {
    const lk = found[Number(b.dataset.unlock)];
    b.onclick = () => guard((async () => {
      await api(`/admin/locks/${lk.scope}/${encodeURIComponent(lk.subject)}`, {method: "DELETE"});
      message(t("Unlocked {subject}.", {subject: lk.subject}));
      await listLocks();
    })());
  });
}

// ---- the sign-in log -----------------------------------------------------------------------------------------
const outcomeText = (o) => ({ok: t("Signed in"), wrong_password: t("Wrong password"), unknown_user: t("Unknown username"),
                             disabled: t("Account disabled"), locked: t("Refused: locked"), logout: t("Logged out"),
                             idle: t("Timed out (idle)")}[o] || o);

async function signIns() {
  const f = state.signIns;
  $("#au-body").innerHTML = `<form class="toolbar" id="au-log-filter">
      <input type="search" id="au-log-user" value="${esc(f.username)}" placeholder="${esc(t("Username"))}"
        aria-label="${esc(t("Username"))}" maxlength="64">
      <label>${esc(t("Outcome"))} <select id="au-log-outcome"><option value="">${esc(t("All"))}</option>
        ${options(OUTCOMES.map((o) => [o, outcomeText(o)]), f.outcome)}</select></label>
      <button class="secondary">${esc(t("Search"))}</button></form><div id="au-log"></div>`;
  $("#au-log-filter").onsubmit = (ev) => {
    ev.preventDefault();
    Object.assign(f, {username: $("#au-log-user").value.trim(), outcome: $("#au-log-outcome").value, offset: 0});
    guard(listSignIns());
  };
  await guard(listSignIns());
}

async function listSignIns() {
  const f = state.signIns;
  const p = new URLSearchParams({offset: String(f.offset), limit: String(PAGE)});
  if (f.username) p.set("username", f.username);
  if (f.outcome) p.set("outcome", f.outcome);
  const page = await api(`/admin/sign-ins?${p}`);
  const box = $("#au-log");
  if (!box) return;
  const nav = pager(page, (offset) => { f.offset = offset; guard(listSignIns()); });
  box.innerHTML = `<table class="grid" id="au-log-table"><thead><tr><th>${esc(t("Time"))}</th>
      <th>${esc(t("Username"))}</th><th>${esc(t("Outcome"))}</th><th>${esc(t("Address"))}</th></tr></thead><tbody>
      ${page.items.map((e) => `<tr class="${["ok", "logout"].includes(e.outcome) ? "" : "bad"}">
        <td>${esc(when(e.at, true))}</td><td>${esc(e.username)}</td><td>${esc(outcomeText(e.outcome))}</td>
        <td>${esc(e.address)}</td></tr>`).join("")}</tbody></table>
      ${page.items.length ? "" : `<p class="muted">${esc(t("No entries."))}</p>`}${nav.html}`;
  nav.wire(box);
}

// ---- the account changes -------------------------------------------------------------------------------------
async function changes() {
  const f = state.changes;
  $("#au-body").innerHTML = `<form class="toolbar" id="au-change-filter">
      <input type="search" id="au-change-target" value="${esc(f.target)}" placeholder="${esc(t("Username"))}"
        aria-label="${esc(t("Username"))}" maxlength="80">
      <label>${esc(t("Change"))} <select id="au-change-action"><option value="">${esc(t("All"))}</option>
        ${options(ACTIONS.map((a) => [a, actionText(a)]), f.action)}</select></label>
      <button class="secondary">${esc(t("Search"))}</button></form><div id="au-changes"></div>`;
  $("#au-change-filter").onsubmit = (ev) => {
    ev.preventDefault();
    Object.assign(f, {target: $("#au-change-target").value.trim(), action: $("#au-change-action").value, offset: 0});
    guard(listChanges());
  };
  await guard(listChanges());
}

async function listChanges() {
  const f = state.changes;
  const p = new URLSearchParams({offset: String(f.offset), limit: String(PAGE)});
  if (f.target) p.set("target", f.target);
  if (f.action) p.set("action", f.action);
  const page = await api(`/admin/changes?${p}`);
  const box = $("#au-changes");
  if (!box) return;
  const nav = pager(page, (offset) => { f.offset = offset; guard(listChanges()); });
  box.innerHTML = `<table class="grid" id="au-change-table"><thead><tr><th>${esc(t("Time"))}</th>
      <th>${esc(t("By"))}</th><th>${esc(t("Change"))}</th><th>${esc(t("Account"))}</th><th>${esc(t("What changed"))}</th>
      </tr></thead><tbody>${page.items.map((c) => `<tr><td>${esc(when(c.at, true))}</td>
        <td>${esc(c.actor)} <span class="muted small">${esc(c.address)}</span></td><td>${esc(actionText(c.action))}</td>
        <td>${esc(c.target)}</td><td class="small">${esc(changesText(c))}</td></tr>`).join("")}</tbody></table>
      ${page.items.length ? "" : `<p class="muted">${esc(t("No entries."))}</p>`}${nav.html}`;
  nav.wire(box);
}
