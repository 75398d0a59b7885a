// One case in context: what it is, what is needed to decide, every action its reader may take, its documents,
// consultations, matters and history. Used by the clerk's and the manager's screens.
import { api, post } from "./api.js";
import { label, localInputToIso, t, when } from "./i18n.js";
import {
  $, $$, FINAL, caseLight, colleagues, departmentName, esc, flash, formDialog, itemName, itemOf, lightHtml,
  openDocument, statusBadge, store, userName,
} from "./ui.js";

const VETO_FROM = ["registered", "awaiting_materials", "awaiting_supplement", "supplement_overdue", "in_handling"];
const SUPPLEMENT_FROM = ["awaiting_materials", "awaiting_supplement", "supplement_overdue"];
export const GRADES = ["very_satisfied", "satisfied", "basically_satisfied", "dissatisfied", "very_dissatisfied"];

/** The latest event of a type, newest first. */
const last = (events, type) => [...events].reverse().find((e) => e.type === type);

/** What an event says, in a line (reasons, results, grades, who it went to). */
export function eventDetail(e) {
  const p = e.payload || {};
  switch (e.type) {
    case "registered":
      return p.missing?.length ? t("Missing: {items}", {items: p.missing.join("、")}) : t("Materials complete");
    case "accepted": case "accepted_on_instruction": case "accepted_after_consultation": case "materials_complete":
    case "proceed_without_missing":
      return p.deadline ? t("Deadline {at}", {at: when(p.deadline)}) : "";
    case "accepted_tolerantly":
      return t("Missing: {items}", {items: (p.missing || []).join("、")}) +
        (p.supplement_deadline ? " · " + t("supplement by {at}", {at: when(p.supplement_deadline)}) : "");
    case "one_time_notice_issued": case "supplement_overdue": case "supplement_reminder":
      return t("Missing: {items}", {items: (p.missing || []).join("、")});
    case "supplement_received":
      return (p.items || []).join("、") + (p.on_behalf_of_applicant ? " · " + t("on the applicant's behalf") : "");
    case "supplement_extended": return t("{days} working days more", {days: p.days});
    case "veto_requested": return `${t("Reasons")}: ${p.reasons} · ${t("Legal basis")}: ${p.legal_basis}`;
    case "veto_approved": return p.comment ? `${t("Comment")}: ${p.comment}` : "";
    case "veto_refused":
      return `${label("instruction", p.instruction)}${p.comment ? ` · ${t("Comment")}: ${p.comment}` : ""}`;
    case "handed_over": return `→ ${p.to_username}${p.reason ? ` · ${p.reason}` : ""}`;
    case "handling_arranged":
      return [label("mode", p.mode), p.appointment_at ? when(p.appointment_at) : "", p.address].filter(Boolean)
        .join(" · ");
    case "completed": case "rectified": return p.result || "";
    case "callback_rated": case "callback_dissatisfied":
      return label("grade", p.grade) + (p.comment ? ` · ${p.comment}` : "");
    case "consultation_convened": return `${p.consultation_id}: ${p.question || ""}`;
    case "consultation_concluded": return `${label("conclusion", p.decision)}${p.reasons ? ` · ${p.reasons}` : ""}`;
    case "helper_assigned": return p.helper || "";
    case "signed_on_behalf": return p.document || "";
    case "deadline_recomputed": return p.new ? t("Deadline {at}", {at: when(p.new)}) : "";
    case "veto_escalated": case "rectification_escalated": case "veto_reminder": return label("role", p.to);
    default: return "";
  }
}

/** A department and every department above it (a manager above may decide). */
function departmentPath(code) {
  const path = [];
  for (let d = code; d && !path.includes(d); d = store.departments.find((x) => x.code === d)?.parent_code) path.push(d);
  return path;
}

/** Who may do what on this case, as far as the screen can tell (the server decides in the end). */
function rights(c, events) {
  const me = store.me;
  const decider = ["manager", "director"].includes(me.role) && departmentPath(c.department_code)
    .includes(me.department_code);
  const responsible = me.role !== "auditor" && me.role !== "admin" && (me.user_id === c.clerk_id || decider);
  const helperEvent = last(events, "helper_assigned");
  const helper = helperEvent && helperEvent.payload.helper_id === me.user_id;
  const writer = ["clerk", "manager", "director"].includes(me.role);
  return {decider, responsible, helper, writer, open: !FINAL.includes(c.status)};
}

