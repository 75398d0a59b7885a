// The department tree and the service catalogue (administrators): the tree with edit forms, taking a department out
// of use and back; the items with an editor (time limits, materials rows, rules), withdrawal and reinstatement; the
// log of every change. An edit applies to cases registered from then on. The API checks every rule again
// (casehall.store.catalogue); this screen says what it refuses, in the user's language.
import { api, post } from "./api.js";
import { label, t, when } from "./i18n.js";
import {
  $, $$, ITEM_RULES as RULES, catalogueDifferences as differences, esc, flash, formDialog, loadCatalogue, same, store,
} from "./ui.js";

const KINDS = ["bureau", "department", "section"];
const GRADES = ["very_satisfied", "satisfied", "basically_satisfied", "dissatisfied", "very_dissatisfied"];
const state = {view: "departments", departments: [], items: [], q: "", department: "", withdrawn: false,
               log: {entity: "", code: "", by: "", pages: [null]}};

const VIEWS = () => [["departments", t("Departments")], ["items", t("Service items")], ["changes", t("Change log")]];
const message = (text, kind = "ok") => flash($("#ac-msg"), text, kind);
const guard = (promise) => promise.catch((e) => message(e.message, "error"));
const options = (pairs, selected) => pairs.map(([v, l]) => `<option value="${esc(v)}" ${v === selected ? "selected" : ""}>
  ${esc(l)}</option>`).join("");
const deptName = (code) => state.departments.find((d) => d.code === code)?.name || code;

export function mount(root) {
  root.innerHTML = `<section class="pane admin-catalogue" id="admin-catalogue">
    <nav class="tabs" role="tablist" id="ac-views">${VIEWS().map(([key, text]) => `<button type="button" role="tab"
      data-view="${key}" aria-selected="${key === state.view}">${esc(text)}</button>`).join("")}</nav>
    <div class="msg" id="ac-msg"></div><div id="ac-body"></div></section>`;
  $("#ac-views").onclick = (ev) => {
    const view = ev.target.closest("button")?.dataset.view;
    if (!view) return;
    state.view = view;
    $$("#ac-views button").forEach((b) => b.setAttribute("aria-selected", String(b.dataset.view === view)));
    flash($("#ac-msg"), "");
    show();
  };
  show();
}

function show() {
  guard(({departments, items, changes}[state.view] || departments)());
}

/** After a change: this screen's lists and the shared look-ups other screens use. */
async function reload() {
  const [departments, items] = await Promise.all([api("/departments"), api("/items")]);
  state.departments = departments;
  state.items = items;
  store.departments = await api("/ui/departments");
  await loadCatalogue();
}

// ---- departments ---------------------------------------------------------------------------------------------
async function departments() {
  await reload();
  const children = (code) => state.departments.filter((d) => (d.parent_code || null) === code);
  const roots = state.departments.filter((d) => !d.parent_code || !state.departments.some((p) => p.code === d.parent_code));
  const node = (d) => `<li data-code="${esc(d.code)}" class="${d.active ? "" : "out-of-use"}">
      <div class="node"><b>${esc(d.name)}</b> <span class="muted">${esc(d.code)} · ${esc(label("dkind", d.kind))}</span>
        ${d.active ? "" : `<span class="badge st-rejected">${esc(t("Out of use"))}</span>`}
        <span class="muted small">${esc(t("{users} users · {items} items · {cases} open cases",
          {users: d.users, items: d.items, cases: d.open_cases}))}</span>
        <span class="row-actions"><button type="button" class="link" data-act="edit">${esc(t("Edit"))}</button>
          ${d.active && d.kind !== "section"
            ? `<button type="button" class="link" data-act="add">${esc(t("Add below"))}</button>` : ""}
          <button type="button" class="link" data-act="${d.active ? "deactivate" : "reactivate"}">
            ${esc(d.active ? t("Take out of use") : t("Put back in use"))}</button>
          <button type="button" class="link" data-act="delete">${esc(t("Delete"))}</button></span></div>
      ${children(d.code).length ? `<ul>${children(d.code).map(node).join("")}</ul>` : ""}</li>`;
  $("#ac-body").innerHTML = `<div class="toolbar">
      <button type="button" class="primary" id="ac-new-dept">${esc(t("New bureau"))}</button>
      <span class="muted small">${esc(t("A bureau holds departments and sections, a department holds sections."))}</span></div>
    <ul class="tree" id="ac-tree">${roots.map(node).join("")}</ul>`;
  $("#ac-new-dept").onclick = () => guard(editDepartment(null, null));
  $$("#ac-tree [data-act]").forEach((b) => {
    const dept = state.departments.find((d) => d.code === b.closest("li").dataset.code);
    b.onclick = () => guard({edit: () => editDepartment(dept, dept.parent_code), add: () => editDepartment(null, dept.code),
                             deactivate: () => deactivate(dept), reactivate: () => reactivate(dept),
                             delete: () => removeDepartment(dept)}[b.dataset.act]());
  });
}

