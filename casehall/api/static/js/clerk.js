// The window clerk: my cases (time left as a traffic light), register one matter or several, assisted cases.
import { api, post } from "./api.js";
import { showCase } from "./caseview.js";
import { label, t } from "./i18n.js";
import {
  $, $$, FINAL, caseLight, esc, flash, itemName, lightHtml, loadCatalogue, openDocument, statusBadge, store,
} from "./ui.js";

const state = {tab: "cases", showClosed: false, selected: null, cases: []};

export function mount(root) {
  root.innerHTML = `<nav class="tabs" role="tablist">
      <button role="tab" data-tab="cases">${esc(t("My cases"))}</button>
      <button role="tab" data-tab="register">${esc(t("Register"))}</button>
      <button role="tab" data-tab="several">${esc(t("Several matters"))}</button>
      <button role="tab" data-tab="assisted">${esc(t("Assisted handling"))}</button>
    </nav>
    <div class="split"><section class="pane list-pane" id="clerk-pane"></section>
      <section class="pane detail-pane" id="detail" aria-live="polite">
        <p class="muted">${esc(t("Choose a case to see it here."))}</p></section></div>`;
  $$(".tabs button", root).forEach((b) => b.onclick = () => { state.tab = b.dataset.tab; renderTab(root); });
  renderTab(root);
  if (state.selected) open(state.selected);
}

function renderTab(root) {
  $$(".tabs button", root).forEach((b) => b.setAttribute("aria-selected", String(b.dataset.tab === state.tab)));
  const pane = $("#clerk-pane");
  if (state.tab === "cases") return casesTab(pane);
  if (state.tab === "register" || state.tab === "several") {  // the catalogue as it is now (an admin may edit it)
    loadCatalogue().then(() => $$(".item-search", pane).forEach((i) => i.dispatchEvent(new Event("input"))))
      .catch(() => null);
  }
  if (state.tab === "register") return registerTab(pane);
  if (state.tab === "several") return severalTab(pane);
  return assistedTab(pane);
}

export function open(caseNo) {
  state.selected = caseNo;
  const detail = $("#detail");
  if (!detail) return;
  showCase(detail, caseNo, {onChanged: () => state.tab === "cases" && loadCases()})
    .catch((e) => flash(detail, e.message, "error"));
  if (window.matchMedia("(max-width: 800px)").matches) detail.scrollIntoView({behavior: "smooth"});
}

// ---- my cases -----------------------------------------------------------------------------------------------
function casesTab(pane) {
  pane.innerHTML = `<div class="toolbar">
      <input type="search" id="case-filter" placeholder="${esc(t("Case number or applicant"))}">
      <label class="choice"><input type="checkbox" id="show-closed" ${state.showClosed ? "checked" : ""}>
        ${esc(t("Show finished"))}</label>
      <button class="secondary" id="reload">${esc(t("Refresh"))}</button></div>
    <div class="legend">${[["green", t("Time left")], ["yellow", t("Running out")], ["red", t("Overdue")],
      ["paused", t("Clock paused")]].map(([c, text]) => `<span class="light ${c}"><i></i>${esc(text)}</span>`).join("")}
    </div>
    <div class="msg"></div><ul class="rows" id="case-rows"></ul>`;
  $("#case-filter").oninput = drawCases;
  $("#show-closed").onchange = (e) => { state.showClosed = e.target.checked; drawCases(); };
  $("#reload").onclick = loadCases;
  loadCases();
}

async function loadCases() {
  const msg = $("#clerk-pane .msg");
  try {
    const page = await api(`/cases?clerk_id=${store.me.user_id}&limit=200`);
    state.cases = page.items;
    drawCases();
  } catch (e) { if (msg) flash(msg, e.message, "error"); }
}