function actionsFor(c, events, r) {
  const list = [];
  const add = (id, text, cls = "") => list.push({id, text, cls});
  const s = c.status;
  const combined = c.item_code === "HALL-COMBINED";
  if (r.decider && s === "veto_requested") {
    add("veto-approve", t("Approve the veto"), "danger");
    add("veto-refuse", t("Refuse the veto"), "primary");
  }
  if (r.decider && s === "supplement_overdue") add("overdue", t("Decide on the overdue supplement"), "primary");
  if (r.decider && s === "rectification") add("rectify", t("Record the rectification"), "primary");
  if (r.responsible && s === "registered" && !combined) add("accept", t("Accept"), "primary");
  if ((r.responsible || r.helper) && SUPPLEMENT_FROM.includes(s) && c.missing_materials.length)
    add("supplement", t("Receive supplements"), "primary");
  if (r.responsible && s === "in_handling" && !combined) add("complete", t("Complete"), "primary");
  if (r.writer && s === "awaiting_callback") add("callback", t("Record the callback"), "primary");
  if (r.responsible && VETO_FROM.includes(s) && !combined && store.me.role === "clerk")
    add("veto", t("Request a veto"), "danger");
  if (r.responsible && VETO_FROM.includes(s) && !combined)
    add("consult", store.me.role === "clerk" ? t("Cannot be handled: convene a consultation")
      : t("Convene a joint consultation"));
  if (r.responsible && r.open && store.me.role === "clerk") add("handover", t("Hand over"));
  const waiting = ["veto_requested", "in_consultation"].includes(s);
  if (r.responsible && r.open && !combined && !waiting) add("handling", t("Home visit / online handling"));
  if (r.decider && r.open && !waiting) add("helper", t("Assign a helper"));
  if (r.helper && r.open) add("sign", t("Sign on the applicant's behalf"));
  return list;
}

// ---- the dialogs of each action ----------------------------------------------------------------------------
function vetoBox(c, events) {
  const e = last(events, "veto_requested");
  if (!e) return "";
  const p = e.payload;
  return `<div class="veto-box">
    <h3>${esc(t("Veto request"))}</h3>
    <dl><dt>${esc(t("Reasons"))}</dt><dd class="reasons">${esc(p.reasons)}</dd>
    <dt>${esc(t("Legal basis"))}</dt><dd class="legal-basis">${esc(p.legal_basis)}</dd>
    <dt>${esc(t("Requested by"))}</dt><dd>${esc(`${userName(e.actor_id)} · ${label("role", e.actor_role)} · ${when(e.at)}`)}</dd>
    ${p.escalate_at ? `<dt>${esc(t("Goes to the director at"))}</dt><dd>${esc(when(p.escalate_at))}</dd>` : ""}
    ${p.consultation_id ? `<dt>${esc(t("Joint consultation"))}</dt><dd>${esc(p.consultation_id)}</dd>` : ""}</dl>
  </div>`;
}

const decisionContext = (c, events) => `<div class="context">
  <p><b>${esc(c.case_no)}</b> · ${esc(c.applicant_name)} · ${esc(itemName(c.item_code))}</p>${vetoBox(c, events)}</div>`;

function departmentChoices() {
  return store.departments.filter((d) => d.kind !== "bureau" && d.active !== false).map((d) => [d.code, `${d.name} (${d.code})`]);
}

