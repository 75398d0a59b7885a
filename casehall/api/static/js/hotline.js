// The 12345 hotline's screens, one per role: the operator takes calls (knowledge-base search while the caller
// waits, duplicates proposed for merging) and calls back; the dispatcher dispatches and decides returns and
// extensions and on accepting petitions; a unit's handler or head signs for, replies, asks for a return or an
// extension and appeals a bad rating (their unit's orders only); the supervisor follows supervision orders and the
// decisions handed to them (overdue acceptances, reviews of petitions' replies, appeals). The centre asks for a review
// of a petition's reply for the petitioner. The order opens beside the list with its clocks (a petition's statutory
// ones), callers, supervision orders and history.
import { ApiError, api, post } from "./api.js";
import { label, localInputToIso, t, when } from "./i18n.js";
import { $, $$, esc, flash, formDialog, light, lightHtml, store } from "./ui.js";

const N_ = (s) => s;
const state = {tab: null, selected: null, timer: null, catalogue: [], orders: [], tasks: []};
const KINDS = ["urgent", "important", "normal", "consultation"];
const CHANNELS = ["phone", "wechat", "web", "email", "letter", "walk_in", "petition"];
const GRADES = ["very_satisfied", "satisfied", "basically_satisfied", "dissatisfied", "very_dissatisfied"];
const WITH_UNIT = ["dispatched", "in_handling", "return_requested"];
const UNIT_ROLES = ["unit_handler", "unit_head"];
const CENTRE_ROLES = ["operator", "dispatcher", "supervisor"];
const BAD_GRADES = ["dissatisfied", "very_dissatisfied"];
const TABS = {
  operator: [["intake", N_("New call")], ["callbacks", N_("Callbacks")], ["orders", N_("Orders")]],
  dispatcher: [["inbox", N_("Inbox")], ["orders", N_("Orders")]],
  unit_handler: [["inbox", N_("Inbox")], ["orders", N_("Our unit's orders")], ["figures", N_("Our figures")]],
  unit_head: [["inbox", N_("Inbox")], ["orders", N_("Our unit's orders")], ["figures", N_("Our figures")]],
  supervisor: [["supervised", N_("Supervision orders")], ["inbox", N_("Handed over to me")],
               ["orders", N_("Orders")]],
};
export const HOTLINE_ROLES = Object.keys(TABS);

const role = () => store.me.role;
const isUnit = () => UNIT_ROLES.includes(role());
const enc = encodeURIComponent;
const orderPath = (no) => `/orders/${enc(no)}`;
const statusBadge = (s) => `<span class="badge ost-${esc(s)}">${esc(label("ostatus", s))}</span>`;
const kindBadge = (k) => `<span class="badge okind-${esc(k)}">${esc(label("okind", k))}</span>`;
const orderLight = (o) => WITH_UNIT.includes(o.status) ? light(o.dispatched_at, o.handle_due) : {text: ""};

export async function mount(root) {
  const tabs = TABS[role()];
  if (!tabs.some(([k]) => k === state.tab)) state.tab = tabs[0][0];
  root.innerHTML = `<nav class="tabs" role="tablist">${tabs.map(([k, l]) => `<button role="tab" data-tab="${k}">
      ${esc(t(l))} ${k === "inbox" || k === "callbacks" ? `<span class="count" id="count-${k}"></span>` : ""}
      </button>`).join("")}</nav>
    <div class="split"><section class="pane list-pane" id="hl-pane"></section>
      <section class="pane detail-pane" id="detail" aria-live="polite">
        <p class="muted">${esc(t("Choose an order to see it here."))}</p></section></div>`;
  $$(".tabs button", root).forEach((b) => b.onclick = () => { state.tab = b.dataset.tab; renderTab(root); });
  const [catalogue, me] = await Promise.all([api("/hotline/catalogue").catch(() => []), api("/hotline/me")]);
  state.catalogue = catalogue;
  Object.assign(store.me, {unit_code: me.unit_code, unit_name: me.unit_name});
  renderTab(root);
  if (state.selected) openOrder(state.selected);
  clearInterval(state.timer);
  state.timer = setInterval(() => {
    if (!document.querySelector("dialog[open]") && ["inbox", "callbacks"].includes(state.tab)) loadTasks();
  }, store.config.refresh_seconds * 1000);
}

function renderTab(root) {
  $$(".tabs button", root).forEach((b) => b.setAttribute("aria-selected", String(b.dataset.tab === state.tab)));
  const pane = $("#hl-pane");
  if (state.tab === "intake") return intakeTab(pane);
  if (state.tab === "inbox" || state.tab === "callbacks") return tasksTab(pane);
  if (state.tab === "figures") return figuresTab(pane);
  return ordersTab(pane, state.tab === "supervised" ? {supervised: "true"} : {});
}

const refresh = () => { const pane = $("#hl-pane"); if (pane) renderTab(document); };