function drawCases() {
  const rows = $("#case-rows");
  if (!rows) return;
  const q = ($("#case-filter")?.value || "").trim().toLowerCase();
  const list = state.cases
    .filter((c) => state.showClosed || !FINAL.includes(c.status))
    .filter((c) => !q || c.case_no.toLowerCase().includes(q) || c.applicant_name.toLowerCase().includes(q))
    .map((c) => ({c, l: caseLight(c)}))
    .sort((a, b) => a.l.rank - b.l.rank || String(a.c.deadline).localeCompare(String(b.c.deadline)));
  rows.innerHTML = list.map(({c, l}) => `<li class="row ${c.case_no === state.selected ? "on" : ""}"
      data-no="${esc(c.case_no)}" tabindex="0">
      <div class="row-main"><b>${esc(c.case_no)}</b> ${statusBadge(c.status)}</div>
      <div class="row-sub">${esc(c.applicant_name)} · ${esc(itemName(c.item_code))}</div>
      <div>${lightHtml(l)}</div></li>`).join("") || `<li class="empty">${esc(t("No cases."))}</li>`;
  $$("li[data-no]", rows).forEach((li) => {
    li.onclick = () => { open(li.dataset.no); drawCases(); };
    li.onkeydown = (e) => { if (e.key === "Enter") li.click(); };
  });
}

// ---- register -----------------------------------------------------------------------------------------------
const PERSON_IDS = ["resident_id", "passport", "foreign_passport", "hk_macao_permit", "taiwan_permit",
                    "foreign_permanent_residence"];
const selectable = () => store.items.filter((i) => i.code !== "HALL-COMBINED" && !i.withdrawn_at);

function itemPicker(prefix) {
  return `<div class="field"><label for="${prefix}-search">${esc(t("Service item"))} *</label>
    <input type="search" id="${prefix}-search" class="item-search" autocomplete="off"
      placeholder="${esc(t("Search by name or code"))}">
    <div class="item-list" id="${prefix}-items" role="radiogroup"></div></div>
    <div class="field materials" id="${prefix}-materials"></div>`;
}

function wirePicker(prefix, onPick) {
  const search = $(`#${prefix}-search`), list = $(`#${prefix}-items`);
  let chosen = null;
  const draw = () => {
    const q = search.value.trim().toLowerCase();
    const found = selectable().filter((i) => !q || i.name.toLowerCase().includes(q) || i.code.toLowerCase().includes(q));
    list.innerHTML = found.slice(0, 8).map((i) => `<label class="choice item-choice">
      <input type="radio" name="${prefix}-item" value="${esc(i.code)}" ${chosen === i.code ? "checked" : ""}>
      ${esc(i.name)} <span class="muted">${esc(i.code)} · ${esc(t("{days} working days", {days: i.time_limit_days}))}</span>
      </label>`).join("") || `<p class="muted">${esc(t("No item matches."))}</p>`;
    $$("input", list).forEach((r) => r.onchange = () => { chosen = r.value; materials(prefix, chosen); onPick?.(chosen); });
  };
  search.oninput = draw;
  draw();
  return () => chosen;
}

function materials(prefix, code) {
  const item = store.items.find((i) => i.code === code);
  $(`#${prefix}-materials`).innerHTML = item ? `<fieldset><legend>${esc(t("Materials the applicant brought"))}</legend>
    ${item.materials.map((m) => `<label class="choice material">
      <input type="checkbox" class="mat" value="${esc(m.name)}"> ${esc(m.name)}
      <span class="badge ${m.main ? "main" : "secondary"}">${esc(m.main ? t("main") : t("secondary"))}</span>
      </label>`).join("") || `<p class="muted">${esc(t("This item needs no materials."))}</p>`}
    <small class="muted">${esc(t("A missing secondary material: accepted now, supplemented later (one-time notice). A missing main material: one-time notice, the case waits."))}</small>
    </fieldset>` : "";
}

function applicantFields(prefix) {
  return `<fieldset class="applicant"><legend>${esc(t("Applicant"))}</legend>
    <div class="inline">
      <label class="choice"><input type="radio" name="${prefix}-kind" value="person" checked> ${esc(t("Person"))}</label>
      <label class="choice"><input type="radio" name="${prefix}-kind" value="company"> ${esc(t("Company"))}</label></div>
    <div class="field"><label for="${prefix}-name" data-person="${esc(t("Name"))}" data-company="${esc(t("Company name"))}">
      ${esc(t("Name"))} *</label><input id="${prefix}-name" required maxlength="200"></div>
    <div class="field"><label for="${prefix}-phone">${esc(t("Phone"))} *</label>
      <input id="${prefix}-phone" type="tel" required maxlength="20"></div>
    <div class="field" id="${prefix}-idtype-field"><label for="${prefix}-idtype">${esc(t("Identity document"))}</label>
      <select id="${prefix}-idtype">${PERSON_IDS.map((v) => `<option value="${v}">${esc(label("idtype", v))}</option>`)
        .join("")}</select></div>
    <div class="field"><label for="${prefix}-id" data-person="${esc(t("Document number"))}"
      data-company="${esc(t("Unified social credit code"))}">${esc(t("Document number"))} *</label>
      <input id="${prefix}-id" required maxlength="40" autocomplete="off"></div></fieldset>`;
}

