// Auditors read and write nothing: search cases, a case's timeline (actors, roles, times, decisions,
// documents), its hash-chain check and replay in plain words, its state as of a moment, and exports; and they oversee
// the administrators: the log of account changes and the log of catalogue changes (departments and service items).
// A list answered after its view was left (another tab, the assessment) is dropped.
import { api } from "./api.js";
import { eventDetail } from "./caseview.js";
import { label, localInputToIso, t, when } from "./i18n.js";
import {
  $, $$, ACCOUNT_ACTIONS, accountActionText, accountChangeText, casesCountText, catalogueDifferences, departmentName,
  download, esc, flash, itemName, openDocument, pager, statusBadge, store,
} from "./ui.js";

const PAGE = 20;
const state = {view: "cases", selected: null, asOf: "", accounts: {target: "", by: "", action: "", offset: 0},
               catalogue: {entity: "", code: "", by: "", pages: [null]}};
const VIEWS = () => [["cases", t("Cases")], ["accounts", t("Account changes")], ["catalogue", t("Catalogue changes")]];
const options = (pairs, selected) => pairs.map(([v, l]) => `<option value="${esc(v)}" ${v === selected ? "selected" : ""}>
  ${esc(l)}</option>`).join("");

let requests = 0;
/** Marks ``box`` as waiting for one answer; the check returned is true once that answer is stale: the box left the
 * page (another view was opened) or a newer request took it over. */
function ticket(box) {
  const id = String(++requests);
  box.dataset.request = id;
  return () => !box.isConnected || box.dataset.request !== id;
}

export function mount(root) {
  // Administrators have both logs on their own tabs: the auditor's logs are for auditors.
  const views = store.me?.role === "auditor";
  if (!views) state.view = "cases";
  root.innerHTML = `${views ? `<nav class="tabs" role="tablist" id="audit-views">${VIEWS().map(([key, text]) =>
      `<button type="button" role="tab" data-view="${key}" aria-selected="${key === state.view}">${esc(text)}</button>`)
      .join("")}</nav>` : ""}<div id="audit-body"></div>`;
  if (views) {
    $("#audit-views", root).onclick = (ev) => {
      const view = ev.target.closest("button")?.dataset.view;
      if (!view) return;
      state.view = view;
      $$("#audit-views button", root).forEach((b) => b.setAttribute("aria-selected", String(b.dataset.view === view)));
      show($("#audit-body", root));
    };
  }
  show($("#audit-body", root));
}

function show(body) {
  ({cases, accounts, catalogue}[state.view] || cases)(body);
}

// ---- cases ---------------------------------------------------------------------------------------------------
function cases(body) {
  body.innerHTML = `<div class="split"><section class="pane list-pane">
      <h2>${esc(t("Find a case"))}</h2>
      <form class="form" id="audit-search">
        <div class="field"><label for="a-q">${esc(t("Case number or applicant"))}</label>
          <input type="search" id="a-q"></div>
        <div class="field"><label for="a-status">${esc(t("Status"))}</label><select id="a-status">
          <option value="">${esc(t("All statuses"))}</option>
          ${["registered", "awaiting_materials", "awaiting_supplement", "supplement_overdue", "in_handling",
             "veto_requested", "in_consultation", "awaiting_callback", "rectification", "closed", "rejected"]
            .map((s) => `<option value="${s}">${esc(label("status", s))}</option>`).join("")}</select></div>
        <div class="inline">
          <div class="field"><label for="a-from">${esc(t("Registered from"))}</label><input type="date" id="a-from"></div>
          <div class="field"><label for="a-to">${esc(t("to"))}</label><input type="date" id="a-to"></div></div>
        <div class="actions"><button class="primary">${esc(t("Search"))}</button></div>
      </form>
      <div class="msg"></div><p class="muted" id="audit-count"></p><ul class="rows" id="audit-rows"></ul>
      <details class="export-period"><summary>${esc(t("Export the cases closed in a period"))}</summary>
        <div class="inline"><div class="field"><label for="x-from">${esc(t("Closed from"))}</label><input type="date" id="x-from"></div>
          <div class="field"><label for="x-to">${esc(t("to"))}</label><input type="date" id="x-to"></div></div>
        <div class="actions"><button class="secondary" data-period="json">JSON</button>
          <button class="secondary" data-period="csv">CSV</button></div></details>
    </section>
    <section class="pane detail-pane" id="detail" aria-live="polite">
      <p class="muted">${esc(t("Choose a case to read its history."))}</p></section></div>`;
  $("#audit-search").onsubmit = (ev) => { ev.preventDefault(); search(); };
  $$("[data-period]").forEach((b) => b.onclick = async () => {
    const from = $("#x-from").value, to = $("#x-to").value;
    const msg = $(".list-pane .msg");
    if (!from || !to) return flash(msg, t("Choose both dates of the period"), "error");
    const p = new URLSearchParams({closed_from: `${from}T00:00:00`, closed_to: `${to}T23:59:59`, format: b.dataset.period});
    try { await download(`/audit/export?${p}`, `audit-${from}-${to}.${b.dataset.period}`); }
    catch (e) { if (msg.isConnected) flash(msg, e.message, "error"); }
  });
  search();
  if (state.selected) open(state.selected);
}

