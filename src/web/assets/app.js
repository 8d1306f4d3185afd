// @ts-check
// The web page's script, served as /app.js with dom.js and cards.js (ES modules: the
// Content-Security-Policy forbids inline script). Plain browser JavaScript: no bundler, no
// build step; type-checked by `npm run typecheck` (tsconfig.json beside it: the DOM library,
// strict; the daemon's JSON shapes in types.d.ts) and linted.
//
// Rules it keeps: data is put in the page with textContent and attributes only, never as
// HTML; the token goes in the Authorization header of every request, except the live feed
// (EventSource cannot set headers: ?token=, see docs/api.md); it is kept in sessionStorage
// and removed from the address bar.
import { cards } from './cards.js';
import { $, duration, el, isObj, kindClass, setClass, setText, show, stateClass, sync, when } from './dom.js';

const TOKEN_KEY = 'procsafe.token';
const THEME_KEY = 'procsafe.theme';
const MAX_ALERTS = 200;
/** @type {string | null} */
var token = null;
/** @type {EventSource | null} */
var es = null;
/** @type {number | null} */
var reconnectTimer = null;
/** @type {StatusView | null} */
var lastStatus = null;
/** @type {FleetView | null} */
var lastFleet = null;
/** @type {AlertView[]} */
var alerts = [];

// ---- the token ----
/** @param {string | null} t */
function storeToken(t) {
  token = t;
  try { if (t) sessionStorage.setItem(TOKEN_KEY, t); else sessionStorage.removeItem(TOKEN_KEY); } catch { /* private mode: memory only */ }
}
/** @returns {string | null} */
function tokenFromUrlOrStorage() {
  var params = new URLSearchParams(location.search);
  if (params.has('token')) {
    var t = params.get('token');
    params.delete('token');
    var q = params.toString();
    history.replaceState(null, '', location.pathname + (q ? '?' + q : '') + location.hash);
    if (t) { storeToken(t); return t; }
  }
  try { return sessionStorage.getItem(TOKEN_KEY); } catch { return null; }
}
/** @param {string | null} why */
function askToken(why) {
  if (es) { es.close(); es = null; }
  if (reconnectTimer !== null) { clearTimeout(reconnectTimer); reconnectTimer = null; }
  storeToken(null);
  show($('main'), false);
  show($('banner'), false);
  setConn('no token', '');
  if (why) setText($('login-why'), why);
  show($('login'), true);
  $('token-input').focus();
}