async function consultDialog(c, cannotBeHandled) {
  const deps = departmentChoices();
  return formDialog({
    title: cannotBeHandled ? t("Cannot be handled: convene a consultation") : t("Convene a joint consultation"),
    intro: `<p class="muted">${esc(t("The departments answer with their opinions; the lead department concludes."))}</p>`,
    fields: [
      {name: "lead_department", label: t("Lead department"), type: "select", options: deps, value: c.department_code},
      {name: "departments", label: t("Departments consulted"), type: "checkboxes", options: deps},
      {name: "question", label: t("Question"), type: "textarea", required: true},
      {name: "deadline_days", label: t("Working days to answer"), type: "number", value: "5", min: 1, max: 60},
    ],
    submit: t("Convene"),
    onSubmit: (v) => {
      if (!v.departments.length) throw new Error(t("Choose at least one department to consult"));
      return post(`/cases/${c.case_no}/consultations`, {
        lead_department: v.lead_department, departments: v.departments, question: v.question,
        deadline_days: Number(v.deadline_days) || 5, cannot_be_handled: cannotBeHandled});
    },
  });
}

async function runAction(id, c, events) {
  const no = c.case_no;
  const path = (p) => `/cases/${no}/${p}`;
  switch (id) {
    case "accept":
      return post(path("accept"));
    case "supplement":
      return formDialog({
        title: t("Receive supplements"),
        fields: [
          {name: "items", label: t("Materials received now"), type: "checkboxes",
           options: c.missing_materials.map((m) => [m, m])},
          {name: "behalf", type: "checkboxes", label: t("Assisted handling"),
           options: [["yes", t("Supplied by a helper on the applicant's behalf")]]},
        ],
        submit: t("Record"),
        onSubmit: (v) => {
          if (!v.items.length) throw new Error(t("Tick the materials that arrived"));
          return post(path("supplements"), {items: v.items, on_behalf_of_applicant: v.behalf.includes("yes")});
        },
      });
    case "complete":
      return formDialog({title: t("Complete"), fields: [
        {name: "result", label: t("Result"), type: "textarea", required: true}], submit: t("Complete"),
        onSubmit: (v) => post(path("complete"), {result: v.result})});
    case "rectify":
      return formDialog({title: t("Record the rectification"), intro: decisionContext(c, events), fields: [
        {name: "result", label: t("What was rectified"), type: "textarea", required: true}], submit: t("Record"),
        onSubmit: (v) => post(path("rectification"), {result: v.result})});
    case "callback":
      return formDialog({title: t("Record the callback"), fields: [
        {name: "grade", label: t("Satisfaction"), type: "radio", required: true,
         options: GRADES.map((g) => [g, label("grade", g)])},
        {name: "comment", label: t("What the applicant said"), type: "textarea",
         hint: t("Not satisfied or very dissatisfied opens a rectification for the manager.")}],
        submit: t("Record"), onSubmit: (v) => post(path("satisfaction"), {grade: v.grade, comment: v.comment})});
    case "veto":
      return formDialog({
        title: t("Request a veto"),
        intro: `<p class="notice">${esc(t("The window never says no alone: a manager decides. If approved, the applicant receives a written notice with these reasons and this legal basis."))}</p>`,
        fields: [
          {name: "reasons", label: t("Reasons"), type: "textarea", required: true, rows: 4},
          {name: "legal_basis", label: t("Legal basis"), type: "textarea", required: true, rows: 3,
           hint: t("Name the law or regulation and its article, e.g. 《个体工商户条例》第八条")},
        ],
        submit: t("Send to the manager"), danger: true,
        onSubmit: (v) => post(path("veto"), {reasons: v.reasons, legal_basis: v.legal_basis}),
      });
    case "veto-approve":
      return formDialog({
        title: t("Approve the veto?"),
        intro: decisionContext(c, events) + `<p class="notice danger">${esc(t("This cannot be undone: the case is rejected and the rejection notice is issued to the applicant."))}</p>`,
        fields: [{name: "comment", label: t("Comment"), type: "textarea"}],
        submit: t("Yes, approve the veto"), danger: true,
        onSubmit: (v) => post(path("veto/decision"), {approve: true, comment: v.comment}),
      });
    case "veto-refuse": {
      const deps = departmentChoices();
      const workers = (await colleagues()).filter((u) => u.role === "clerk");
      return formDialog({
        title: t("Refuse the veto"),
        intro: decisionContext(c, events),
        fields: [
          {name: "instruction", label: t("Instead"), type: "radio", required: true, value: "accept",
           options: ["accept", "joint_consultation", "assisted_handling"].map((i) => [i, label("instruction", i)])},
          {name: "comment", label: t("Comment for the clerk"), type: "textarea"},
          {name: "question", label: t("Question for the consultation"), type: "textarea"},
          {name: "departments", label: t("Departments consulted"), type: "checkboxes", options: deps},
          {name: "helper", label: t("Helper"), type: "select",
           options: [["", "—"], ...workers.map((u) => [u.username, `${u.display_name} (${u.username})`])]},
        ],
        submit: t("Refuse the veto"),
        onChange: (v, form) => {
          for (const name of ["question", "departments"])
            $(`[data-field="${name}"]`, form).hidden = v.instruction !== "joint_consultation";
          $(`[data-field="helper"]`, form).hidden = v.instruction !== "assisted_handling";
        },
        onSubmit: async (v) => {
          const body = {approve: false, instruction: v.instruction, comment: v.comment};
          if (v.instruction === "joint_consultation") {
            if (!v.question.trim() || !v.departments.length)
              throw new Error(t("A consultation needs a question and at least one department"));
            body.consultation = {lead_department: c.department_code, departments: v.departments,
                                 question: v.question};
          }
          const out = await post(path("veto/decision"), body);
          if (v.instruction === "assisted_handling" && v.helper) await post(path("helper"), {username: v.helper});
          return out;
        },
      });
    }
    case "overdue":
      return formDialog({
        title: t("Decide on the overdue supplement"), intro: decisionContext(c, events) +
          `<p>${esc(t("Missing: {items}", {items: c.missing_materials.join("、")}))}</p>`,
        fields: [
          {name: "choice", label: t("Decision"), type: "radio", required: true, value: "extend",
           options: [["extend", t("Give the applicant more time")], ["proceed", t("Proceed without the missing materials")]]},
          {name: "days", label: t("Working days more"), type: "number", value: "5", min: 1, max: 60},
        ],
        onChange: (v, form) => { $(`[data-field="days"]`, form).hidden = v.choice !== "extend"; },
        submit: t("Decide"),
        onSubmit: (v) => post(path("supplements/overdue-decision"),
                              {extend_days: v.choice === "extend" ? Number(v.days) || 5 : null}),
      });
    case "consult":
      return consultDialog(c, store.me.role === "clerk");
    case "handover": {
      const clerks = (await colleagues()).filter((u) => u.role === "clerk" && u.user_id !== c.clerk_id);
      return formDialog({title: t("Hand over"), fields: [
        {name: "to", label: t("To clerk"), type: "select", options: clerks.map((u) => [u.username,
          `${u.display_name} (${u.username})`])},
        {name: "reason", label: t("Reason"), type: "textarea"}], submit: t("Hand over"),
        onSubmit: (v) => post(path("handover"), {to_username: v.to, reason: v.reason})});
    }
    case "handling":
      return formDialog({title: t("Home visit / online handling"), fields: [
        {name: "mode", label: t("How"), type: "radio", required: true, value: c.handling_mode,
         options: ["window", "online", "home_visit"].map((m) => [m, label("mode", m)])},
        {name: "appointment", label: t("Appointment"), type: "datetime-local"},
        {name: "address", label: t("Address"), type: "text"}],
        onChange: (v, form) => {
          for (const n of ["appointment", "address"]) $(`[data-field="${n}"]`, form).hidden = v.mode !== "home_visit";
        },
        submit: t("Arrange"),
        onSubmit: (v) => {
          if (v.mode === "home_visit" && !v.appointment) throw new Error(t("A home visit needs an appointment time"));
          return post(path("handling"), {mode: v.mode, address: v.mode === "home_visit" ? v.address : "",
                                         appointment_at: v.mode === "home_visit" ? localInputToIso(v.appointment) : null});
        }});
    case "helper": {
      const workers = (await colleagues()).filter((u) => u.role === "clerk");
      return formDialog({title: t("Assign a helper"), intro: `<p class="muted">${esc(t("The helper handles the whole procedure for the applicant; what they do is recorded as done on the applicant's behalf."))}</p>`,
        fields: [{name: "helper", label: t("Helper"), type: "select",
                  options: workers.map((u) => [u.username, `${u.display_name} (${u.username})`])}],
        submit: t("Assign"), onSubmit: (v) => post(path("helper"), {username: v.helper})});
    }
    case "sign":
      return formDialog({title: t("Sign on the applicant's behalf"), fields: [
        {name: "document", label: t("Document signed"), type: "text", required: true},
        {name: "note", label: t("Note"), type: "textarea"}], submit: t("Sign"),
        onSubmit: (v) => post(path("signatures"), {document: v.document, note: v.note})});
    default:
      return null;
  }
}

