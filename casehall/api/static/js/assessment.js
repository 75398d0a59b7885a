// Assessment: a tab beside each reader's screen with the ranking of a level, one unit's figures (each drillable to
// the orders or cases behind it, with their timeline and chain check), the trend of each rate as inline SVG charts,
// and CSV / PDF exports. Who sees what is the API's business (a unit head gets their unit only).
import { api } from "./api.js";
import { currentLanguage } from "./i18n.js";
import { $, $$, download, esc, flash, openDocument, store } from "./ui.js";

const READERS = {auditor: ["orders", "cases"], admin: ["orders", "cases"], supervisor: ["orders"], unit_head: ["orders"],
                 manager: ["cases"], director: ["cases"]};
const zh = () => currentLanguage() !== "en";
const L = (a, b) => (zh() ? a : b);
const pct = (v) => (v === null || v === undefined ? "—" : `${(100 * v).toFixed(2)}%`);
const state = {domain: null, period: null, level: 1, unit: null, defs: null};

/** The tab bar: the role's own screen and the assessment, for the roles that read figures. */
export function addTab(view, remount) {
  const domains = READERS[store.me?.role];
  if (!domains || $("#assessment-tabs", view)) return;
  const nav = document.createElement("nav");
  nav.id = "assessment-tabs";
  nav.className = "tabs";
  nav.innerHTML = `<button type="button" data-tab="work" class="active">${esc(L("工作台", "Work"))}</button>
    <button type="button" data-tab="assessment">${esc(L("考核", "Assessment"))}</button>`;
  view.prepend(nav);
  nav.onclick = (ev) => {
    const tab = ev.target.closest("button")?.dataset.tab;
    if (!tab) return;
    $$("button", nav).forEach((b) => b.classList.toggle("active", b.dataset.tab === tab));
    if (tab === "work") remount(); else mount($("#screen"), domains);
  };
}

let requests = 0;
/** Taken before a request: true once its answer is no longer wanted (its box left the screen, or a newer request
 * for the same box began), so a late answer never draws over another view or a newer choice. */
function ticket(box) {
  const id = String(++requests);
  if (box) box.dataset.request = id;
  return () => !box || !box.isConnected || box.dataset.request !== id;
}

export async function mount(root, domains) {
  state.domain = state.domain && domains.includes(state.domain) ? state.domain : domains[0];
  root.innerHTML = `<section class="pane assessment" id="assessment">
    <h2>${esc(L("考核", "Assessment"))}</h2><div class="msg" id="as-msg"></div>
    <div class="toolbar">
      <label>${esc(L("类别", "Kind"))} <select id="as-domain">${domains.map((d) => `<option value="${d}"
        ${d === state.domain ? "selected" : ""}>${esc(d === "orders" ? L("热线工单", "hotline orders")
        : L("政务办件", "hall cases"))}</option>`).join("")}</select></label>
      <label>${esc(L("考核期", "Period"))} <select id="as-period"></select></label>
      <label>${esc(L("层级", "Level"))} <input id="as-level" type="number" min="0" max="9" value="${state.level}"></label>
      <button type="button" id="as-csv">CSV</button><button type="button" id="as-pdf">PDF</button>
    </div>
    <p class="muted small" id="as-counting"></p>
    <div id="as-ranking"></div><div id="as-unit"></div><div id="as-drill"></div><div id="as-trend"></div>
  </section>`;
  $("#as-domain").onchange = (e) => { state.domain = e.target.value; state.unit = null; mount(root, domains); };
  $("#as-level").onchange = (e) => { state.level = Number(e.target.value) || 0; guard(ranking()); };
  $("#as-period").onchange = (e) => { state.period = e.target.value; guard(ranking()); };
  $("#as-csv").onclick = () => guard(download(`/assessment/${state.domain}/${state.period}/export.csv?level=${state.level}`,
                                                `assessment-${state.domain}-${state.period}.csv`));
  $("#as-pdf").onclick = () => guard(openDocument(`/assessment/${state.domain}/${state.period}/export.pdf?level=${state.level}`));
  const stale = ticket($("#assessment"));
  try {
    const defs = await api(`/assessment/${state.domain}/rates`);
    if (stale()) return;
    state.defs = defs;
    $("#as-counting").textContent = `${state.defs.counting} ${state.defs.exclusions}`;
    const periods = await api(`/assessment/${state.domain}/periods`);
    if (stale()) return;
    if (!periods.length) {
      const now = new Date();
      const prev = new Date(now.getFullYear(), now.getMonth() - 1, 1);
      periods.push(`${prev.getFullYear()}-${String(prev.getMonth() + 1).padStart(2, "0")}`);
    }
    if (!periods.includes(state.period)) state.period = periods[periods.length - 1];
    $("#as-period").innerHTML = periods.map((p) => `<option ${p === state.period ? "selected" : ""}>${esc(p)}</option>`).join("");
    await ranking();
  } catch (e) { if (!stale()) flash($("#as-msg"), e.message, "error"); }
}

