// Managers and directors: the inbox with what is needed to decide, sorted by urgency, filterable, refreshing
// itself; the department's consultations; a case search. The case and its history open beside the list.
import { api } from "./api.js";
import { showCase } from "./caseview.js";
import { label, t, when } from "./i18n.js";
import { $, $$, caseLight, casesCountText, esc, flash, itemName, light, lightHtml, statusBadge, store } from "./ui.js";

const state = {tab: "inbox", selected: null, tasks: [], details: new Map(), timer: null, kind: "", q: "",
               urgentOnly: false, pages: 1, total: 0, next: null};
const INBOX_PAGE = 100;  // tasks per page; "Show more" loads the next page

export function mount(root) {
  root.innerHTML = `<nav class="tabs" role="tablist">
      <button role="tab" data-tab="inbox">${esc(t("Inbox"))} <span class="count" id="inbox-count"></span></button>
      <button role="tab" data-tab="consultations">${esc(t("Consultations"))}</button>
      <button role="tab" data-tab="search">${esc(t("Cases"))}</button>
    </nav>
    <div class="split"><section class="pane list-pane" id="mgr-pane"></section>
      <section class="pane detail-pane" id="detail" aria-live="polite">
        <p class="muted">${esc(t("Choose a task or a case to see it here."))}</p></section></div>`;
  $$(".tabs button", root).forEach((b) => b.onclick = () => { state.tab = b.dataset.tab; renderTab(root); });
  renderTab(root);
  if (state.selected) open(state.selected);
  clearInterval(state.timer);
  state.timer = setInterval(() => { if (state.tab === "inbox" && !document.querySelector("dialog[open]")) loadInbox(); },
                            store.config.refresh_seconds * 1000);
}

function renderTab(root) {
  $$(".tabs button", root).forEach((b) => b.setAttribute("aria-selected", String(b.dataset.tab === state.tab)));
  const pane = $("#mgr-pane");
  if (state.tab === "inbox") return inboxTab(pane);
  if (state.tab === "consultations") return consultationsTab(pane);
  return searchTab(pane);
}

function open(caseNo) {
  state.selected = caseNo;
  const detail = $("#detail");
  showCase(detail, caseNo, {onChanged: () => loadInbox()}).catch((e) => flash(detail, e.message, "error"));
  $$("#mgr-pane [data-no]").forEach((el) => el.classList.toggle("on", el.dataset.no === caseNo));
  if (window.matchMedia("(max-width: 800px)").matches) detail.scrollIntoView({behavior: "smooth"});
}

// ---- inbox --------------------------------------------------------------------------------------------------
const KINDS = ["veto", "supplement_overdue", "rectification", "consultation_overdue", "consultation_lead"];

function inboxTab(pane) {
  pane.innerHTML = `<div class="toolbar">
      <select id="kind-filter" aria-label="${esc(t("Kind"))}"><option value="">${esc(t("All kinds"))}</option>
        ${KINDS.map((k) => `<option value="${k}" ${state.kind === k ? "selected" : ""}>${esc(label("task", k))}</option>`).join("")}
      </select>
      <input type="search" id="inbox-q" value="${esc(state.q)}" placeholder="${esc(t("Case number, applicant or item"))}">
      <label class="choice"><input type="checkbox" id="urgent-only" ${state.urgentOnly ? "checked" : ""}>
        ${esc(t("Due soon or overdue"))}</label></div>
    <div class="muted small" id="refreshed"></div><div class="msg"></div>
    <ul class="rows" id="inbox-rows"></ul>
    <div class="toolbar" id="inbox-paging"></div>`;
  $("#kind-filter").onchange = (e) => { state.kind = e.target.value; drawInbox(); };
  $("#inbox-q").oninput = (e) => { state.q = e.target.value; drawInbox(); };
  $("#urgent-only").onchange = (e) => { state.urgentOnly = e.target.checked; drawInbox(); };
  drawInbox();
  loadInbox();
}