// ---- consultations ------------------------------------------------------------------------------------------
function consultationHtml(v) {
  const me = store.me;
  const member = v.departments.includes(me.department_code) && me.role !== "auditor";
  const lead = v.lead_department === me.department_code && ["manager", "director"].includes(me.role);
  const open = v.status === "open";
  const opinions = v.departments.map((d) => {
    const versions = v.opinions?.[d] || [];
    const o = versions[versions.length - 1];
    return `<li><b>${esc(departmentName(d))}</b>: ${o ? `${esc(label("opinion", o.decision))} · ${esc(o.text)}
      ${o.legal_basis ? `<span class="muted">(${esc(o.legal_basis)})</span>` : ""}
      <span class="muted">v${o.version} · ${esc(when(o.at))}</span>` : `<span class="muted">${esc(t("no answer yet"))}</span>`}</li>`;
  }).join("");
  return `<div class="consultation" data-consultation="${esc(v.consultation_id)}">
    <p><b>${esc(v.consultation_id)}</b> · ${esc(label("consultation", v.status))} ·
      ${esc(t("Lead department"))}: ${esc(departmentName(v.lead_department))}
      ${v.deadline ? ` · ${esc(t("Deadline {at}", {at: when(v.deadline)}))}` : ""}</p>
    <p>${esc(v.question)}</p><ul>${opinions}</ul>
    ${v.conclusion ? `<p class="conclusion">${esc(t("Conclusion"))}: ${esc(label("conclusion", v.conclusion.decision))} ·
      ${esc(v.conclusion.reasons)}</p>` : ""}
    <div class="actions">
      ${open && member ? `<button data-c-act="answer">${esc(t("Give our opinion"))}</button>` : ""}
      ${open && lead ? `<button class="secondary" data-c-act="extend">${esc(t("Extend"))}</button>
        <button data-c-act="conclude">${esc(t("Conclude"))}</button>` : ""}
      <button class="secondary" data-c-act="minutes">${esc(t("Minutes (PDF)"))}</button>
    </div></div>`;
}