function guard(promise) { promise.catch((e) => { const msg = $("#as-msg"); if (msg) flash(msg, e.message, "error"); }); }

const rateName = (r) => (zh() ? r.zh : r.en);
const ratios = () => state.defs.rates.filter((r) => r.denominator);

async function ranking() {
  const stale = ticket($("#as-ranking"));
  const rows = await api(`/assessment/${state.domain}/${state.period}/units?level=${state.level}`);
  if (stale()) return;
  const own = store.me.role === "unit_head" || ["manager", "director"].includes(store.me.role);
  if (own && rows.length === 0) {  // a unit head's unit sits at another level: show it all the same
    const mine = await api(`/assessment/${state.domain}/${state.period}/units`);
    if (stale()) return;
    rows.push(...mine);
  }
  $("#as-ranking").innerHTML = `<table class="grid" id="as-table"><thead><tr><th>${esc(L("排名", "Rank"))}</th>
    <th>${esc(L("单位", "Unit"))}</th><th>${esc(L("得分", "Score"))}</th><th>${esc(L("件数", "Count"))}</th>
    ${ratios().map((r) => `<th>${esc(rateName(r))}</th>`).join("")}</tr></thead><tbody>
    ${rows.map((u) => `<tr data-unit="${esc(u.unit)}"><td>${u.rank ?? "—"}</td>
      <td><a href="#" class="as-unit">${esc(u.name)}</a> <span class="muted small">${esc(u.unit)}</span></td>
      <td>${u.score === null ? "—" : u.score.toFixed(2)}</td><td>${u.figures.rates.received.numerator}</td>
      ${ratios().map((r) => `<td>${pct(u.figures.rates[r.name].value)}</td>`).join("")}</tr>`).join("")}
    </tbody></table>${rows.length ? "" : `<p class="muted">${esc(L("此层级没有单位。", "No unit at this level."))}</p>`}`;
  $$(".as-unit").forEach((a) => { a.onclick = (ev) => { ev.preventDefault(); guard(unit(a.closest("tr").dataset.unit)); }; });
  if (rows.length === 1 || (state.unit && rows.some((r) => r.unit === state.unit))) {
    await unit(state.unit || rows[0].unit);
  }
}

async function unit(code) {
  state.unit = code;
  const stale = ticket($("#as-unit"));
  const u = await api(`/assessment/${state.domain}/${state.period}/units/${encodeURIComponent(code)}`);
  if (stale()) return;
  const f = u.figures;
  $("#as-unit").innerHTML = `<h3 id="as-unit-title">${esc(u.name)} · ${esc(u.period)}</h3>
    <p>${esc(L("综合得分", "Score"))} <b>${f.score === null ? "—" : f.score.toFixed(2)}</b>
      ${f.rank ? esc(L(`同级 ${f.ranked_of} 个单位中第 ${f.rank} 名`, `rank ${f.rank} of ${f.ranked_of} at its level`)) : ""}</p>
    <table class="grid" id="as-figures"><thead><tr><th>${esc(L("指标", "Rate"))}</th><th>${esc(L("数值", "Value"))}</th>
      <th>${esc(L("分子", "Numerator"))}</th><th>${esc(L("分母", "Denominator"))}</th><th>${esc(L("口径", "Definition"))}</th></tr></thead>
    <tbody>${state.defs.rates.map((r) => { const v = f.rates[r.name]; return `<tr>
      <td>${esc(rateName(r))}</td><td>${r.denominator ? pct(v.value) : v.numerator}</td>
      <td><a href="#" class="as-drill" data-rate="${r.name}" data-part="numerator">${v.numerator}</a></td>
      <td>${r.denominator ? `<a href="#" class="as-drill" data-rate="${r.name}" data-part="denominator">${v.denominator}</a>` : ""}</td>
      <td class="small muted">${esc(r.meaning)}</td></tr>`; }).join("")}</tbody></table>
    <pre class="message" id="as-message">${esc(u.message)}</pre>`;
  $$(".as-drill").forEach((a) => { a.onclick = (ev) => { ev.preventDefault(); guard(drill(a.dataset.rate, a.dataset.part)); }; });
  await trend(code);
}