function subtree(code) {
  const found = new Set([code]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const d of state.departments) if (d.parent_code && found.has(d.parent_code) && !found.has(d.code)) {
      found.add(d.code); grew = true;
    }
  }
  return found;
}

async function editDepartment(dept, parentCode) {
  const parent = state.departments.find((d) => d.code === parentCode);
  const kind = dept ? dept.kind : KINDS[Math.min(2, parent ? KINDS.indexOf(parent.kind) + 1 : 0)];
  const below = dept ? subtree(dept.code) : new Set();
  const parents = [["", t("(none: top of the tree)")], ...state.departments
    .filter((d) => d.active && !below.has(d.code)).map((d) => [d.code, `${d.name} (${d.code})`])];
  const fields = [
    dept ? {type: "html", html: `<p class="muted">${esc(t("Code"))}: <b>${esc(dept.code)}</b> ·
        ${esc(t("The code is printed on cases and documents: it cannot be changed."))}</p>`}
      : {name: "code", label: t("Code"), required: true, hint: t("Letters, digits, '-', '_' or '.'; at most 32.")},
    {name: "name", label: t("Name"), required: true, value: dept?.name},
    {name: "kind", label: t("Kind"), type: "select", value: kind, options: KINDS.map((k) => [k, label("dkind", k)])},
    {name: "parent_code", label: t("Above it"), type: "select", value: parentCode || "", options: parents},
    {name: "doc_prefix", label: t("Document number prefix"), value: dept?.doc_prefix,
     hint: t("e.g. 长市监; empty: the one of the department above.")},
    {name: "reconsideration_body", label: t("Administrative reconsideration body"), value: dept?.reconsideration_body},
    {name: "court", label: t("Court for administrative litigation"), value: dept?.court},
    {name: "reason", label: t("Reason (kept in the change log)")},
  ];
  const done = await formDialog({
    title: dept ? t("Edit {name}", {name: `${dept.name} (${dept.code})`}) : t("New department"),
    submit: dept ? t("Save") : t("Create"), fields,
    onSubmit: (v) => {
      const body = {name: v.name.trim(), kind: v.kind, parent_code: v.parent_code || null, doc_prefix: v.doc_prefix,
                    reconsideration_body: v.reconsideration_body, court: v.court};
      if (!dept) return post("/departments", {code: v.code.trim(), ...body, reason: v.reason});
      const changed = Object.fromEntries(Object.entries(body).filter(([k, x]) => x !== (dept[k] ?? null)));
      return api(`/departments/${encodeURIComponent(dept.code)}`,
                 {method: "PATCH", body: {version: dept.version, ...changed, reason: v.reason}});
    },
  });
  if (!done) return;
  await departments();
  message(t("Saved."));
}