async function search() {
  const p = new URLSearchParams({limit: "100"});
  if ($("#a-q").value.trim()) p.set("q", $("#a-q").value.trim());
  if ($("#a-status").value) p.set("status", $("#a-status").value);
  if ($("#a-from").value) p.set("registered_from", `${$("#a-from").value}T00:00:00+08:00`);
  if ($("#a-to").value) p.set("registered_to", `${$("#a-to").value}T23:59:59+08:00`);
  const rows = $("#audit-rows"), msg = $(".list-pane .msg"), stale = ticket(rows);
  try {
    const page = await api(`/cases?${p}`);
    if (stale()) return;
    $("#audit-count").textContent = casesCountText(page);
    rows.innerHTML = page.items.map((c) => `<li class="row ${c.case_no === state.selected ? "on" : ""}"
        data-no="${esc(c.case_no)}" tabindex="0">
      <div class="row-main"><b>${esc(c.case_no)}</b> ${statusBadge(c.status)}</div>
      <div class="row-sub">${esc(c.applicant_name)} · ${esc(itemName(c.item_code))} · ${esc(when(c.registered_at))}</div>
      </li>`).join("") || `<li class="empty">${esc(t("No cases."))}</li>`;
    $$("li[data-no]", rows).forEach((li) => {
      li.onclick = () => open(li.dataset.no);
      li.onkeydown = (e) => { if (e.key === "Enter") open(li.dataset.no); };
    });
  } catch (e) { if (!stale()) flash(msg, e.message, "error"); }
}

function stateHtml(s) {
  if (!s) return `<p class="muted">${esc(t("The case was not registered yet at that moment."))}</p>`;
  return `<dl class="facts">
    <dt>${esc(t("Status"))}</dt><dd>${statusBadge(s.status)}</dd>
    <dt>${esc(t("Deadline"))}</dt><dd>${esc(when(s.deadline)) || "—"}${s.clock_paused ? ` · ${esc(t("Clock paused"))}` : ""}</dd>
    <dt>${esc(t("Handled by"))}</dt><dd>${esc(s.clerk_username || "")}</dd>
    <dt>${esc(t("Missing materials"))}</dt><dd>${esc((s.missing_materials || []).join("、")) || esc(t("none"))}</dd>
    ${s.result ? `<dt>${esc(t("Result"))}</dt><dd>${esc(s.result)}</dd>` : ""}
    ${s.satisfaction ? `<dt>${esc(t("Satisfaction"))}</dt><dd>${esc(label("grade", s.satisfaction))}</dd>` : ""}
    <dt>${esc(t("Events"))}</dt><dd>${s.last_seq}</dd></dl>`;
}