// ---- the operator's intake: knowledge base while the caller waits, duplicates proposed -------------------------
function intakeTab(pane) {
  const cats = state.catalogue.map((c) => `<option value="${esc(c.category_code)}">${esc(c.category_code)}
    ${esc(c.name)}</option>`).join("");
  pane.innerHTML = `<form id="intake-form" novalidate>
      <h2>${esc(t("New call"))}</h2><div class="msg" id="intake-msg"></div>
      <div class="inline">
        <div class="field"><label for="in-channel">${esc(t("Channel"))}</label><select id="in-channel">
          ${CHANNELS.map((c) => `<option value="${c}">${esc(label("ochannel", c))}</option>`).join("")}</select></div>
        <div class="field"><label for="in-kind">${esc(t("Kind"))}</label><select id="in-kind">
          ${KINDS.map((k) => `<option value="${k}" ${k === "normal" ? "selected" : ""}>${esc(label("okind", k))}
          </option>`).join("")}</select></div></div>
      <div class="inline">
        <div class="field"><label for="in-name">${esc(t("Caller's name"))}</label><input id="in-name"></div>
        <div class="field"><label for="in-phone">${esc(t("Phone"))}</label><input id="in-phone" inputmode="tel"></div>
      </div>
      <label class="choice"><input type="checkbox" id="in-anonymous"> ${esc(t("Anonymous caller"))}</label>
      <label class="choice"><input type="checkbox" id="in-confidential">
        ${esc(t("Keep the caller's identity from the unit"))}</label>
      <div class="field"><label for="in-address">${esc(t("Location"))} *</label><input id="in-address" required></div>
      <div class="field"><label for="in-category">${esc(t("Category"))} *</label>
        <select id="in-category" required>${cats}</select></div>
      <div class="field"><label for="in-content">${esc(t("What the caller says"))} *</label>
        <textarea id="in-content" rows="3" maxlength="4000" required></textarea></div>
      <div class="actions"><button class="primary" id="intake-btn">${esc(t("File the order"))}</button></div>
      <div id="duplicates"></div>
    </form>
    <section class="kb"><h3>${esc(t("Knowledge base"))}</h3>
      <div class="toolbar"><input type="search" id="kb-q" placeholder="${esc(t("Search the caller's question"))}">
        <button type="button" id="kb-btn">${esc(t("Search"))}</button></div>
      <ul class="rows" id="kb-hits"></ul></section>`;
  const anon = $("#in-anonymous");
  anon.onchange = () => { for (const id of ["#in-name", "#in-phone"]) { $(id).disabled = anon.checked; if (anon.checked) $(id).value = ""; } };
  $("#kb-btn").onclick = () => searchKnowledge();
  $("#kb-q").onkeydown = (e) => { if (e.key === "Enter") { e.preventDefault(); searchKnowledge(); } };
  $("#in-content").onchange = () => { if (!$("#kb-q").value.trim()) { $("#kb-q").value = $("#in-content").value; searchKnowledge(); } };
  $("#intake-form").onsubmit = (ev) => { ev.preventDefault(); fileOrder({}); };
}

function intakeBody(extra) {
  const anonymous = $("#in-anonymous").checked;
  return {channel: $("#in-channel").value, kind: $("#in-kind").value, category_code: $("#in-category").value,
          caller: {name: anonymous ? "" : $("#in-name").value.trim(), phone: anonymous ? "" : $("#in-phone").value.trim(),
                   anonymous, confidential: $("#in-confidential").checked},
          location: {address: $("#in-address").value.trim()}, content: $("#in-content").value.trim(), ...extra};
}

async function fileOrder(extra) {
  const msg = $("#intake-msg");
  const body = intakeBody(extra);
  const missing = [[body.location.address, t("Location")], [body.content, t("What the caller says")]]
    .filter(([v]) => !v).map(([, l]) => l);
  if (missing.length) return flash(msg, t("Please fill in: {fields}", {fields: missing.join(", ")}), "error");
  $("#duplicates").innerHTML = "";
  flash(msg, "");
  try {
    const filed = await post("/orders", body);
    const o = filed.order;
    flash(msg, filed.merged ? t("Call merged into order {no}. Tell the caller the code {code}.", {no: o.order_no, code: filed.public_code})
      : o.status === "answered" ? t("Answered from the knowledge base: order {no}, code {code}.", {no: o.order_no, code: filed.public_code})
      : t("Order {no} filed. Tell the caller the code {code}.", {no: o.order_no, code: filed.public_code}), "ok");
    $("#intake-msg .flash").dataset.order = o.order_no;
    for (const id of ["#in-content", "#in-address", "#in-name", "#in-phone", "#kb-q"]) $(id).value = "";
    $("#in-kind").value = "normal";
    $("#kb-hits").innerHTML = "";
    openOrder(o.order_no);
  } catch (e) {
    if (e instanceof ApiError && e.status === 409) return proposeDuplicates(body);
    flash(msg, e.message, "error");
  }
}