async function deactivate(dept) {
  const done = await formDialog({
    title: t("Take {name} out of use", {name: `${dept.name} (${dept.code})`}), danger: true, submit: t("Take out of use"),
    intro: `<p>${esc(t("It stays in the tree for the cases and documents that name it; it can no longer be chosen."))}</p>`,
    fields: [{name: "reason", label: t("Reason"), required: true}],
    onSubmit: (v) => post(`/departments/${encodeURIComponent(dept.code)}/deactivate`, {reason: v.reason}),
  });
  if (!done) return;
  await departments();
  message(t("{name} is out of use.", {name: dept.name}));
}

async function reactivate(dept) {
  await post(`/departments/${encodeURIComponent(dept.code)}/reactivate`, {});
  await departments();
  message(t("{name} is in use again.", {name: dept.name}));
}

async function removeDepartment(dept) {
  const done = await formDialog({
    title: t("Delete {name}", {name: `${dept.name} (${dept.code})`}), danger: true, submit: t("Delete"),
    intro: `<p>${esc(t("Only a department nothing names can be deleted (one created by mistake)."))}</p>`,
    fields: [{name: "reason", label: t("Reason")}],
    onSubmit: (v) => api(`/departments/${encodeURIComponent(dept.code)}?reason=${encodeURIComponent(v.reason)}`,
                         {method: "DELETE"}),
  });
  if (!done) return;
  await departments();
  message(t("{name} is deleted.", {name: dept.name}));
}

// ---- service items -------------------------------------------------------------------------------------------
async function items() {
  await reload();
  const depts = state.departments.map((d) => [d.code, `${d.name} (${d.code})`]);
  $("#ac-body").innerHTML = `<form class="toolbar" id="ac-filter">
      <input type="search" id="ac-q" value="${esc(state.q)}" placeholder="${esc(t("Search by name or code"))}"
        aria-label="${esc(t("Search by name or code"))}" maxlength="100">
      <label>${esc(t("Department"))} <select id="ac-dept"><option value="">${esc(t("All"))}</option>
        ${options(depts, state.department)}</select></label>
      <label class="choice"><input type="checkbox" id="ac-withdrawn" ${state.withdrawn ? "checked" : ""}>
        ${esc(t("Show withdrawn"))}</label>
      <button type="button" class="primary" id="ac-new-item">${esc(t("New item"))}</button></form>
    <div id="ac-items"></div>`;
  const redraw = () => {
    state.q = $("#ac-q").value.trim().toLowerCase();
    state.department = $("#ac-dept").value;
    state.withdrawn = $("#ac-withdrawn").checked;
    drawItems();
  };
  $("#ac-filter").oninput = redraw;
  $("#ac-filter").onsubmit = (ev) => { ev.preventDefault(); redraw(); };
  $("#ac-new-item").onclick = () => guard(editItem(null));
  drawItems();
}

function drawItems() {
  const list = state.items.filter((i) => (state.withdrawn || !i.withdrawn_at)
    && (!state.department || i.department_code === state.department)
    && (!state.q || i.name.toLowerCase().includes(state.q) || i.code.toLowerCase().includes(state.q)));
  $("#ac-items").innerHTML = `<table class="grid" id="ac-item-table"><thead><tr><th>${esc(t("Code"))}</th>
      <th>${esc(t("Item"))}</th><th>${esc(t("Department"))}</th><th>${esc(t("Time limit (working days)"))}</th>
      <th>${esc(t("Materials"))}</th><th>${esc(t("Status"))}</th><th></th></tr></thead><tbody>
      ${list.map((i) => `<tr data-code="${esc(i.code)}" class="${i.withdrawn_at ? "bad" : ""}"><td>${esc(i.code)}</td>
        <td>${esc(i.name)}</td><td>${esc(deptName(i.department_code))}</td>
        <td>${esc(t("{days} (urgent: {expedited})", {days: i.time_limit_days, expedited: i.expedited_days}))}</td>
        <td>${esc(i.materials.map((m) => m.name).join("、")) || `<span class="muted">—</span>`}</td>
        <td>${i.withdrawn_at ? `<span class="badge st-rejected">${esc(t("Withdrawn {date}", {date: when(i.withdrawn_at)}))}</span>`
                            : `<span class="badge st-closed">${esc(t("Offered"))}</span>`}</td>
        <td class="row-actions"><button type="button" class="link" data-act="edit">${esc(t("Edit"))}</button>
          <button type="button" class="link" data-act="${i.withdrawn_at ? "reinstate" : "withdraw"}">
            ${esc(i.withdrawn_at ? t("Reinstate") : t("Withdraw"))}</button>
          <button type="button" class="link" data-act="history">${esc(t("History"))}</button></td></tr>`).join("")}
    </tbody></table>${list.length ? "" : `<p class="muted">${esc(t("No item matches."))}</p>`}`;
  $$("#ac-item-table [data-act]").forEach((b) => {
    const item = state.items.find((i) => i.code === b.closest("tr").dataset.code);
    b.onclick = () => guard({edit: () => editItem(item), withdraw: () => withdraw(item), reinstate: () => reinstate(item),
                             history: () => history("item", item.code)}[b.dataset.act]());
  });
}