async function drill(rate, part) {
  const stale = ticket($("#as-drill"));
  const d = await api(`/assessment/${state.domain}/${state.period}/units/${encodeURIComponent(state.unit)}/drill?rate=${rate}&part=${part}`);
  if (stale()) return;
  $("#as-drill").innerHTML = `<h4>${esc(rate)} · ${esc(part)} · ${d.count}</h4>
    <table class="grid" id="as-drill-table"><tbody>${d.items.map((i) => `<tr><td>${esc(i.ref)}</td><td>${esc(i.unit)}</td>
      <td class="small">${esc(i.flags.join(" "))}</td>
      <td><a href="#" data-path="${esc(i.timeline)}" class="as-open">${esc(L("时间线", "timeline"))}</a></td>
      <td><a href="#" data-path="${esc(i.chain)}" class="as-open">${esc(L("哈希链核验", "chain check"))}</a></td></tr>`).join("")}
    </tbody></table><pre id="as-proof" class="small"></pre>`;
  $$(".as-open").forEach((a) => { a.onclick = async (ev) => {
    ev.preventDefault();
    try { $("#as-proof").textContent = JSON.stringify(await api(a.dataset.path), null, 2); }
    catch (e) { $("#as-proof").textContent = e.message; }
  }; });
}

/** One small line chart per rate: 0-100 % over the stored months. */
export function chart(name, points) {
  const w = 260, h = 120, px = 34, py = 14;
  const n = points.length;
  const x = (i) => px + (n <= 1 ? (w - 2 * px) / 2 : (i * (w - 2 * px)) / (n - 1));
  const y = (v) => h - py - v * (h - 2 * py);
  const pts = points.map((p, i) => (p.value === null ? null : [x(i), y(p.value)]));
  const path = pts.filter(Boolean).map(([a, b], i) => `${i ? "L" : "M"}${a.toFixed(1)},${b.toFixed(1)}`).join(" ");
  return `<figure class="trend"><figcaption>${esc(name)}</figcaption>
    <svg class="trend-chart" viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img" aria-label="${esc(name)}">
    <line x1="${px}" y1="${y(0)}" x2="${w - px}" y2="${y(0)}" stroke="#999"/>
    <line x1="${px}" y1="${y(1)}" x2="${w - px}" y2="${y(1)}" stroke="#ddd"/>
    <text x="2" y="${y(1) + 4}" font-size="9">100%</text><text x="2" y="${y(0) + 4}" font-size="9">0%</text>
    ${path ? `<path d="${path}" fill="none" stroke="#c0392b" stroke-width="2"/>` : ""}
    ${pts.map((p, i) => (p ? `<circle cx="${p[0].toFixed(1)}" cy="${p[1].toFixed(1)}" r="3" fill="#c0392b">
      <title>${esc(points[i].period)}: ${pct(points[i].value)}</title></circle>` : "")).join("")}
    ${points.map((p, i) => `<text x="${x(i) - 14}" y="${h - 1}" font-size="8">${esc(p.period.slice(2))}</text>`).join("")}
    </svg></figure>`;
}

async function trend(code) {
  const stale = ticket($("#as-trend"));
  const series = await api(`/assessment/${state.domain}/units/${encodeURIComponent(code)}/trend?periods=12`);
  if (stale()) return;
  $("#as-trend").innerHTML = `<h4>${esc(L("逐月趋势", "Trend by month"))}</h4><div class="charts" id="as-charts">
    ${ratios().map((r) => chart(rateName(r), series.map((s) => ({period: s.period, value: s.rates[r.name]})))).join("")}
    </div>`;
}