/** Open orders like this call: the operator merges it into one of them, or files a new order. */
async function proposeDuplicates(body) {
  const q = new URLSearchParams({category: body.category_code, address: body.location.address,
                                 phone: body.caller.phone || ""});
  const similar = await api(`/orders/duplicates?${q}`);
  const box = $("#duplicates");
  box.innerHTML = `<div class="dup-box" role="alert"><h3>${esc(t("Open orders look like this call"))}</h3>
    <ul class="rows">${similar.map((o) => `<li class="row" data-dup="${esc(o.order_no)}">
      <div class="row-main"><b>${esc(o.order_no)}</b> ${statusBadge(o.status)} ${esc(o.category_name)}</div>
      <div class="row-sub">${esc(o.address)} · ${esc(when(o.registered_at))}</div><div class="why">${esc(o.content)}</div>
      <div class="actions"><button type="button" class="primary" data-merge="${esc(o.order_no)}">
        ${esc(t("Merge the call into this order"))}</button></div></li>`).join("")}</ul>
    <div class="actions"><button type="button" class="secondary" id="file-new">${esc(t("File as a new order"))}</button></div>
    </div>`;
  $$("[data-merge]", box).forEach((b) => b.onclick = () => fileOrder({merge_into: b.dataset.merge}));
  $("#file-new").onclick = () => fileOrder({new_order: true});
}

async function searchKnowledge() {
  const q = $("#kb-q").value.trim(), list = $("#kb-hits");
  if (!q) return;
  try {
    const hits = await api(`/knowledge?${new URLSearchParams({q, limit: "5"})}`);
    list.innerHTML = hits.map((h) => `<li class="row kb-hit" data-entry="${h.id}">
        <div class="row-main"><b>${esc(h.question)}</b> ${h.stale ? `<span class="badge warn">${esc(t("Past its review date"))}</span>` : ""}</div>
        <div class="why">${esc(h.answer)}</div>
        <div class="muted small">${esc(t("Source"))}: ${esc(h.source)} · ${esc(t("Review by {date}", {date: h.review_by}))}</div>
        <div class="actions"><button type="button" class="secondary" data-answer="${h.id}"
          data-category="${esc(h.category_code || "")}">${esc(t("Answered with this entry"))}</button></div></li>`).join("")
      || `<li class="empty">${esc(t("Nothing found in the knowledge base."))}</li>`;
    $$("[data-answer]", list).forEach((b) => b.onclick = () => {
      $("#in-kind").value = "consultation";
      if (b.dataset.category && state.catalogue.some((c) => c.category_code === b.dataset.category))
        $("#in-category").value = b.dataset.category;
      if (!$("#in-content").value.trim()) $("#in-content").value = q;
      fileOrder({kind: "consultation", answer_from: Number(b.dataset.answer)});
    });
  } catch (e) { flash(list, e.message, "error"); }
}

// ---- lists: inbox tasks and orders ----------------------------------------------------------------------------
function tasksTab(pane) {
  pane.innerHTML = `<div class="muted small" id="refreshed"></div><div class="msg"></div><ul class="rows" id="task-rows"></ul>`;
  loadTasks();
}

async function loadTasks() {
  const rows = $("#task-rows"), msg = $("#hl-pane .msg");
  if (!rows) return;
  try {
    let tasks = await api("/hotline/inbox");
    if (!rows.isConnected) return;  // another tab was opened meanwhile
    if (state.tab === "callbacks") tasks = tasks.filter((x) => x.kind === "callback");
    else if (role() === "operator") tasks = tasks.filter((x) => x.kind !== "callback");
    state.tasks = tasks;
    const count = $(`#count-${state.tab}`);
    if (count) count.textContent = tasks.length ? String(tasks.length) : "";
    rows.innerHTML = tasks.map((x) => `<li class="row task" data-no="${esc(x.order_no)}" data-kind="${esc(x.kind)}" tabindex="0">
        <div class="row-main"><span class="badge okind-${esc(x.kind)}">${esc(label("otask", x.kind))}</span>
          <b>${esc(x.order_no)}</b> ${lightHtml(light(x.opened_at, x.due_at))}</div>
        <div class="why">${esc(x.summary)}</div></li>`).join("")
      || `<li class="empty">${esc(t("Nothing waits for you."))}</li>`;
    bindRows(rows);
    const r = $("#refreshed");
    if (r) r.textContent = t("Updated {at} · refreshes every {s} s", {at: when(new Date().toISOString(), true),
                                                                       s: store.config.refresh_seconds});
  } catch (e) { if (msg.isConnected) flash(msg, e.message, "error"); }
}

