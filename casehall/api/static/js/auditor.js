// Auditors read and write nothing: search cases, a case's timeline (actors, roles, times, decisions,
// documents), its hash-chain check and replay in plain words, its state as of a moment, and exports.
import { api } from "./api.js";
import { eventDetail } from "./caseview.js";
import { label, localInputToIso, t, when } from "./i18n.js";
import { $, $$, departmentName, download, esc, flash, itemName, openDocument, statusBadge } from "./ui.js";

const state = {selected: null, asOf: ""};

export function mount(root) {
  root.innerHTML = `<div class="split"><section class="pane list-pane">
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
      <div class="msg"></div><ul class="rows" id="audit-rows"></ul>
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
    catch (e) { flash(msg, e.message, "error"); }
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
  try {
    const page = await api(`/cases?${p}`);
    $("#audit-rows").innerHTML = page.items.map((c) => `<li class="row ${c.case_no === state.selected ? "on" : ""}"
        data-no="${esc(c.case_no)}" tabindex="0">
      <div class="row-main"><b>${esc(c.case_no)}</b> ${statusBadge(c.status)}</div>
      <div class="row-sub">${esc(c.applicant_name)} · ${esc(itemName(c.item_code))} · ${esc(when(c.registered_at))}</div>
      </li>`).join("") || `<li class="empty">${esc(t("No cases."))}</li>`;
    $$("#audit-rows li[data-no]").forEach((li) => {
      li.onclick = () => open(li.dataset.no);
      li.onkeydown = (e) => { if (e.key === "Enter") open(li.dataset.no); };
    });
  } catch (e) { flash($(".list-pane .msg"), e.message, "error"); }
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
  detail.innerHTML = `<p class="muted">${esc(t("Loading…"))}</p>`;
  const asOf = state.asOf ? localInputToIso(state.asOf, true) : null;
  const no = encodeURIComponent(caseNo);
  try {
    const tl = await api(`/audit/cases/${no}/timeline${asOf ? `?as_of=${encodeURIComponent(asOf)}` : ""}`);
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
    flash(detail, e.message, "error");
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