function materialRow(m = {name: "", main: true, how_to_supply: ""}) {
  return `<tr class="material-row"><td><input class="m-name" value="${esc(m.name)}" maxlength="200"
      aria-label="${esc(t("Material"))}"></td>
    <td><label class="choice"><input type="checkbox" class="m-main" ${m.main ? "checked" : ""}> ${esc(t("main"))}</label></td>
    <td><input class="m-how" value="${esc(m.how_to_supply)}" maxlength="200" aria-label="${esc(t("How to supply"))}"></td>
    <td><button type="button" class="link m-remove">${esc(t("Remove"))}</button></td></tr>`;
}

/** The item editor: a dialog of its own (materials rows come and go); resolves with the saved item or null. */
async function editItem(item) {
  const detail = item ? await api(`/items/${encodeURIComponent(item.code)}`) : null;
  const rules = detail?.rules || {veto_reminder_days: 1, veto_escalation_days: 2, supplement_days: 5,
                                   supplement_reminder_days: 1, callback_calendar_days: 3, default_rating: "satisfied",
                                   rectification_days: 5};
  const departments = state.departments.filter((d) => d.active || d.code === item?.department_code)
    .map((d) => [d.code, `${d.name} (${d.code})`]);
  const dlg = document.createElement("dialog");
  dlg.className = "form-dialog item-editor";
  dlg.innerHTML = `<form method="dialog" novalidate>
    <h2>${esc(item ? t("Edit {name}", {name: `${item.name} (${item.code})`}) : t("New service item"))}</h2>
    ${detail ? `<p class="notice">${esc(t("Changes apply to cases registered from now on; the {open} open case(s) keep what they were registered with.",
      {open: detail.open_cases}))}</p>` : ""}
    ${item ? "" : `<div class="field"><label for="ie-code">${esc(t("Code"))} *</label><input id="ie-code" maxlength="32" required></div>`}
    <div class="field"><label for="ie-name">${esc(t("Name"))} *</label>
      <input id="ie-name" maxlength="200" required value="${esc(item?.name)}"></div>
    <div class="field"><label for="ie-dept">${esc(t("Department"))}</label>
      <select id="ie-dept" ${detail?.cases ? "disabled" : ""}>${options(departments, item?.department_code || "")}</select>
      ${detail?.cases ? `<small class="muted">${esc(t("Cases were registered on this item: its department stays. Withdraw it and create a new item for another department."))}</small>` : ""}</div>
    <div class="inline">
      <div class="field"><label for="ie-limit">${esc(t("Time limit (working days)"))} *</label>
        <input id="ie-limit" type="number" min="1" max="365" required value="${esc(item?.time_limit_days ?? 5)}"></div>
      <div class="field"><label for="ie-expedited">${esc(t("Urgent time limit (working days)"))} *</label>
        <input id="ie-expedited" type="number" min="1" max="365" required value="${esc(item?.expedited_days ?? 3)}"></div></div>
    <fieldset><legend>${esc(t("Materials"))}</legend>
      <table class="grid materials-table"><thead><tr><th>${esc(t("Material"))}</th><th></th>
        <th>${esc(t("How to supply"))}</th><th></th></tr></thead>
        <tbody id="ie-materials">${(item?.materials || []).map(materialRow).join("")}</tbody></table>
      <button type="button" class="secondary" id="ie-add">${esc(t("Add material"))}</button>
      <small class="muted">${esc(t("Main materials must be there to accept; secondary ones may follow (tolerant acceptance)."))}</small>
    </fieldset>
    <fieldset><legend>${esc(t("Rules"))}</legend><div class="rules-grid">
      ${RULES.map(([key, text, min, max]) => `<div class="field"><label for="ie-${key}">${esc(text())}</label>
        <input id="ie-${key}" type="number" min="${min}" max="${max}" value="${esc(rules[key])}"></div>`).join("")}
      <div class="field"><label for="ie-default_rating">${esc(t("Default rating"))}</label>
        <select id="ie-default_rating">${options(GRADES.map((g) => [g, label("grade", g)]), rules.default_rating)}</select></div>
    </div></fieldset>
    <div class="field"><label for="ie-reason">${esc(t("Reason (kept in the change log)"))}</label>
      <input id="ie-reason" maxlength="500"></div>
    <div class="dialog-error" role="alert"></div>
    <div class="actions"><button type="button" class="secondary" data-cancel>${esc(t("Cancel"))}</button>
      <button type="submit" data-submit>${esc(item ? t("Save") : t("Create"))}</button></div></form>`;
  document.body.append(dlg);
  const form = $("form", dlg);
  const wireRows = () => $$(".m-remove", dlg).forEach((b) => { b.onclick = () => b.closest("tr").remove(); });
  $("#ie-add", dlg).onclick = () => {
    $("#ie-materials", dlg).insertAdjacentHTML("beforeend", materialRow());
    wireRows();
    $$(".m-name", dlg).at(-1).focus();
  };
  wireRows();
  const saved = await new Promise((resolve) => {
    const finish = (value) => { dlg.close(); dlg.remove(); resolve(value); };
    $("[data-cancel]", dlg).onclick = () => finish(null);
    dlg.addEventListener("cancel", (ev) => { ev.preventDefault(); finish(null); });
    form.onsubmit = async (ev) => {
      ev.preventDefault();
      const err = $(".dialog-error", dlg), button = $("[data-submit]", dlg);
      err.textContent = "";
      const number = (id) => Number($(id, dlg).value);
      const body = {
        name: $("#ie-name", dlg).value.trim(), department_code: $("#ie-dept", dlg).value,
        time_limit_days: number("#ie-limit"), expedited_days: number("#ie-expedited"),
        materials: $$(".material-row", dlg).map((r) => ({name: $(".m-name", r).value.trim(), main: $(".m-main", r).checked,
                                                          how_to_supply: $(".m-how", r).value.trim()}))
          .filter((m) => m.name),
        rules: {...Object.fromEntries(RULES.map(([key]) => [key, number(`#ie-${key}`)])),
                default_rating: $("#ie-default_rating", dlg).value},
      };
      const reason = $("#ie-reason", dlg).value.trim();
      button.disabled = true;
      try {
        if (!item) {
          finish(await post("/items", {code: $("#ie-code", dlg).value.trim(), ...body, reason}));
          return;
        }
        const changed = Object.fromEntries(Object.entries(body)
          .filter(([k, v]) => !same(v, detail[k])));
        if (!Object.keys(changed).length) { finish(item); return; }
        finish(await api(`/items/${encodeURIComponent(item.code)}`,
                         {method: "PATCH", body: {version: detail.version, ...changed, reason}}));
      } catch (e) {
        err.textContent = e.message;
        button.disabled = false;
      }
    };
    dlg.showModal();
    ($("#ie-code", dlg) || $("#ie-name", dlg)).focus();
  });
  if (!saved) return;
  await items();
  message(t("Saved: cases registered from now on use it."));
}