async function consultationAction(act, v) {
  const path = `/consultations/${v.consultation_id}`;
  if (act === "minutes") return openDocument(`${path}/minutes.pdf`);
  if (act === "answer")
    return formDialog({title: t("Give our opinion"), intro: `<p>${esc(v.question)}</p>`, fields: [
      {name: "decision", label: t("Opinion"), type: "radio", required: true, value: "agree",
       options: ["agree", "agree_with_conditions", "disagree"].map((d) => [d, label("opinion", d)])},
      {name: "text", label: t("Opinion text"), type: "textarea", required: true},
      {name: "legal_basis", label: t("Legal basis"), type: "textarea"}], submit: t("Send"),
      onSubmit: (x) => post(`${path}/opinions`, {decision: x.decision, text: x.text, legal_basis: x.legal_basis})});
  if (act === "extend")
    return formDialog({title: t("Extend"), fields: [
      {name: "days", label: t("Working days more"), type: "number", value: "3", min: 1, max: 30},
      {name: "reason", label: t("Reason"), type: "textarea", required: true}], submit: t("Extend"),
      onSubmit: (x) => post(`${path}/extension`, {days: Number(x.days) || 3, reason: x.reason})});
  if (act === "conclude")
    return formDialog({title: t("Conclude"), fields: [
      {name: "decision", label: t("Decision"), type: "radio", required: true, value: "accept",
       options: ["accept", "veto", "assisted_handling"].map((d) => [d, label("conclusion", d)])},
      {name: "reasons", label: t("Reasons"), type: "textarea", required: true},
      {name: "legal_basis", label: t("Legal basis"), type: "textarea"},
      {name: "follows", label: t("Follows the opinions of"), type: "checkboxes",
       options: v.departments.map((d) => [d, departmentName(d)])}], submit: t("Conclude"),
      onSubmit: (x) => post(`${path}/conclusion`, x)});
  return null;
}