function wireApplicant(prefix) {
  $$(`input[name="${prefix}-kind"]`).forEach((r) => r.onchange = () => {
    for (const id of ["name", "id"]) {
      const l = $(`label[for="${prefix}-${id}"]`);
      l.textContent = `${l.dataset[r.value]} *`;
    }
    $(`#${prefix}-idtype-field`).hidden = r.value === "company";
  });
}

function applicantOf(prefix) {
  const kind = $(`input[name="${prefix}-kind"]:checked`).value;
  const a = {name: $(`#${prefix}-name`).value.trim(), phone: $(`#${prefix}-phone`).value.trim(),
             id_number: $(`#${prefix}-id`).value.trim().toUpperCase(), kind,
             id_type: kind === "company" ? "uscc" : $(`#${prefix}-idtype`).value};
  // Only what is plainly missing is caught here; the server checks the numbers (check digits, dates).
  const problems = [];
  if (!a.name) problems.push(t("the name"));
  if (!/^\+?[0-9\- ]{5,20}$/.test(a.phone)) problems.push(t("a phone number (digits)"));
  if (!a.id_number) problems.push(kind === "person" ? t("the document number") : t("the unified social credit code"));
  if (problems.length) throw new Error(t("Please fill in: {fields}", {fields: problems.join(", ")}));
  return a;
}

function registerTab(pane) {
  pane.innerHTML = `<form id="register-form" class="form" novalidate>
    <h2>${esc(t("Register a case"))}</h2>
    <div class="msg" id="register-msg"></div>
    ${itemPicker("reg")}
    ${applicantFields("reg")}
    <div class="field"><label for="reg-channel">${esc(t("Channel"))}</label><select id="reg-channel">
      ${["window", "online", "phone", "hotline"].map((c) => `<option value="${c}">${esc(label("channel", c))}</option>`).join("")}
      </select></div>
    <div class="field"><label for="reg-mode">${esc(t("Handling"))}</label><select id="reg-mode">
      ${["window", "online", "home_visit"].map((c) => `<option value="${c}">${esc(label("mode", c))}</option>`).join("")}
      </select></div>
    <label class="choice"><input type="checkbox" id="reg-urgent"> ${esc(t("Urgent, from another region"))}</label>
    <div class="field"><label for="reg-desc">${esc(t("Request and notes"))}</label>
      <textarea id="reg-desc" rows="3" maxlength="4000"></textarea></div>
    <label class="choice"><input type="checkbox" id="reg-accept" checked> ${esc(t("Accept at once (issues the one-time notice if something is missing)"))}</label>
    <div class="actions"><button type="submit" class="primary" id="register-btn">${esc(t("Register"))}</button></div>
  </form>`;
  const picked = wirePicker("reg");
  wireApplicant("reg");
  $("#register-form").onsubmit = async (ev) => {
    ev.preventDefault();
    const msg = $("#register-msg"), button = $("#register-btn");
    flash(msg, "");
    try {
      const code = picked();
      if (!code) throw new Error(t("Choose the service item"));
      const applicant = applicantOf("reg");
      button.disabled = true;
      let c = await post("/cases", {item_code: code, applicant, channel: $("#reg-channel").value,
        handling_mode: $("#reg-mode").value, cross_region_urgent: $("#reg-urgent").checked,
        description: $("#reg-desc").value, submitted_materials: $$("#reg-materials .mat:checked").map((x) => x.value)});
      if ($("#reg-accept").checked) c = await post(`/cases/${c.case_no}/accept`);
      const docs = c.missing_materials.length ? await api(`/cases/${c.case_no}/documents`) : [];
      const notice = docs.find((d) => d.kind === "one_time_notice");
      registerTab(pane);  // a cleared form for the next applicant
      success($("#register-msg"), c, notice);
      open(c.case_no);
    } catch (e) {
      flash(msg, e.message, "error");
      button.disabled = false;
    }
  };
}

