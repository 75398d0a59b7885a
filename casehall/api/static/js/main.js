// The shell: language, sign-in, one screen per role, idle time-out, and a logout that forgets everything.
import * as adminCatalogue from "./admin_catalogue.js";
import * as adminUsers from "./admin_users.js";
import { api, clearToken, getToken, post, setToken, whenUnauthorized } from "./api.js";
import * as assessment from "./assessment.js";
import * as auditor from "./auditor.js";
import * as clerk from "./clerk.js";
import * as hotline from "./hotline.js";
import { LANGUAGES, currentLanguage, label, loadLanguage, setTimeZone, t } from "./i18n.js";
import * as manager from "./manager.js";
import { $, esc, flash, loadCatalogue, store } from "./ui.js";

// The administrator's screen: one tab per line, each a module with mount(root); add an admin module with one line.
const ADMIN_TABS = [
  {key: "users", label: () => t("User accounts"), module: adminUsers},
  {key: "catalogue", label: () => t("Departments and service items"), module: adminCatalogue},
  {key: "cases", label: () => t("Cases"), module: auditor},
];
let adminTab = ADMIN_TABS[0].key;
const admin = {
  mount(root) {
    const current = ADMIN_TABS.find((tab) => tab.key === adminTab) || ADMIN_TABS[0];
    root.innerHTML = `<nav class="tabs" role="tablist" id="admin-tabs">${ADMIN_TABS.map((tab) => `<button type="button"
      role="tab" data-admin-tab="${tab.key}" aria-selected="${tab === current}">${esc(tab.label())}</button>`).join("")}
      </nav><div id="admin-tab"></div>`;
    $("#admin-tabs", root).onclick = (ev) => {
      const key = ev.target.closest("button")?.dataset.adminTab;
      if (key) { adminTab = key; admin.mount(root); }
    };
    current.module.mount($("#admin-tab", root));
  },
};
const SCREENS = {clerk, manager, director: manager, auditor, admin,
                 ...Object.fromEntries(hotline.HOTLINE_ROLES.map((r) => [r, hotline]))};
const LANG_KEY = "casehall-lang";
const BYE_KEY = "casehall-bye";
const LANGUAGE_NAMES = {"zh-CN": "中文", "en": "English"};  // each in its own language
let lastInput = Date.now();
let idleTimer = null;

function header() {
  const me = store.me;
  const brand = me && hotline.HOTLINE_ROLES.includes(me.role) ? t("12345 citizen hotline")
    : t("Service hall · no-veto window");
  $("#brand").textContent = brand;
  document.title = `casehall · ${brand}`;
  $("#who").innerHTML = me ? `<b>${esc(me.display_name)}</b> <span class="muted">${esc(label("role", me.role))} ·
    ${esc(me.department_name || me.department_code)}</span>` : "";
  $("#lang").innerHTML = LANGUAGES.map((l) => `<option value="${l}" ${l === currentLanguage() ? "selected" : ""}>
    ${esc(LANGUAGE_NAMES[l])}</option>`).join("");
  $("#lang").setAttribute("aria-label", t("Language"));
  $("#logout").hidden = !me;
  $("#logout").textContent = t("Log out");
}

function showLogin() {
  store.me = null;
  header();
  const bye = sessionStorage.getItem(BYE_KEY);
  sessionStorage.removeItem(BYE_KEY);
  $("#view").innerHTML = `<form class="login pane" id="login-form" novalidate>
      <h2>${esc(t("Log in"))}</h2>
      <div class="msg" id="login-msg"></div>
      <div class="field"><label for="username">${esc(t("Username"))}</label>
        <input id="username" autocomplete="username" required autofocus></div>
      <div class="field"><label for="password">${esc(t("Password"))}</label>
        <input id="password" type="password" autocomplete="current-password" required></div>
      <div class="actions"><button class="primary" id="login-btn">${esc(t("Log in"))}</button></div>
      <p class="muted small">${esc(t("On a shared computer, always log out when you leave the window."))}</p>
    </form>`;
  const byeText = {idle: t("You were logged out after a period without activity."),
                   expired: t("Your session has ended; please log in again"), logout: t("You have logged out.")};
  if (bye) flash($("#login-msg"), byeText[bye] || byeText.logout, "info");
  $("#login-form").onsubmit = async (ev) => {
    ev.preventDefault();
    const username = $("#username").value.trim(), password = $("#password").value;
    if (!username || !password) return flash($("#login-msg"), t("Enter your username and password."), "error");
    try {
      const tok = await post("/auth/login", {username, password});
      setToken(tok.access_token);
      const wanted = localStorage.getItem(`${LANG_KEY}:${username}`);
      if (wanted && wanted !== currentLanguage()) await loadLanguage(wanted);
      await startSession();
    } catch (e) { flash($("#login-msg"), e.message, "error"); }
  };
}

async function startSession() {
  store.me = await api("/ui/me");
  const [, departments] = await Promise.all([loadCatalogue(), api("/ui/departments")]);
  store.departments = departments;
  header();
  mountScreen();
  startIdleWatch();
}

function mountScreen() {
  const screen = SCREENS[store.me.role] || auditor;
  $("#view").innerHTML = `<div id="screen" class="screen role-${esc(store.me.role)}"></div>`;
  screen.mount($("#screen"));
  assessment.addTab($("#view"), mountScreen);
}

/** Log out: revoke the token, then reload the page so no screen and no data of this user survives. */
async function logout(reason = "logout") {
  clearInterval(idleTimer);
  if (getToken() && reason !== "expired") await api("/auth/logout", {method: "POST"}).catch(() => null);
  clearToken();
  store.me = null;
  $("#view").innerHTML = "";
  $("#who").innerHTML = "";
  for (const d of document.querySelectorAll("dialog")) d.remove();
  sessionStorage.clear();
  sessionStorage.setItem(BYE_KEY, reason);
  window.location.replace("/");
}

function startIdleWatch() {
  lastInput = Date.now();
  clearInterval(idleTimer);
  idleTimer = setInterval(() => {
    const idle = (Date.now() - lastInput) / 1000, limit = store.config.idle_seconds;
    const warn = $("#idle-warning");
    if (idle >= limit) { logout("idle"); return; }
    const left = Math.ceil(limit - idle);
    warn.hidden = left > Math.min(60, limit / 2);
    if (!warn.hidden) warn.textContent = t("No activity: you will be logged out in {s} s.", {s: left});
  }, 1000);
}

async function changeLanguage(lang) {
  await loadLanguage(lang);
  localStorage.setItem(LANG_KEY, lang);
  if (store.me) localStorage.setItem(`${LANG_KEY}:${store.me.username}`, lang);
  header();
  if (store.me) mountScreen(); else showLogin();
}

async function boot() {
  const config = await fetch("/ui/config").then((r) => r.json()).catch(() => null);
  if (config) { Object.assign(store.config, config); setTimeZone(config.timezone); }
  await loadLanguage(localStorage.getItem(LANG_KEY) || "zh-CN");
  header();
  $("#lang").onchange = (e) => changeLanguage(e.target.value);
  $("#logout").onclick = () => logout("logout");
  whenUnauthorized(() => logout("expired"));
  for (const name of ["pointerdown", "keydown", "wheel", "touchstart", "mousemove"])
    window.addEventListener(name, () => { lastInput = Date.now(); }, {passive: true});
  window.addEventListener("pageshow", (e) => { if (e.persisted) window.location.reload(); });
  if (!getToken()) return showLogin();
  try { await startSession(); } catch { clearToken(); showLogin(); }
}

boot();