function ordersTab(pane, filter) {
  pane.innerHTML = `<div class="toolbar">
      <select id="o-status" aria-label="${esc(t("Status"))}"><option value="">${esc(t("All statuses"))}</option>
        ${["awaiting_dispatch", "dispatched", "in_handling", "return_requested", "awaiting_callback", "closed", "answered",
           "not_accepted", "under_review"]
          .map((s) => `<option value="${s}">${esc(label("ostatus", s))}</option>`).join("")}</select>
      <label class="choice"><input type="checkbox" id="o-overdue"> ${esc(t("Overdue"))}</label></div>
    <div class="msg"></div><div class="muted small" id="o-total"></div><ul class="rows" id="order-rows"></ul>`;
  const load = async () => {
    const q = new URLSearchParams({limit: "100", ...filter});
    if ($("#o-status").value) q.set("status", $("#o-status").value);
    if ($("#o-overdue").checked) q.set("overdue", "true");
    const rows = $("#order-rows"), total = $("#o-total"), msg = $(".msg", pane);
    try {
      const list = await api(`/orders?${q}`);
      if (!rows.isConnected) return;  // another tab was opened meanwhile
      state.orders = list.items;
      total.textContent = t("{n} orders", {n: list.total});
      rows.innerHTML = list.items.map((o) => `<li class="row ${o.order_no === state.selected ? "on" : ""}"
          data-no="${esc(o.order_no)}" tabindex="0">
          <div class="row-main"><b>${esc(o.order_no)}</b> ${statusBadge(o.status)} ${kindBadge(o.kind)}
            ${lightHtml(orderLight(o))} ${o.supervisions.length ? `<span class="badge warn">${esc(t("Supervised ×{n}", {n: o.supervisions.length}))}</span>` : ""}</div>
          <div class="row-sub">${esc(o.category_name)} · ${esc(o.address)}${o.lead_unit_name ? ` · ${esc(o.lead_unit_name)}` : ""}</div>
          <div class="why">${esc(o.content)}</div></li>`).join("")
        || `<li class="empty">${esc(t("No orders."))}</li>`;
      bindRows(rows);
    } catch (e) { if (msg.isConnected) flash(msg, e.message, "error"); }
  };
  $("#o-status").onchange = load;
  $("#o-overdue").onchange = load;
  load();
}

function bindRows(rows) {
  $$("li[data-no]", rows).forEach((li) => {
    li.onclick = () => openOrder(li.dataset.no);
    li.onkeydown = (e) => { if (e.key === "Enter") openOrder(li.dataset.no); };
  });
}

async function figuresTab(pane) {
  pane.innerHTML = `<h2>${esc(t("Our figures"))} · ${esc(store.me.unit_name || "")}</h2><div class="msg"></div>
    <dl class="facts" id="figures"></dl>`;
  const box = $("#figures"), msg = $(".msg", pane);
  try {
    const f = await api(`/units/${enc(store.me.unit_code)}/figures`);
    if (!box.isConnected) return;  // another tab was opened meanwhile
    box.innerHTML = [[t("Orders led"), f.orders_led], [t("Overdue"), f.overdue],
      [t("Supervision orders against us"), f.supervision_orders],
      [t("Time charged for returned orders"), t("{hours} h {minutes} min", {
        hours: Math.floor(f.charged_seconds_for_returns / 3600),
        minutes: Math.floor((f.charged_seconds_for_returns % 3600) / 60)})]]
      .map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join("");
  } catch (e) { if (msg.isConnected) flash(msg, e.message, "error"); }
}

// ---- the order ------------------------------------------------------------------------------------------------
async function openOrder(no) {
  state.selected = no;
  const detail = $("#detail");
  $$("#hl-pane [data-no]").forEach((el) => el.classList.toggle("on", el.dataset.no === no));
  try {
    const [o, events] = await Promise.all([api(orderPath(no)), api(`${orderPath(no)}/events`)]);
    drawOrder(detail, o, events);
  } catch (e) { flash(detail, e.message, "error"); }
  if (window.matchMedia("(max-width: 800px)").matches) detail.scrollIntoView({behavior: "smooth"});
}

function callerText(c) {
  if (c.anonymous) return t("Anonymous");
  if (c.name === null) return t("Confidential caller");
  return [c.name, c.phone].filter(Boolean).join(" · ") || t("Anonymous");
}