/** The case and its veto request for each task; events are fetched again only when the case changed. */
async function detailOf(caseNo) {
  const c = await api(`/cases/${encodeURIComponent(caseNo)}`);
  const known = state.details.get(caseNo);
  if (known && known.c.updated_at === c.updated_at) return known;
  const events = await api(`/cases/${encodeURIComponent(caseNo)}/events`);
  const veto = [...events].reverse().find((e) => e.type === "veto_requested");
  const d = {c, veto: veto?.payload || null, requester: veto?.actor_id};
  state.details.set(caseNo, d);
  return d;
}

/** The inbox's first ``state.pages`` pages (oldest tasks first), its total and the cursor of the page after. */
async function inboxPages() {
  let tasks = [], cursor = null, total = 0;
  for (let i = 0; i < state.pages; i++) {
    const query = `limit=${INBOX_PAGE}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
    const {data, headers} = await api(`/inbox?${query}`, {withHeaders: true});
    tasks = tasks.concat(data);
    total = Number(headers.get("X-Total-Count") ?? tasks.length);
    cursor = headers.get("X-Next-Cursor");
    if (!cursor) break;
  }
  return {tasks, total, next: cursor};
}

async function loadInbox() {
  const pane = $("#mgr-pane");
  if (!pane || state.tab !== "inbox") return;
  try {
    const {tasks, total, next} = await inboxPages();
    await Promise.all([...new Set(tasks.map((x) => x.case_no))].map((no) => detailOf(no).catch(() => null)));
    Object.assign(state, {tasks, total, next});
    const count = $("#inbox-count");
    if (count) count.textContent = total ? String(total) : "";
    drawInbox();
    const r = $("#refreshed");
    if (r) r.textContent = t("Updated {at} · refreshes every {s} s", {at: when(new Date().toISOString(), true),
                                                                       s: store.config.refresh_seconds});
  } catch (e) {
    const msg = $("#mgr-pane .msg");
    if (msg) flash(msg, e.message, "error");
  }
}

function drawInbox() {
  const rows = $("#inbox-rows");
  if (!rows) return;
  const q = state.q.trim().toLowerCase();
  const list = state.tasks.map((task) => {
    const d = state.details.get(task.case_no);
    return {task, d, l: light(task.opened_at, task.due_at ?? task.case_deadline)};
  }).filter(({task, d}) => (!state.kind || task.kind === state.kind) && (!q || [task.case_no, task.summary,
    d?.c.applicant_name, d && itemName(d.c.item_code)].some((s) => String(s || "").toLowerCase().includes(q))))
    .filter(({l}) => !state.urgentOnly || l.cls === "red" || l.cls === "yellow")
    .sort((a, b) => (a.task.seconds_left ?? Infinity) - (b.task.seconds_left ?? Infinity) ||
      a.task.opened_at.localeCompare(b.task.opened_at));
  rows.innerHTML = list.map(({task, d, l}) => `<li class="row task ${task.case_no === state.selected ? "on" : ""}"
      data-no="${esc(task.case_no)}" data-kind="${esc(task.kind)}" tabindex="0">
      <div class="row-main"><span class="badge kind-${esc(task.kind)}">${esc(label("task", task.kind))}</span>
        <b>${esc(task.case_no)}</b> <span class="muted small">${esc(t("Respond within"))}</span> ${lightHtml(l)}</div>
      ${d ? `<div class="row-sub">${esc(d.c.applicant_name)} · ${esc(itemName(d.c.item_code))}</div>` : ""}
      ${task.kind === "veto" && d?.veto ? `<div class="why"><b>${esc(t("Reasons"))}:</b> ${esc(d.veto.reasons)}</div>
        <div class="why"><b>${esc(t("Legal basis"))}:</b> ${esc(d.veto.legal_basis)}</div>`
        : `<div class="why">${esc(task.summary)}</div>`}
      ${d?.c.description ? `<div class="muted small">${esc(t("Clerk's notes"))}: ${esc(d.c.description)}</div>` : ""}
    </li>`).join("") || `<li class="empty">${esc(state.tasks.length ? t("No task matches the filter.")
      : t("Nothing waits for you."))}</li>`;
  $$("li[data-no]", rows).forEach((li) => {
    li.onclick = () => open(li.dataset.no);
    li.onkeydown = (e) => { if (e.key === "Enter") open(li.dataset.no); };
  });
  const paging = $("#inbox-paging");
  if (!paging) return;
  paging.innerHTML = state.next ? `<span class="muted small">${esc(t("Showing the oldest {shown} of {total} tasks",
      {shown: state.tasks.length, total: state.total}))}</span>
    <button type="button" id="inbox-more">${esc(t("Show more"))}</button>` : "";
  const more = $("#inbox-more");
  if (more) more.onclick = () => { more.disabled = true; state.pages += 1; loadInbox(); };
}

// ---- consultations of my department --------------------------------------------------------------------------
async function consultationsTab(pane) {
  pane.innerHTML = `<h2>${esc(t("Consultations of my department"))}</h2><div class="msg"></div>
    <ul class="rows" id="consult-rows"><li class="empty">${esc(t("Loading…"))}</li></ul>`;
  try {
    const page = await api("/cases?status=in_consultation&limit=200");
    const lists = await Promise.all(page.items.map((c) => api(`/cases/${c.case_no}/consultations`).catch(() => [])));
    const mine = lists.flat().filter((v) => v.status === "open" &&
      (v.lead_department === store.me.department_code || v.departments.includes(store.me.department_code)));
    $("#consult-rows").innerHTML = mine.map((v) => {
      const answered = (v.opinions?.[store.me.department_code] || []).length > 0;
      return `<li class="row" data-no="${esc(v.case_no)}" tabindex="0">
        <div class="row-main"><b>${esc(v.consultation_id)}</b>
          ${v.lead_department === store.me.department_code ? `<span class="badge main">${esc(t("we lead"))}</span>` : ""}
          ${v.departments.includes(store.me.department_code) ? `<span class="badge ${answered ? "" : "warn"}">
            ${esc(answered ? t("answered") : t("our opinion is due"))}</span>` : ""}
          ${lightHtml(light(v.opened_at, v.deadline))}</div>
        <div class="row-sub">${esc(v.question)}</div></li>`;
    }).join("") || `<li class="empty">${esc(t("No open consultation concerns your department."))}</li>`;
    $$("#consult-rows li[data-no]").forEach((li) => li.onclick = () => open(li.dataset.no));
  } catch (e) { flash($(".msg", pane), e.message, "error"); }
}

// ---- search -------------------------------------------------------------------------------------------------
function searchTab(pane) {
  pane.innerHTML = `<form class="toolbar" id="search-form">
      <input type="search" id="s-q" placeholder="${esc(t("Case number or applicant"))}">
      <select id="s-status"><option value="">${esc(t("All statuses"))}</option>
        ${["registered", "awaiting_materials", "awaiting_supplement", "supplement_overdue", "in_handling",
           "veto_requested", "in_consultation", "awaiting_callback", "rectification", "closed", "rejected"]
          .map((s) => `<option value="${s}">${esc(label("status", s))}</option>`).join("")}</select>
      <label class="choice"><input type="checkbox" id="s-overdue"> ${esc(t("Overdue only"))}</label>
      <button class="secondary">${esc(t("Search"))}</button></form>
    <div class="msg"></div><p class="muted" id="search-count"></p><ul class="rows" id="search-rows"></ul>`;
  $("#search-form").onsubmit = async (ev) => {
    ev.preventDefault();
    const p = new URLSearchParams({limit: "100"});
    if ($("#s-q").value.trim()) p.set("q", $("#s-q").value.trim());
    if ($("#s-status").value) p.set("status", $("#s-status").value);
    if ($("#s-overdue").checked) p.set("overdue", "true");
    try {
      const page = await api(`/cases?${p}`);
      $("#search-count").textContent = casesCountText(page);
      $("#search-rows").innerHTML = page.items.map((c) => `<li class="row" data-no="${esc(c.case_no)}" tabindex="0">
        <div class="row-main"><b>${esc(c.case_no)}</b> ${statusBadge(c.status)}</div>
        <div class="row-sub">${esc(c.applicant_name)} · ${esc(itemName(c.item_code))}</div>
        <div>${lightHtml(caseLight(c))}</div></li>`).join("") || `<li class="empty">${esc(t("No cases."))}</li>`;
      $$("#search-rows li[data-no]").forEach((li) => li.onclick = () => open(li.dataset.no));
    } catch (e) { flash($(".msg", pane), e.message, "error"); }
  };
  $("#search-form").requestSubmit();
}