// ---- the case panel -----------------------------------------------------------------------------------------
function historyHtml(events, timeline) {
  const rows = timeline ? timeline.entries.map((e) => ({seq: e.seq, at: e.at, type: e.type,
    who: e.actor_name ? `${e.actor_name} (${e.actor_username})` : t("System"), role: e.actor_role,
    detail: eventDetail(e)})) : events.map((e) => ({seq: e.seq, at: e.at, type: e.type,
    who: e.actor_id ? userName(e.actor_id) : t("System"), role: e.actor_role, detail: eventDetail(e)}));
  return `<ol class="history">${rows.reverse().map((r) => `<li>
    <div><b>${esc(label("event", r.type))}</b> <span class="muted">#${r.seq} · ${esc(when(r.at))}</span></div>
    <div class="muted">${esc(r.who)}${r.role ? ` · ${esc(label("role", r.role))}` : ""}</div>
    ${r.detail ? `<div>${esc(r.detail)}</div>` : ""}</li>`).join("")}</ol>`;
}

/** The case acts on a conclusion a moment after it is recorded: wait (up to 10 s) until its status moves on. */
async function caseMoves(caseNo, status) {
  for (let i = 0; i < 20; i++) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    if ((await api(`/cases/${encodeURIComponent(caseNo)}`)).status !== status) return;
  }
}