function drawOrder(detail, o, events) {
  const d = o.decision;
  const waiting = d && d.approve === null;
  detail.innerHTML = `<div class="case-head"><h2>${esc(o.order_no)}</h2>${statusBadge(o.status)} ${kindBadge(o.kind)}
      ${o.overdue ? `<span class="badge st-rejected">${esc(t("Overdue"))}</span>` : ""}</div>
    <div class="msg" id="order-msg"></div>
    <div class="actions" id="order-actions">${actionButtons(o)}</div>
    ${waiting ? `<div class="veto-box"><h3>${esc(d.kind === "return" ? t("Return requested") : t("Extension requested"))}</h3>
      <dl><dt>${esc(t("Reasons"))}</dt><dd>${esc(d.reason)}</dd>
      ${d.new_due ? `<dt>${esc(t("New date"))}</dt><dd>${esc(when(d.new_due))}</dd>` : ""}
      <dt>${esc(t("Requested at"))}</dt><dd>${esc(when(d.requested_at))}</dd></dl></div>` : ""}
    <dl class="facts">
      <dt>${esc(t("Category"))}</dt><dd>${esc(o.category_code)} ${esc(o.category_name)}</dd>
      <dt>${esc(t("Location"))}</dt><dd>${esc(o.address)}</dd>
      <dt>${esc(t("What the caller says"))}</dt><dd class="notes">${esc(o.content)}</dd>
      <dt>${esc(t("Registered"))}</dt><dd>${esc(when(o.registered_at))} · ${esc(o.operator)}</dd>
      ${o.answer ? `<dt>${esc(t("Answer"))}</dt><dd class="notes">${esc(o.answer)}</dd>` : ""}
      ${o.lead_unit ? `<dt>${esc(t("Lead unit"))}</dt><dd>${esc(o.lead_unit_name)} (${esc(o.lead_unit)})
        ${o.co_units.length ? `<br><span class="muted small">${esc(t("Co-units"))}: ${esc(o.co_units.join(", "))}</span>` : ""}</dd>
        <dt>${esc(t("Dispatched"))}</dt><dd>${esc(when(o.dispatched_at))}</dd>
        <dt>${esc(t("Sign for by"))}</dt><dd>${o.signed_at ? esc(t("Signed {at}", {at: when(o.signed_at)}))
          : lightHtml(light(o.dispatched_at, o.sign_due, {running: o.status === "dispatched"}))}</dd>
        <dt>${esc(t("Reply by"))}</dt><dd>${lightHtml(light(o.dispatched_at, o.handle_due, {running: WITH_UNIT.includes(o.status)}))}
          <span class="muted small">${esc(o.petition ? t("A petition's clock runs from its acceptance")
            : t("The clock runs from dispatch"))}</span></dd>` : ""}
      ${o.reply ? `<dt>${esc(t("Reply"))}</dt><dd class="notes">${esc(o.reply)} <span class="muted small">${esc(when(o.replied_at))}</span></dd>` : ""}
    </dl>
    ${petitionHtml(o)}${appealsHtml(o)}
    <h3>${esc(t("Callers"))}</h3><ol class="calls">${o.calls.map((c, i) => `<li data-call="${i}">
      <b>${esc(callerText(c))}</b> <span class="muted small">${esc(label("ochannel", c.channel))} · ${esc(when(c.at))}</span>
      ${c.callback ? `<span class="badge ${c.callback.solved ? "st-closed" : "st-rejected"}">${esc(label("grade", c.callback.grade))}
        · ${esc(c.callback.solved ? t("Solved") : t("Not solved"))}</span>` : ""}
      ${i ? `<div class="why">${esc(c.content)}</div>` : ""}</li>`).join("")}</ol>
    ${o.supervisions.length ? `<h3>${esc(t("Supervision orders"))}</h3><ul class="timeline">${o.supervisions.map((s) => `<li>
      <b>${esc(label("sreason", s.reason))}</b> · ${esc(t("to {unit}, level {level}", {unit: s.to_unit, level: s.level}))}
      <span class="muted small">${esc(when(s.at))}${s.due ? ` → ${esc(when(s.due))}` : ""}</span></li>`).join("")}</ul>` : ""}
    <h3>${esc(t("History"))}</h3><ul class="timeline">${events.map((e) => `<li data-event="${esc(e.type)}">
      <b>${esc(label("oevent", e.type))}</b> <span class="muted small">${esc(when(e.at, true))}
      ${e.actor_role ? ` · ${esc(label("role", e.actor_role))}` : ""}</span></li>`).join("")}</ul>`;
  $$("[data-act]", detail).forEach((b) => b.onclick = () => ACTIONS[b.dataset.act](o));
}

/** The buttons this user may use on this order now (the workflow checks again and refuses otherwise). */
function actionButtons(o) {
  const r = role(), mine = isUnit() && o.lead_unit === store.me.unit_code, d = o.decision;
  const waiting = d && d.approve === null;
  const out = [];
  const add = (act, text, cls = "secondary") => out.push(`<button class="${cls}" data-act="${act}">${esc(text)}</button>`);
  const p = o.petition;
  if (p && p.accepted === null && o.status === "awaiting_dispatch" &&
      (r === "dispatcher" || (r === "supervisor" && p.acceptance_overdue)))
    add("acceptance", t("Decide on acceptance"), "primary");
  if (r === "dispatcher" && o.status === "awaiting_dispatch" && (!p || p.accepted)) add("dispatch", t("Dispatch"), "primary");
  if (waiting && (r === "dispatcher" || (r === "supervisor" && d.steps_done >= 2)))
    add(d.kind === "return" ? "decide-return" : "decide-extension", d.kind === "return" ? t("Decide on the return")
      : t("Decide on the extension"), "primary");
  if (mine && o.status === "dispatched") add("sign", t("Sign for"), "primary");
  if (mine && o.status === "in_handling") add("reply", t("Reply"), "primary");
  if (mine && ["dispatched", "in_handling"].includes(o.status) && !waiting) add("return", t("Ask to return"));
  if (mine && o.status === "in_handling" && !waiting) add("extension", t("Ask for an extension"));
  if (["operator", "dispatcher", "supervisor"].includes(r) && o.status === "awaiting_callback" &&
      o.calls.some((c) => !c.callback)) add("callback", t("Call back"), "primary");
  if (CENTRE_ROLES.includes(r) && reviewOpen(o)) add("review", t("Request a review"));
  if (r === "supervisor" && o.status === "under_review") add("decide-review", t("Answer the review"), "primary");
  if (mine && appealable(o).length) add("appeal", t("Appeal the rating"));
  if (r === "supervisor" && pendingAppeal(o)) add("decide-appeal", t("Decide on the appeal"), "primary");
  return out.join("");
}