async function open(caseNo) {
  state.selected = caseNo;
  $$("#audit-rows li").forEach((li) => li.classList.toggle("on", li.dataset.no === caseNo));
  const detail = $("#detail");
  if (!detail) return;
  const stale = ticket(detail);
  detail.innerHTML = `<p class="muted">${esc(t("Loading…"))}</p>`;
  const asOf = state.asOf ? localInputToIso(state.asOf, true) : null;
  const no = encodeURIComponent(caseNo);
  try {
    const tl = await api(`/audit/cases/${no}/timeline${asOf ? `?as_of=${encodeURIComponent(asOf)}` : ""}`);
    if (stale()) return;
    detail.innerHTML = `<article class="case audit" data-case="${esc(caseNo)}">
      <header class="case-head"><h2>${esc(caseNo)}</h2>${tl.state ? statusBadge(tl.state.status) : ""}</header>
      <p>${esc(itemName(tl.item_code))} <span class="muted">${esc(tl.item_code)} · ${esc(departmentName(tl.department_code))} ·
        ${esc(t("Registered"))} ${esc(when(tl.registered_at))}</span></p>
      <div class="checks">
        <div class="check" id="chain-result"><button class="secondary" id="chain-btn">${esc(t("Check the hash chain"))}</button></div>
        <div class="check" id="replay-result"><button class="secondary" id="replay-btn">${esc(t("Replay against the current code"))}</button></div>
      </div>
      <form class="inline as-of" id="as-of-form">
        <div class="field"><label for="as-of">${esc(t("State as of"))}</label>
          <input type="datetime-local" id="as-of" value="${esc(state.asOf)}" step="1"></div>
        <div class="actions"><button class="secondary">${esc(t("Show"))}</button>
          ${state.asOf ? `<button type="button" class="link" id="as-of-clear">${esc(t("Now"))}</button>` : ""}</div>
      </form>
      ${asOf ? `<p class="notice">${esc(t("As it stood at {at}", {at: when(asOf, true)}))}</p>` : ""}
      <section><h3>${esc(t("State"))}</h3>${stateHtml(tl.state)}</section>
      <div class="actions"><button class="secondary" data-export="json">${esc(t("Export JSON"))}</button>
        <button class="secondary" data-export="csv">${esc(t("Export CSV"))}</button></div>
      <div class="msg"></div>
      <section><h3>${esc(t("Timeline"))}</h3>
      <ol class="timeline">${tl.entries.map((e) => `<li data-seq="${e.seq}">
        <div class="tl-head"><b>${esc(label("event", e.type))}</b> <span class="muted">#${e.seq} · ${esc(when(e.at, true))}</span></div>
        <div class="tl-who">${e.actor_username ? `${esc(e.actor_name)} (${esc(e.actor_username)})` : esc(t("System"))}
          ${e.actor_role ? ` · ${esc(label("role", e.actor_role))}` : ""} → ${statusBadge(e.status)}</div>
        ${eventDetail(e) ? `<div class="tl-what">${esc(eventDetail(e))}</div>` : ""}
        ${e.documents.map((d) => `<div><button class="link" data-doc="${esc(d.download)}">${esc(label("document", d.kind) || d.title)}</button></div>`).join("")}
        <div class="hash muted" title="${esc(e.hash)}">${esc(e.hash.slice(0, 16))}…</div></li>`).join("")}</ol></section>
    </article>`;
  } catch (e) {
    if (!stale()) flash(detail, e.message, "error");
    return;
  }
  const msg = $(".msg", detail);
  $("#chain-btn").onclick = () => check(`/audit/cases/${no}/chain`, $("#chain-result"), chainHtml);
  $("#replay-btn").onclick = () => check(`/audit/cases/${no}/replay`, $("#replay-result"), replayHtml);
  $("#as-of-form").onsubmit = (ev) => { ev.preventDefault(); state.asOf = $("#as-of").value; open(caseNo); };
  const clear = $("#as-of-clear");
  if (clear) clear.onclick = () => { state.asOf = ""; open(caseNo); };
  $$("[data-export]", detail).forEach((b) => b.onclick = () =>
    download(`/audit/export?case_no=${no}&format=${b.dataset.export}`, `audit-${caseNo}.${b.dataset.export}`)
      .catch((e) => flash(msg, e.message, "error")));
  $$("[data-doc]", detail).forEach((b) => b.onclick = () => openDocument(b.dataset.doc)
    .catch((e) => flash(msg, e.message, "error")));
}