/** Render a case into ``container``; ``onChanged`` runs after an action succeeded (to refresh lists). */
export async function showCase(container, caseNo, {onChanged = () => {}} = {}) {
  container.innerHTML = `<p class="muted">${esc(t("Loading…"))}</p>`;
  const decider = ["manager", "director"].includes(store.me.role);
  const [c, events, docs, consultations] = await Promise.all([
    api(`/cases/${encodeURIComponent(caseNo)}`), api(`/cases/${encodeURIComponent(caseNo)}/events`),
    api(`/cases/${encodeURIComponent(caseNo)}/documents`),
    api(`/cases/${encodeURIComponent(caseNo)}/consultations`).catch(() => []),
    colleagues().catch(() => []),
  ]);
  const timeline = decider ? await api(`/audit/cases/${encodeURIComponent(caseNo)}/timeline`).catch(() => null) : null;
  const matters = c.item_code === "HALL-COMBINED" ? await api(`/cases/${encodeURIComponent(caseNo)}/matters`) : [];
  const r = rights(c, events);
  const actions = actionsFor(c, events, r);
  const item = itemOf(c.item_code);
  const registered = events.find((e) => e.type === "registered");
  container.innerHTML = `<article class="case" data-case="${esc(c.case_no)}">
    <header class="case-head"><h2>${esc(c.case_no)}</h2>${statusBadge(c.status)}${lightHtml(caseLight(c))}</header>
    ${c.status === "veto_requested" ? vetoBox(c, events) : ""}
    <dl class="facts">
      <dt>${esc(t("Item"))}</dt><dd>${esc(item ? item.name : c.item_code)} <span class="muted">${esc(c.item_code)} ·
        ${esc(departmentName(c.department_code))}</span></dd>
      <dt>${esc(t("Applicant"))}</dt><dd class="applicant">${esc(c.applicant_name)} · ${esc(c.applicant_phone)} ·
        <span class="idno">${esc(c.applicant_id_number)}</span></dd>
      <dt>${esc(t("Channel"))}</dt><dd>${esc(label("channel", c.channel))} · ${esc(label("mode", c.handling_mode))}
        ${c.cross_region_urgent ? ` · <b>${esc(t("Urgent, from another region"))}</b>` : ""}</dd>
      <dt>${esc(t("Registered"))}</dt><dd>${esc(when(c.registered_at))} · ${esc(userName(c.first_clerk_id))}</dd>
      ${c.clerk_id !== c.first_clerk_id ? `<dt>${esc(t("Handled by"))}</dt><dd>${esc(userName(c.clerk_id))}</dd>` : ""}
      <dt>${esc(t("Deadline"))}</dt><dd>${esc(when(c.deadline)) || "—"}
        ${c.deadline_provisional ? `<span class="badge warn">${esc(t("provisional calendar"))}</span>` : ""}
        ${c.clock_paused ? `<span class="badge paused">${esc(t("Clock paused: waiting for supplements"))}</span>` : ""}</dd>
      <dt>${esc(t("Missing materials"))}</dt><dd>${esc(c.missing_materials.join("、")) || esc(t("none"))}</dd>
      ${c.description ? `<dt>${esc(t("Clerk's notes"))}</dt><dd class="notes">${esc(c.description)}</dd>` : ""}
      ${c.result ? `<dt>${esc(t("Result"))}</dt><dd>${esc(c.result)}</dd>` : ""}
      ${c.satisfaction ? `<dt>${esc(t("Satisfaction"))}</dt><dd>${esc(label("grade", c.satisfaction))}</dd>` : ""}
      ${registered?.payload?.submitted?.length ? `<dt>${esc(t("Materials received"))}</dt>
        <dd>${esc(registered.payload.submitted.join("、"))}</dd>` : ""}
    </dl>
    <div class="actions case-actions">${actions.map((a) =>
      `<button class="${a.cls}" data-act="${a.id}">${esc(a.text)}</button>`).join("") ||
      `<span class="muted">${esc(r.open ? t("No action of yours is pending on this case.") : t("This case is finished."))}</span>`}</div>
    <div class="act-msg"></div>
    ${matters.length ? `<section><h3>${esc(t("Matters"))}</h3><ul class="matters">${matters.map((m) =>
      `<li><a href="#" data-open="${esc(m.case_no)}">${esc(m.case_no)}</a> ${esc(itemName(m.item_code))}
        ${statusBadge(m.status)} ${lightHtml(caseLight(m))}</li>`).join("")}</ul></section>` : ""}
    <section><h3>${esc(t("Documents"))}</h3>${docs.map((d) => `<div class="doc"><button class="link" data-doc="${esc(d.download)}"
      data-kind="${esc(d.kind)}">${esc(label("document", d.kind) || d.title)}</button>
      <span class="muted">${esc(when(d.issued_at))}</span></div>`).join("") || `<p class="muted">${esc(t("none"))}</p>`}</section>
    ${consultations.length ? `<section><h3>${esc(t("Joint consultations"))}</h3>
      ${consultations.map(consultationHtml).join("")}</section>` : ""}
    <section><h3>${esc(t("History"))}</h3>${historyHtml(events, timeline)}</section>
  </article>`;
  const msg = $(".act-msg", container);
  const reload = async (text) => {
    await showCase(container, caseNo, {onChanged});
    flash($(".act-msg", container), text);
    onChanged(caseNo);
  };
  $$("[data-act]", container).forEach((b) => b.onclick = async () => {
    flash(msg, "");
    try {
      const done = await runAction(b.dataset.act, c, events);
      if (done) await reload(t("Saved."));
    } catch (e) { flash(msg, e.message, "error"); }
  });
  $$("[data-doc]", container).forEach((b) => b.onclick = async () => {
    try { await openDocument(b.dataset.doc); } catch (e) { flash(msg, e.message, "error"); }
  });
  $$("[data-open]", container).forEach((a) => a.onclick = (ev) => {
    ev.preventDefault(); showCase(container, a.dataset.open, {onChanged});
  });
  $$("[data-c-act]", container).forEach((b) => b.onclick = async () => {
    const view = consultations.find((v) => v.consultation_id === b.closest("[data-consultation]").dataset.consultation);
    try {
      const done = await consultationAction(b.dataset.cAct, view);
      if (done && b.dataset.cAct === "conclude") await caseMoves(caseNo, c.status);
      if (done && b.dataset.cAct !== "minutes") await reload(t("Saved."));
    } catch (e) { flash(msg, e.message, "error"); }
  });
  return c;
}