// ---- petitions (信访) and appeals of ratings (申诉复核) -----------------------------------------------------------
const LIMIT_UNITS = {minutes: N_("{n} minutes"), hours: N_("{n} hours"), days: N_("{n} days"),
                     working_days: N_("{n} working days")};
const limitText = (l) => (l ? t(LIMIT_UNITS[l.unit] || LIMIT_UNITS.days, {n: l.amount}) : "");
const pendingAppeal = (o) => o.appeals.find((a) => a.upheld === null);
/** The calls whose bad rating the unit may still appeal (one appeal per call; the API checks the time limit). */
const appealable = (o) => o.calls.map((c, i) => [c, i])
  .filter(([c, i]) => c.callback && BAD_GRADES.includes(c.callback.grade) && !o.appeals.some((a) => a.call === i));

/** A closed petition whose reply the petitioner may still ask to be reviewed (once, within its limit). */
function reviewOpen(o) {
  const p = o.petition;
  if (!p || o.status !== "closed" || p.review_requested_at || p.review_upheld !== null || !o.replied_at) return false;
  return !p.review_until || Date.now() <= new Date(p.review_until).getTime();
}

/** Until when a review may be requested: the date when the order knows it, else the limit counted from the reply. */
function reviewUntilText(o) {
  const p = o.petition;
  if (p.review_until) return when(p.review_until);
  return t("{limit} from the reply ({at})", {limit: limitText(o.petition_limits?.review_request_within),
                                             at: when(o.replied_at)});
}

const fact = (dt, dd) => `<dt>${esc(dt)}</dt><dd>${dd}</dd>`;

/** A petition's statutory clocks: acceptance decided, handling counted from acceptance, review of the reply. */
function petitionHtml(o) {
  const p = o.petition;
  if (!p) return "";
  const lim = o.petition_limits || {};
  const rows = [];
  const deciding = p.accepted === null && o.status === "awaiting_dispatch";
  rows.push(fact(t("Decide on acceptance by"), `${esc(when(p.accept_due))} ${deciding
    ? lightHtml(light(o.registered_at, p.accept_due)) : ""} <span class="muted small">${esc(t("{limit} from receipt", {limit: limitText(lim.accept_within)}))}</span>
    ${p.acceptance_overdue ? `<span class="badge st-rejected">${esc(t("Overdue: handed to the supervisors"))}</span>` : ""}`));
  if (p.accepted !== null) {
    const late = new Date(p.decided_at) > new Date(p.accept_due);
    rows.push(fact(t("Acceptance"), `<span class="badge ${p.accepted ? "st-closed" : "st-rejected"}">${esc(p.accepted
      ? t("Accepted") : t("Not accepted"))}</span> <span class="muted small">${esc(when(p.decided_at))}${late
      ? ` · ${esc(t("after the limit"))}` : ""}</span>${p.decision_reason ? `<div class="notes">${esc(p.decision_reason)}</div>` : ""}
      ${p.accepted ? "" : `<div class="muted small">${esc(t("The petitioner gets the reasons in writing."))}</div>`}`));
  }
  if (p.handle_due) {
    const extended = o.handle_due && new Date(o.handle_due) > new Date(p.handle_due);
    rows.push(fact(t("Handle by"), `${esc(when(p.handle_due))} <span class="muted small">${esc(t("{limit} from acceptance",
      {limit: limitText(lim.handle)}))}</span>${extended ? `<div>${esc(t("Extended to {at}", {at: when(o.handle_due)}))}</div>` : ""}`));
  }
  if (o.status === "closed" && !p.review_requested_at && o.replied_at) {
    rows.push(fact(t("A review may be requested until"), `${esc(reviewUntilText(o))}${reviewOpen(o) ? ""
      : ` <span class="muted small">${esc(t("the time has ended"))}</span>`}`));
  }
  if (p.review_requested_at) {
    rows.push(fact(t("Review requested"), `${esc(when(p.review_requested_at))}<div class="notes">${esc(p.review_reason)}</div>`));
    rows.push(fact(t("Review answered by"), `${esc(when(p.review_due))} ${p.review_upheld === null
      ? lightHtml(light(p.review_requested_at, p.review_due)) : ""}
      <span class="muted small">${esc(t("{limit} from the request", {limit: limitText(lim.review_within)}))}</span>
      ${p.review_overdue ? `<span class="badge st-rejected">${esc(t("Review overdue"))}</span>` : ""}`));
  }
  if (p.review_upheld !== null) {
    rows.push(fact(t("Review opinion"), `<b>${esc(p.review_upheld ? t("Reply upheld") : t("Handled again"))}</b>
      <div class="notes">${esc(p.review_opinion)}</div>`));
  }
  if (p.one_time_resolved !== null) rows.push(fact(t("Resolved at once"), esc(p.one_time_resolved ? t("yes") : t("no"))));
  return `<div class="petition-box" id="petition"><h3>${esc(t("Petition"))}</h3><dl>${rows.join("")}</dl></div>`;
}