async function check(path, box, render) {
  box.innerHTML = `<p class="muted">${esc(t("Checking…"))}</p>`;
  try { box.innerHTML = render(await api(path)); }
  catch (e) { box.innerHTML = `<p class="verdict bad" role="alert">${esc(e.message)}</p>`; }
}

function chainHtml(r) {
  if (r.ok) return `<p class="verdict ok">✔ ${esc(t("Hash chain intact: {n} events", {n: r.events}))}
    ${r.anchor_id ? esc(t("(matches anchor #{id})", {id: r.anchor_id})) : esc(t("(no anchor yet)"))}</p>`;
  return `<div class="verdict bad">✘ ${esc(t("Hash chain broken"))}
    ${r.anchor_intact ? "" : `<p>${esc(t("The newest anchor does not match."))}</p>`}
    <ul>${r.breaks.map((b) => `<li>#${b.seq} ${esc(label("break", b.kind))}: ${esc(b.detail)}</li>`).join("")}</ul></div>`;
}

function replayHtml(r) {
  const source = label("source", r.source);
  if (r.ok) return `<p class="verdict ok">✔ ${esc(t("Replay matches: {n} events reached what the database holds", {n: r.replayed_events}))}
    <span class="muted">(${esc(source)})</span></p>`;
  return `<div class="verdict bad">✘ ${esc(label("verdict", r.verdict))} <span class="muted">(${esc(source)})</span>
    ${r.error ? `<p>${esc(r.error)}</p>` : ""}<ul>${r.mismatches.map((m) => `<li>${esc(m)}</li>`).join("")}</ul></div>`;
}

// ---- the log of account changes (GET /admin/changes) -----------------------------------------------------------
function accounts(body) {
  const f = state.accounts;
  body.innerHTML = `<section class="pane audit-log" id="audit-accounts">
    <h2>${esc(t("Account changes"))}</h2>
    <p class="muted small">${esc(t("Every change administrators made to user accounts: who, when, from where, each field before and after (a password only as changed)."))}</p>
    <form class="toolbar" id="al-filter">
      <label>${esc(t("Account"))} <input type="search" id="al-target" value="${esc(f.target)}" maxlength="80"
        placeholder="${esc(t("Username"))}"></label>
      <label>${esc(t("By"))} <input type="search" id="al-by" value="${esc(f.by)}" maxlength="80"
        placeholder="${esc(t("Administrator's username"))}"></label>
      <label>${esc(t("Change"))} <select id="al-action"><option value="">${esc(t("All"))}</option>
        ${options(ACCOUNT_ACTIONS.map((a) => [a, accountActionText(a)]), f.action)}</select></label>
      <button class="secondary">${esc(t("Search"))}</button></form>
    <div class="msg"></div><div id="al-list"><p class="muted">${esc(t("Loading…"))}</p></div></section>`;
  $("#al-filter").onsubmit = (ev) => {
    ev.preventDefault();
    Object.assign(f, {target: $("#al-target").value.trim(), by: $("#al-by").value.trim(), action: $("#al-action").value,
                      offset: 0});
    listAccounts();
  };
  listAccounts();
}

async function listAccounts() {
  const f = state.accounts, box = $("#al-list"), msg = $("#audit-accounts .msg");
  if (!box) return;
  const stale = ticket(box);
  const p = new URLSearchParams({offset: String(f.offset), limit: String(PAGE)});
  for (const key of ["target", "by", "action"]) if (f[key]) p.set(key, f[key]);
  try {
    const page = await api(`/admin/changes?${p}`);
    if (stale()) return;
    flash(msg, "");
    const nav = pager(page, (offset) => { f.offset = offset; listAccounts(); });
    box.innerHTML = `<table class="grid" id="al-table"><thead><tr><th>${esc(t("Time"))}</th><th>${esc(t("By"))}</th>
        <th>${esc(t("Change"))}</th><th>${esc(t("Account"))}</th><th>${esc(t("What changed"))}</th></tr></thead><tbody>
        ${page.items.map((c) => `<tr data-change="${c.id}"><td>${esc(when(c.at, true))}</td>
          <td>${esc(c.actor)} <span class="muted small">${esc(c.address)}</span></td>
          <td>${esc(accountActionText(c.action))}</td><td>${esc(c.target)}</td>
          <td class="small">${esc(accountChangeText(c))}</td></tr>`).join("")}</tbody></table>
      ${page.items.length ? "" : `<p class="muted">${esc(t("No entries."))}</p>`}${nav.html}`;
    nav.wire(box);
  } catch (e) { if (!stale()) flash(msg, e.message, "error"); }
}