// ---- talking to the server ----
class Unauthorized extends Error {}
/** @param {string} method @param {string} path @param {unknown} [body] @returns {Promise<Answer>} */
function api(method, path, body) {
  /** @type {Record<string, string>} */
  var headers = { 'Authorization': 'Bearer ' + token };
  /** @type {RequestInit} */
  var init = { method: method, headers: headers, cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  return fetch(path, init).then(function (r) {
    if (r.status === 401) {
      askToken('The token was refused (it is read from the token file when procsafe starts). Paste the current one.');
      throw new Unauthorized('unauthorized');
    }
    return r.json().then(function (/** @type {unknown} */ j) { return { status: r.status, body: j }; }, function () { return { status: r.status, body: {} }; });
  });
}

/** @param {string} text @param {string} cls */
function setConn(text, cls) {
  var c = $('conn');
  setText(c, text);
  setClass(c, 'conn' + (cls ? ' ' + cls : ''));
}
/** @param {boolean} on */
function connected(on) {
  show($('banner'), !on);
  setConn(on ? 'live' : 'reconnecting…', on ? 'live' : 'lost');
}

/** A frame's JSON object (the daemon's own shapes: docs/api.md), or null. @param {Event} ev @returns {Record<string, unknown> | null} */
function dataOf(ev) {
  var data = /** @type {MessageEvent<unknown>} */ (ev).data;
  if (typeof data !== 'string') return null;
  /** @type {unknown} */
  var v;
  try { v = JSON.parse(data); } catch { return null; }
  return isObj(v) ? v : null;
}

function connect() {
  if (es) es.close();
  if (reconnectTimer !== null) { clearTimeout(reconnectTimer); reconnectTimer = null; }
  var source = new EventSource('/api/events?token=' + encodeURIComponent(token || ''));
  es = source;
  source.addEventListener('open', function () {
    connected(true);
    loadAlerts();
  });
  source.addEventListener('status', function (ev) {
    var v = dataOf(ev);
    if (!v) return;
    connected(true);
    render(/** @type {StatusView} */ (v));
  });
  source.addEventListener('fleet', function (ev) {
    var f = dataOf(ev);
    if (f && Array.isArray(f.servers)) renderFleet(/** @type {FleetView} */ (f));
  });
  source.addEventListener('alert', function (ev) {
    var a = dataOf(ev);
    if (!a) return;
    alerts.unshift(/** @type {AlertView} */ (a));
    if (alerts.length > MAX_ALERTS) alerts.length = MAX_ALERTS;
    renderAlerts();
  });
  source.addEventListener('error', function () {
    if (es !== source) return;
    connected(false);
    if (source.readyState === EventSource.CLOSED) {
      // Refused (a 401) or not an event stream: the browser gives up; find out which, retry.
      es = null;
      api('GET', '/api/status').then(function (r) { if (r.status === 200 && isObj(r.body)) render(/** @type {StatusView} */ (/** @type {unknown} */ (r.body))); }, function () { /* down or 401 */ });
      reconnectTimer = setTimeout(function () { if (token) connect(); }, 3000);
    }
    // Otherwise the browser reconnects by itself (retry: 2000 ms).
  });
}

function loadAlerts() {
  api('GET', '/api/alerts').then(function (r) {
    if (r.status !== 200 || !Array.isArray(r.body)) return;
    var list = /** @type {AlertView[]} */ (/** @type {unknown[]} */ (r.body));
    alerts = list.slice(-MAX_ALERTS).reverse();
    renderAlerts();
  }, function () { /* shown by the connection state */ });
}

/** @param {boolean} ok @param {string} message */
function showResult(ok, message) {
  var r = $('result');
  setText(r, message);
  setClass(r, 'result ' + (ok ? 'ok' : 'bad'));
  show(r, true);
}

/** @param {HTMLButtonElement} btn @param {string} question @param {string} path @param {unknown} [body] */
function act(btn, question, path, body) {
  if (!window.confirm(question)) return;
  btn.disabled = true;
  void api('POST', path, body === undefined ? {} : body).then(function (r) {
    var b = isObj(r.body) ? r.body : {};
    var ok = r.status >= 200 && r.status < 300 && b.ok !== false;
    var text = typeof b.message === 'string' ? b.message : typeof b.error === 'string' ? b.error : 'HTTP ' + r.status;
    showResult(ok, text);
  }, function (/** @type {unknown} */ e) {
    if (!(e instanceof Unauthorized)) showResult(false, 'The request failed: ' + (e instanceof Error ? e.message : String(e)));
  }).then(function () { btn.disabled = false; });
}

const card = cards(act);

// ---- rendering ----
/** @param {FleetView} f */
function renderFleet(f) {
  lastFleet = f;
  sync($('servers'), f.servers, function (x) { return x.name; }, card.createServer, card.updateServer);
  show($('sec-servers'), f.servers.length > 1);
}

function renderServer() {
  var v = lastStatus;
  if (!v) return;
  setText($('server-name'), v.server.name);
  setText($('server-facts'), 'pid ' + v.server.pid + ' · procsafe ' + v.server.version + ' · up ' + duration(Date.now() - v.server.startedAt));
  setText($('server-config'), v.server.config);
  show($('rehearse'), !!v.server.rehearse);
}

/** @param {StatusView} v */
function render(v) {
  if (!v || !v.server) return;
  lastStatus = v;
  show($('main'), true);
  renderServer();
  sync($('groups'), v.groups, function (g) { return g.name; }, card.createGroup, card.updateGroup);
  show($('sec-groups'), v.groups.length > 0);
  sync($('monitors'), v.monitors, function (m) { return m.name; }, card.createMonitor, card.updateMonitor);
  show($('sec-monitors'), v.monitors.length > 0);
  sync($('pfiles'), v.pfiles, function (p) { return p.path; }, card.createPfile, card.updatePfile);
  show($('no-entries'), v.pfiles.length === 0);
  var bad = 0;
  v.groups.forEach(function (g) { if (stateClass(g.state) === 'bad') bad++; });
  v.monitors.forEach(function (m) { if (stateClass(m.status) === 'bad') bad++; });
  v.pfiles.forEach(function (p) { p.entries.forEach(function (e) { if (stateClass(e.proc_sts) === 'bad') bad++; }); });
  document.title = (bad > 0 ? '(' + bad + ' down) ' : '') + v.server.name + ' · procsafe';
}

function renderAlerts() {
  sync($('alerts'), alerts.slice(0, MAX_ALERTS), function (a) { return a.at + '|' + a.kind + '|' + a.subject + '|' + a.message; },
    function (a) {
      var li = el('li');
      var t = /** @type {HTMLTimeElement} */ (el('time', null, when(a.at)));
      t.dateTime = new Date(a.at).toISOString();
      li.appendChild(t);
      li.appendChild(el('span', 'tag ' + kindClass(a.kind), a.kind));
      li.appendChild(el('span', 'msg', a.message));
      return li;
    },
    function () { /* an alert never changes */ });
  show($('no-alerts'), alerts.length === 0);
}

// ---- dark or light: dark unless the browser prefers light; the button overrides, remembered ----
/** @param {string | null} t */
function applyTheme(t) {
  if (t === 'dark' || t === 'light') document.documentElement.dataset.theme = t;
  else delete document.documentElement.dataset.theme;
}
function currentTheme() {
  var t = document.documentElement.dataset.theme;
  if (t) return t;
  return window.matchMedia && window.matchMedia('(prefers-color-scheme: light)').matches ? 'light' : 'dark';
}
try { applyTheme(localStorage.getItem(THEME_KEY)); } catch { /* no storage: follow the browser */ }

function start() {
  show($('login'), false);
  show($('main'), true);
  setConn('connecting…', '');
  connect();
}

document.addEventListener('DOMContentLoaded', function () {
  $('theme').addEventListener('click', function () {
    var next = currentTheme() === 'dark' ? 'light' : 'dark';
    applyTheme(next);
    try { localStorage.setItem(THEME_KEY, next); } catch { /* this page only */ }
  });
  $('login').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var input = /** @type {HTMLInputElement} */ ($('token-input'));
    var t = input.value.trim();
    input.value = '';
    if (!t) return;
    storeToken(t);
    start();
  });
  setInterval(function () {
    // the clock-driven parts: uptime, "checked … ago"
    if (lastStatus) {
      renderServer();
      sync($('monitors'), lastStatus.monitors, function (m) { return m.name; }, card.createMonitor, card.updateMonitor);
    }
    if (lastFleet) renderFleet(lastFleet);
  }, 1000);
  token = tokenFromUrlOrStorage();
  if (token) start();
  else askToken(null);
});