/** The unit's appeals of bad ratings, each with the supervisor's decision. */
function appealsHtml(o) {
  if (!o.appeals.length) return "";
  return `<div class="petition-box" id="appeals"><h3>${esc(t("Appeals of ratings"))}</h3><dl>${o.appeals.map((a) => fact(
    t("Caller {n}: {grade}", {n: a.call + 1, grade: label("grade", a.grade)}),
    `${esc(a.reason)} <span class="muted small">${esc(when(a.requested_at))}</span>
     <div>${a.upheld === null ? `<span class="badge warn">${esc(t("Waiting for a supervisor"))}</span>`
       : `<span class="badge ${a.upheld ? "st-closed" : "st-rejected"}">${esc(a.upheld ? t("Upheld: the rating is not counted")
         : t("Refused: the rating stands"))}</span> ${esc(a.opinion)}`}</div>`)).join("")}</dl></div>`;
}

async function run(o, path, body) {
  const done = await post(`${orderPath(o.order_no)}/${path}`, body);
  await openOrder(o.order_no);
  flash($("#order-msg"), t("Saved."), "ok");
  if (["inbox", "callbacks", "orders", "supervised"].includes(state.tab)) refresh();
  return done;
}

const splitCodes = (s) => s.split(/[\s,，、]+/).map((x) => x.trim()).filter(Boolean);

function dispatchFields(o, {lead = null, required = true} = {}) {
  const suggested = state.catalogue.find((c) => c.category_code === o.category_code)?.unit_code;
  return [
    {name: "lead_unit", label: t("Lead unit (code)"), value: lead ?? suggested ?? "", required,
     hint: suggested ? t("The dispatch catalogue names {unit}", {unit: suggested})
       : t("The dispatch catalogue names no unit: name the lead unit")},
    {name: "co_units", label: t("Co-units (codes, separated by commas)")},
    {name: "note", label: t("Note"), type: "textarea", rows: 2},
  ];
}