function success(box, c, notice) {
  box.innerHTML = `<div class="flash ok" role="status">
    <p><b>${esc(t("Registered: {no}", {no: c.case_no}))}</b> · ${esc(label("status", c.status))}</p>
    ${c.missing_materials.length ? `<p>${esc(t("Missing: {items}", {items: c.missing_materials.join("、")}))}</p>` : ""}
    ${notice ? `<button type="button" class="primary" id="print-notice">${esc(t("Print the one-time notice"))}</button>` : ""}
  </div>`;
  const print = $("#print-notice");
  if (print) {
    print.onclick = () => openDocument(notice.download).catch((e) => flash(box, e.message, "error"));
    print.focus();
  }
}

// ---- several matters at one window -------------------------------------------------------------------------
function severalTab(pane) {
  pane.innerHTML = `<form id="several-form" class="form" novalidate>
    <h2>${esc(t("Several matters at one window"))}</h2>
    <p class="muted">${esc(t("One case number for the applicant; each matter goes to its own department with its own deadline."))}</p>
    <div class="msg" id="several-msg"></div>
    ${applicantFields("sev")}
    <div id="matters"></div>
    <div class="actions"><button type="button" class="secondary" id="add-matter">${esc(t("Add a matter"))}</button></div>
    <div class="field"><label for="sev-desc">${esc(t("Request and notes"))}</label>
      <textarea id="sev-desc" rows="2" maxlength="4000"></textarea></div>
    <div class="actions"><button type="submit" class="primary" id="several-btn">${esc(t("Register all matters"))}</button></div>
  </form>`;
  wireApplicant("sev");
  const pickers = [];
  const add = () => {
    const n = pickers.length + 1;
    const box = document.createElement("fieldset");
    box.className = "matter";
    box.innerHTML = `<legend>${esc(t("Matter {n}", {n}))}</legend>${itemPicker(`m${n}`)}`;
    $("#matters").append(box);
    pickers.push({n, picked: wirePicker(`m${n}`)});
  };
  add(); add();
  $("#add-matter").onclick = () => { if (pickers.length < 10) add(); };
  $("#several-form").onsubmit = async (ev) => {
    ev.preventDefault();
    const msg = $("#several-msg");
    flash(msg, "");
    try {
      const applicant = applicantOf("sev");
      const matters = pickers.filter((p) => p.picked()).map((p) => ({item_code: p.picked(),
        submitted_materials: $$(`#m${p.n}-materials .mat:checked`).map((x) => x.value)}));
      if (matters.length < 2) throw new Error(t("Choose at least two matters"));
      $("#several-btn").disabled = true;
      const c = await post("/cases/combined", {applicant, description: $("#sev-desc").value, matters});
      severalTab(pane);
      flash($("#several-msg"), t("Registered: {no}", {no: c.case_no}) + ` (${t("{n} matters", {n: matters.length})})`);
      open(c.case_no);
    } catch (e) {
      flash(msg, e.message, "error");
      const b = $("#several-btn"); if (b) b.disabled = false;
    }
  };
}

// ---- assisted handling: the cases I help with ---------------------------------------------------------------
async function assistedTab(pane) {
  pane.innerHTML = `<h2>${esc(t("Cases I help with"))}</h2><div class="msg"></div><ul class="rows" id="assisted-rows"></ul>`;
  try {
    const list = await api("/assisted");
    $("#assisted-rows").innerHTML = list.map((a) => `<li class="row" data-no="${esc(a.case.case_no)}" tabindex="0">
      <div class="row-main"><b>${esc(a.case.case_no)}</b> ${statusBadge(a.case.status)}</div>
      <div class="row-sub">${esc(a.case.applicant_name)} · ${esc(itemName(a.case.item_code))}
        ${a.matters.length ? ` · ${esc(t("{n} matters", {n: a.matters.length}))}` : ""}
        ${a.consultations.length ? ` · ${esc(t("{n} consultations", {n: a.consultations.length}))}` : ""}</div>
      <div>${lightHtml(caseLight(a.case))}</div></li>`).join("") ||
      `<li class="empty">${esc(t("No case has named you as its helper."))}</li>`;
    $$("#assisted-rows li[data-no]").forEach((li) => li.onclick = () => open(li.dataset.no));
  } catch (e) { flash($(".msg", pane), e.message, "error"); }
}