// ---- the log of catalogue changes (GET /catalogue/changes): departments and service items ----------------------
function catalogue(body) {
  const log = state.catalogue;
  body.innerHTML = `<section class="pane audit-log" id="audit-catalogue">
    <h2>${esc(t("Catalogue changes"))}</h2>
    <p class="muted small">${esc(t("Every change administrators made to departments and service items: who, when, from where, why, each field before and after."))}</p>
    <form class="toolbar" id="cl-filter">
      <label>${esc(t("Kind"))} <select id="cl-entity"><option value="">${esc(t("All"))}</option>
        ${options([["department", t("Departments")], ["item", t("Service items")]], log.entity)}</select></label>
      <label>${esc(t("Code"))} <input type="search" id="cl-code" value="${esc(log.code)}" maxlength="32"
        placeholder="${esc(t("e.g. MKT-001"))}"></label>
      <label>${esc(t("By"))} <input type="search" id="cl-by" value="${esc(log.by)}" maxlength="64"
        placeholder="${esc(t("Username"))}"></label>
      <button class="secondary">${esc(t("Search"))}</button></form>
    <div class="msg"></div><div id="cl-list"><p class="muted">${esc(t("Loading…"))}</p></div></section>`;
  $("#cl-filter").onsubmit = (ev) => {
    ev.preventDefault();
    state.catalogue = {entity: $("#cl-entity").value, code: $("#cl-code").value.trim(), by: $("#cl-by").value.trim(),
                       pages: [null]};
    listCatalogue();
  };
  listCatalogue();
}

async function listCatalogue() {
  const log = state.catalogue, before = log.pages.at(-1), box = $("#cl-list"), msg = $("#audit-catalogue .msg");
  if (!box) return;
  const stale = ticket(box);
  const p = new URLSearchParams({limit: String(PAGE)});
  if (log.entity) p.set("entity", log.entity);
  if (log.code) p.set("code", log.code);
  if (log.by) p.set("by", log.by);
  if (before) p.set("before", String(before));
  try {
    const page = await api(`/catalogue/changes?${p}`);
    if (stale()) return;
    flash(msg, "");
    box.innerHTML = `<table class="grid" id="cl-table"><thead><tr><th>${esc(t("Time"))}</th><th>${esc(t("By"))}</th>
        <th>${esc(t("Code"))}</th><th>${esc(t("Change"))}</th><th>${esc(t("Reason"))}</th><th>${esc(t("What changed"))}</th>
        </tr></thead><tbody>${page.items.map((c) => `<tr data-change="${c.id}"><td>${esc(when(c.at, true))}</td>
          <td>${esc(c.actor_username)} <span class="muted small">${esc(c.address)}</span></td>
          <td>${esc(c.code)} <span class="muted small">${esc(c.entity === "item" ? t("Service item") : t("Department"))}</span></td>
          <td>${esc(label("cchange", c.action))}</td><td>${esc(c.reason) || `<span class="muted">—</span>`}</td>
          <td class="small">${catalogueDifferences(c.before, c.after)}</td></tr>`).join("")}</tbody></table>
      ${page.items.length ? "" : `<p class="muted">${esc(t("No changes."))}</p>`}
      <div class="actions pager">
        <button type="button" class="secondary" data-page="newer" ${log.pages.length > 1 ? "" : "disabled"}>${esc(t("Newer"))}</button>
        <button type="button" class="secondary" data-page="older" ${page.next_before ? "" : "disabled"}>${esc(t("Older"))}</button></div>`;
    $("[data-page=older]", box).onclick = () => { log.pages.push(page.next_before); listCatalogue(); };
    $("[data-page=newer]", box).onclick = () => { log.pages.pop(); listCatalogue(); };
  } catch (e) { if (!stale()) flash(msg, e.message, "error"); }
}