const ACTIONS = {
  dispatch: (o) => formDialog({title: t("Dispatch order {no}", {no: o.order_no}), submit: t("Dispatch"),
    fields: dispatchFields(o),
    onSubmit: (v) => run(o, "dispatch", {lead_unit: v.lead_unit.trim() || null, co_units: splitCodes(v.co_units),
                                         note: v.note})}),
  "decide-return": (o) => formDialog({title: t("Decide on the return"), submit: t("Save"),
    intro: `<p class="context">${esc(o.decision.reason)}</p>`,
    fields: [{name: "approve", type: "radio", label: t("Decision"), required: true,
              options: [["yes", t("Approve the return")], ["no", t("Refuse: the unit keeps the order")]]},
             {name: "comment", label: t("Comment"), type: "textarea", rows: 2},
             ...dispatchFields(o, {lead: "", required: false}).slice(0, 2).map((f) => ({...f, name: `re_${f.name}`,
               label: `${t("Dispatch again")}: ${f.label}`, hint: t("Leave empty to dispatch later")}))],
    onSubmit: (v) => run(o, "return/decision", {approve: v.approve === "yes", comment: v.comment,
      redispatch: v.approve === "yes" && v.re_lead_unit.trim() ? {lead_unit: v.re_lead_unit.trim(),
        co_units: splitCodes(v.re_co_units)} : null})}),
  "decide-extension": (o) => formDialog({title: t("Decide on the extension"), submit: t("Save"),
    intro: `<p class="context">${esc(o.decision.reason)} → ${esc(when(o.decision.new_due))}</p>`,
    fields: [{name: "approve", type: "radio", label: t("Decision"), required: true,
              options: [["yes", t("Approve the new date")], ["no", t("Refuse the extension")]]},
             {name: "comment", label: t("Comment"), type: "textarea", rows: 2}],
    onSubmit: (v) => run(o, "extension/decision", {approve: v.approve === "yes", comment: v.comment})}),
  acceptance: (o) => formDialog({title: t("Accept petition {no}?", {no: o.order_no}), submit: t("Save"),
    intro: `<p class="context">${esc(o.content)}</p><p class="muted small">${esc(t("Decide by {at}. Accepted: handled within {limit} of acceptance. Not accepted: the order ends and the petitioner gets the reasons in writing.",
      {at: when(o.petition.accept_due), limit: limitText(o.petition_limits?.handle)}))}</p>`,
    fields: [{name: "accept", type: "radio", label: t("Decision"), required: true,
              options: [["yes", t("Accept the petition")], ["no", t("Do not accept")]]},
             {name: "reason", label: t("Reasons (required when not accepted)"), type: "textarea", rows: 3}],
    onSubmit: (v) => {
      if (v.accept === "no" && !v.reason.trim()) throw new Error(t("A petition not accepted needs the reasons in writing."));
      return run(o, "acceptance", {accept: v.accept === "yes", reason: v.reason});
    }}),
  review: (o) => formDialog({title: t("Request a review of petition {no}", {no: o.order_no}), submit: t("Request a review"),
    intro: `<p class="context">${esc(o.reply || "")}</p><p class="muted small">${esc(t("For the petitioner, until {until}. A supervisor answers within {limit}.",
      {until: reviewUntilText(o), limit: limitText(o.petition_limits?.review_within)}))}</p>`,
    fields: [{name: "reason", label: t("What the petitioner disputes"), type: "textarea", required: true}],
    onSubmit: (v) => run(o, "review", {reason: v.reason})}),
  "decide-review": (o) => formDialog({title: t("Answer the review"), submit: t("Save"),
    intro: `<p class="context">${esc(o.petition.review_reason)}</p><p class="muted small">${esc(t("Answer by {at}.",
      {at: when(o.petition.review_due)}))}</p>`,
    fields: [{name: "uphold", type: "radio", label: t("Decision"), required: true,
              options: [["yes", t("Uphold the reply: the petition is closed")],
                        ["no", t("Handle again: back to the unit")]]},
             {name: "opinion", label: t("Review opinion"), type: "textarea", required: true}],
    onSubmit: (v) => run(o, "review/decision", {uphold: v.uphold === "yes", opinion: v.opinion})}),
  appeal: (o) => {
    const calls = appealable(o);
    return formDialog({title: t("Appeal the rating"), submit: t("Appeal"),
      intro: `<p class="muted small">${esc(t("Within {limit} of the rating. A supervisor decides; upheld, the rating is not counted in our assessment.",
        {limit: limitText(o.appeal_within)}))}</p>`,
      fields: [{name: "call", type: "select", label: t("Rating"), value: String(calls[0][1]),
                options: calls.map(([c, i]) => [String(i), `${i + 1}. ${callerText(c)} · ${label("grade", c.callback.grade)}${
                  c.rated_at ? ` · ${when(c.rated_at)}` : ""}`])},
               {name: "reason", label: t("Why the rating is wrong or malicious"), type: "textarea", required: true}],
      onSubmit: (v) => run(o, "appeal", {call: Number(v.call), reason: v.reason})});
  },
  "decide-appeal": (o) => {
    const a = pendingAppeal(o);
    return formDialog({title: t("Decide on the appeal"), submit: t("Save"),
      intro: `<p class="context">${esc(t("Caller {n}: {grade}", {n: a.call + 1, grade: label("grade", a.grade)}))} · ${esc(a.reason)}</p>`,
      fields: [{name: "uphold", type: "radio", label: t("Decision"), required: true,
                options: [["yes", t("Uphold: the rating is not counted")], ["no", t("Refuse: the rating stands")]]},
               {name: "opinion", label: t("Opinion"), type: "textarea", required: true}],
      onSubmit: (v) => run(o, "appeal/decision", {uphold: v.uphold === "yes", opinion: v.opinion})});
  },
  sign: (o) => run(o, "sign", {}).catch((e) => flash($("#order-msg"), e.message, "error")),
  reply: (o) => formDialog({title: t("Reply to order {no}", {no: o.order_no}), submit: t("Reply"),
    fields: [{name: "result", label: t("What was done"), type: "textarea", rows: 4, required: true}],
    onSubmit: (v) => run(o, "reply", {result: v.result})}),
  return: (o) => formDialog({title: t("Ask to return order {no}", {no: o.order_no}), submit: t("Ask to return"),
    intro: `<p class="muted small">${esc(t("The dispatcher decides. The time the order spends with us is charged to us."))}</p>`,
    fields: [{name: "reason", label: t("Reasons"), type: "textarea", required: true}],
    onSubmit: (v) => run(o, "return", {reason: v.reason})}),
  extension: (o) => formDialog({title: t("Ask for an extension"), submit: t("Ask for an extension"),
    intro: `<p class="muted small">${esc(t("Now due {due}; at the latest {limit}.", {due: when(o.handle_due), limit: when(o.extension_limit)}))}</p>`,
    fields: [{name: "new_due", label: t("New date"), type: "datetime-local", required: true},
             {name: "reason", label: t("Reasons"), type: "textarea", required: true}],
    onSubmit: (v) => run(o, "extension", {new_due: localInputToIso(v.new_due), reason: v.reason})}),
  callback: (o) => {
    const open = o.calls.map((c, i) => [c, i]).filter(([c]) => !c.callback);
    return formDialog({title: t("Call back"), submit: t("Save"),
      intro: o.reply ? `<p class="context">${esc(o.reply)}</p>` : "",
      fields: [{name: "call", type: "select", label: t("Caller"), value: String(open[0][1]),
                options: open.map(([c, i]) => [String(i), `${i + 1}. ${callerText(c)}`])},
               {name: "solved", type: "radio", label: t("Solved?"), required: true,
                options: [["yes", t("Solved")], ["no", t("Not solved")]]},
               {name: "grade", type: "select", label: t("Satisfaction"), value: "satisfied",
                options: GRADES.map((g) => [g, label("grade", g)])},
               {name: "comment", label: t("Comment"), type: "textarea", rows: 2}],
      onSubmit: (v) => run(o, "callback", {call: Number(v.call), solved: v.solved === "yes", grade: v.grade,
                                           comment: v.comment})});
  },
};