async function withdraw(item) {
  const done = await formDialog({
    title: t("Withdraw {name}", {name: `${item.name} (${item.code})`}), danger: true, submit: t("Withdraw"),
    intro: `<p>${esc(t("Clerks can no longer choose it for new cases; the cases registered on it keep it."))}</p>`,
    fields: [{name: "reason", label: t("Reason"), required: true}],
    onSubmit: (v) => post(`/items/${encodeURIComponent(item.code)}/withdraw`, {reason: v.reason}),
  });
  if (!done) return;
  await items();
  message(t("{name} is withdrawn.", {name: item.name}));
}

async function reinstate(item) {
  await post(`/items/${encodeURIComponent(item.code)}/reinstate`, {});
  await items();
  message(t("{name} is offered again.", {name: item.name}));
}

// ---- the change log ------------------------------------------------------------------------------------------
function history(entity, code) {
  state.view = "changes";
  state.log = {entity, code, by: "", pages: [null]};
  flash($("#ac-msg"), "");
  $$("#ac-views button").forEach((b) => b.setAttribute("aria-selected", String(b.dataset.view === "changes")));
  return changes();
}

async function changes() {
  const log = state.log, before = log.pages.at(-1);
  const p = new URLSearchParams({limit: "30"});
  if (log.entity) p.set("entity", log.entity);
  if (log.code) p.set("code", log.code);
  if (log.by) p.set("by", log.by);
  if (before) p.set("before", String(before));
  const page = await api(`/catalogue/changes?${p}`);
  $("#ac-body").innerHTML = `<form class="toolbar" id="ac-log-filter">
      <label>${esc(t("Kind"))} <select id="ac-log-entity"><option value="">${esc(t("All"))}</option>
        ${options([["department", t("Departments")], ["item", t("Service items")]], log.entity)}</select></label>
      <input type="search" id="ac-log-code" value="${esc(log.code)}" placeholder="${esc(t("Code"))}"
        aria-label="${esc(t("Code"))}" maxlength="32">
      <input type="search" id="ac-log-by" value="${esc(log.by)}" placeholder="${esc(t("By"))}: ${esc(t("Username"))}"
        aria-label="${esc(t("By"))}" maxlength="64">
      <button class="secondary">${esc(t("Search"))}</button></form>
    <table class="grid" id="ac-log"><thead><tr><th>${esc(t("Time"))}</th><th>${esc(t("By"))}</th>
      <th>${esc(t("Code"))}</th><th>${esc(t("Change"))}</th><th>${esc(t("Reason"))}</th><th></th></tr></thead><tbody>
      ${page.items.map((c) => `<tr><td>${esc(when(c.at, true))}</td>
        <td>${esc(c.actor_username)} <span class="muted small">${esc(c.address)}</span></td>
        <td>${esc(c.code)} <span class="muted small">${esc(c.entity === "item" ? t("Service item") : t("Department"))}</span></td>
        <td>${esc(label("cchange", c.action))}</td><td>${esc(c.reason)}</td>
        <td class="small">${differences(c.before, c.after)}</td></tr>`).join("")}</tbody></table>
    ${page.items.length ? "" : `<p class="muted">${esc(t("No changes."))}</p>`}
    <div class="actions pager">
      <button type="button" class="secondary" id="ac-newer" ${log.pages.length > 1 ? "" : "disabled"}>${esc(t("Newer"))}</button>
      <button type="button" class="secondary" id="ac-older" ${page.next_before ? "" : "disabled"}>${esc(t("Older"))}</button></div>`;
  $("#ac-log-filter").onsubmit = (ev) => {
    ev.preventDefault();
    state.log = {entity: $("#ac-log-entity").value, code: $("#ac-log-code").value.trim(),
                 by: $("#ac-log-by").value.trim(), pages: [null]};
    guard(changes());
  };
  $("#ac-older").onclick = () => { log.pages.push(page.next_before); guard(changes()); };
  $("#ac-newer").onclick = () => { log.pages.pop(); guard(changes()); };
}
