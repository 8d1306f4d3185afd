// The web page's script, served as /app.js (the Content-Security-Policy forbids inline
// script). Plain browser JavaScript in a string: no bundler, no build step. Written without
// template literals so that String.raw keeps it byte for byte.
//
// Rules it keeps: data is put in the page with textContent and attributes only, never
// innerHTML; the token goes in the Authorization header of every request, except the live
// feed (EventSource cannot set headers: ?token=, see docs/api.md); it is kept in
// sessionStorage and removed from the address bar.

export const APP_JS = String.raw`'use strict';
(function () {
  var TOKEN_KEY = 'procsafe.token';
  var MAX_ALERTS = 200;
  var token = null;
  var es = null;
  var reconnectTimer = null;
  var lastStatus = null;
  var alerts = [];

  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function setText(e, t) {
    t = t === null || t === undefined ? '' : String(t);
    if (e.textContent !== t) e.textContent = t;
  }
  function setClass(e, c) { if (e.className !== c) e.className = c; }
  function show(e, on) { if (e.hidden === on) e.hidden = !on; }

  // ---- the token ----
  function storeToken(t) {
    token = t;
    try { if (t) sessionStorage.setItem(TOKEN_KEY, t); else sessionStorage.removeItem(TOKEN_KEY); } catch (e) { /* private mode: memory only */ }
  }
  function tokenFromUrlOrStorage() {
    var params = new URLSearchParams(location.search);
    if (params.has('token')) {
      var t = params.get('token');
      params.delete('token');
      var q = params.toString();
      history.replaceState(null, '', location.pathname + (q ? '?' + q : '') + location.hash);
      if (t) { storeToken(t); return t; }
    }
    try { return sessionStorage.getItem(TOKEN_KEY); } catch (e) { return null; }
  }
  function askToken(why) {
    if (es) { es.close(); es = null; }
    if (reconnectTimer) { clearTimeout(reconnectTimer); reconnectTimer = null; }
    storeToken(null);
    show($('main'), false);
    show($('banner'), false);
    setConn('no token', '');
    if (why) setText($('login-why'), why);
    show($('login'), true);
    $('token-input').focus();
  }

  // ---- talking to the server ----
  function Unauthorized() { this.message = 'unauthorized'; }
  function api(method, path, body) {
    var init = { method: method, headers: { 'Authorization': 'Bearer ' + token }, cache: 'no-store' };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    return fetch(path, init).then(function (r) {
      if (r.status === 401) {
        askToken('The token was refused (it is read from the token file when procsafe starts). Paste the current one.');
        throw new Unauthorized();
      }
      return r.json().then(function (j) { return { status: r.status, body: j }; }, function () { return { status: r.status, body: {} }; });
    });
  }

  function setConn(text, cls) {
    var c = $('conn');
    setText(c, text);
    setClass(c, 'conn' + (cls ? ' ' + cls : ''));
  }
  function connected(on) {
    show($('banner'), !on);
    setConn(on ? 'live' : 'reconnecting…', on ? 'live' : 'lost');
  }

  function connect() {
    if (es) es.close();
    if (reconnectTimer) { clearTimeout(reconnectTimer); reconnectTimer = null; }
    var source = new EventSource('/api/events?token=' + encodeURIComponent(token));
    es = source;
    source.addEventListener('open', function () {
      connected(true);
      loadAlerts();
    });
    source.addEventListener('status', function (ev) {
      var v;
      try { v = JSON.parse(ev.data); } catch (e) { return; }
      connected(true);
      render(v);
    });
    source.addEventListener('alert', function (ev) {
      var a;
      try { a = JSON.parse(ev.data); } catch (e) { return; }
      alerts.unshift(a);
      if (alerts.length > MAX_ALERTS) alerts.length = MAX_ALERTS;
      renderAlerts();
    });
    source.addEventListener('error', function () {
      if (es !== source) return;
      connected(false);
      if (source.readyState === EventSource.CLOSED) {
        // Refused (a 401) or not an event stream: the browser gives up; find out which, retry.
        es = null;
        api('GET', '/api/status').then(function (r) { if (r.status === 200) render(r.body); }, function () { /* down or 401 */ });
        reconnectTimer = setTimeout(function () { if (token) connect(); }, 3000);
      }
      // Otherwise the browser reconnects by itself (retry: 2000 ms).
    });
  }

  function loadAlerts() {
    api('GET', '/api/alerts').then(function (r) {
      if (r.status !== 200 || !Array.isArray(r.body)) return;
      alerts = r.body.slice(-MAX_ALERTS).reverse();
      renderAlerts();
    }, function () { /* shown by the connection state */ });
  }

  function showResult(ok, message) {
    var r = $('result');
    setText(r, message);
    setClass(r, 'result ' + (ok ? 'ok' : 'bad'));
    show(r, true);
  }

  function act(btn, question, path, body) {
    if (!window.confirm(question)) return;
    btn.disabled = true;
    api('POST', path, body === undefined ? {} : body).then(function (r) {
      var ok = r.status >= 200 && r.status < 300 && r.body.ok !== false;
      showResult(ok, r.body.message || r.body.error || ('HTTP ' + r.status));
    }, function (e) {
      if (!(e instanceof Unauthorized)) showResult(false, 'The request failed: ' + (e && e.message ? e.message : String(e)));
    }).then(function () { btn.disabled = false; });
  }

  // ---- rendering (keyed: cards are updated in place, so a click is never lost) ----
  function stateClass(word) {
    switch (word) {
      case 'AVAIL': case 'Online': case 'Normal': return 'ok';
      case 'RESTARTING': case 'WAIT': case 'Starting': case 'Stopping': case 'Warning': case 'Suspended': return 'warn';
      case 'DOWN': case 'RETRY_OVER': case 'Error': return 'bad';
      default: return 'off';
    }
  }
  function kindClass(kind) {
    switch (kind) {
      case 'down': case 'retry_over': case 'final_action': case 'monitor_error': return 'bad';
      case 'restart': case 'group_restart': return 'warn';
      case 'monitor_recovered': return 'ok';
      default: return 'off';
    }
  }

  function sync(container, items, keyOf, create, update) {
    var existing = new Map();
    Array.prototype.forEach.call(container.children, function (c) { existing.set(c.dataset.key, c); });
    var seen = new Map();
    var prev = null;
    items.forEach(function (item) {
      var base = keyOf(item);
      var n = (seen.get(base) || 0) + 1;
      seen.set(base, n);
      var key = n === 1 ? base : base + '#' + n;
      var node = existing.get(key);
      if (node) existing.delete(key);
      else { node = create(item); node.dataset.key = key; }
      update(node, item);
      var want = prev ? prev.nextSibling : container.firstChild;
      if (node !== want) container.insertBefore(node, want);
      prev = node;
    });
    existing.forEach(function (node) { node.remove(); });
  }

  function fact(parent, label) {
    var s = el('span', 'fact', label + ' ');
    s.dataset.fact = label.replace(/ /g, '-');
    var b = el('b');
    s.appendChild(b);
    parent.appendChild(s);
    return b;
  }
  function button(parent, label, op, danger, title) {
    var b = el('button', danger ? 'danger' : null, label);
    b.type = 'button';
    b.dataset.op = op;
    if (title) b.title = title;
    parent.appendChild(b);
    return b;
  }
  function card(title) {
    var c = el('article', 'card off');
    var head = el('div', 'card-head');
    var left = el('div');
    var h = el('h3', null, title);
    var sub = el('div', 'sub');
    left.appendChild(h);
    left.appendChild(sub);
    var st = el('div', 'status');
    head.appendChild(left);
    head.appendChild(st);
    c.appendChild(head);
    var facts = el('div', 'facts');
    c.appendChild(facts);
    c._s = { title: h, sub: sub, status: st, facts: facts };
    return c;
  }

  function createGroup(g) {
    var c = card(g.name);
    var s = c._s;
    s.restarts = fact(s.facts, 'restarts');
    s.last = fact(s.facts, 'last');
    var a = el('div', 'actions');
    c.appendChild(a);
    var name = g.name;
    var path = function (op) { return '/api/groups/' + encodeURIComponent(name) + '/' + op; };
    button(a, 'Start', 'start', false, 'Run the start script of group ' + name).addEventListener('click', function (ev) {
      act(ev.currentTarget, 'Start group "' + name + '"?', path('start'));
    });
    button(a, 'Stop', 'stop', true, 'Run the stop script of group ' + name).addEventListener('click', function (ev) {
      act(ev.currentTarget, 'Stop group "' + name + '"?\nIts application is stopped and its entries are no longer watched.', path('stop'));
    });
    button(a, 'Restart', 'restart', true, 'Stop, then start group ' + name).addEventListener('click', function (ev) {
      act(ev.currentTarget, 'Restart group "' + name + '"?\nIts stop script runs, then its start script.', path('restart'));
    });
    return c;
  }
  function updateGroup(c, g) {
    var s = c._s;
    setClass(c, 'card ' + stateClass(g.state));
    setText(s.status, g.state);
    setText(s.restarts, g.restarts);
    setText(s.last, g.lastScript || '-');
  }

  function createMonitor(m) {
    var c = card(m.name);
    var s = c._s;
    s.failures = fact(s.facts, 'failures');
    s.restarts = fact(s.facts, 'group restarts');
    s.final = fact(s.facts, 'final');
    s.checked = fact(s.facts, 'checked');
    s.detail = el('div', 'detail');
    c.appendChild(s.detail);
    var a = el('div', 'actions');
    c.appendChild(a);
    var name = m.name;
    var path = function (op) { return '/api/monitors/' + encodeURIComponent(name) + '/' + op; };
    button(a, 'Suspend', 'suspend', false, 'Stop checking until resumed').addEventListener('click', function (ev) {
      act(ev.currentTarget, 'Suspend monitor "' + name + '"?\nIt stops checking until it is resumed.', path('suspend'));
    });
    button(a, 'Resume', 'resume', false, 'Check again').addEventListener('click', function (ev) {
      act(ev.currentTarget, 'Resume monitor "' + name + '"?', path('resume'));
    });
    button(a, 'Clear', 'clear', false, 'Reset its failure and restart counters').addEventListener('click', function (ev) {
      act(ev.currentTarget, 'Clear the counters of monitor "' + name + '"?', path('clear'));
    });
    return c;
  }
  function updateMonitor(c, m) {
    var s = c._s;
    setClass(c, 'card ' + stateClass(m.status));
    setText(s.status, m.status);
    setText(s.sub, m.type + (m.target ? ' → ' + m.target : ''));
    setText(s.failures, m.failures + '/' + (m.retries + 1));
    setText(s.restarts, m.groupRestarts + '/' + m.restartThreshold);
    setText(s.final, m.finalAction + (m.finalActionDone ? ' DONE' : ''));
    setText(s.checked, m.lastCheckAt ? ago(m.lastCheckAt) : 'never');
    setText(s.detail, m.detail || '');
    show(s.detail, !!m.detail);
  }

  function createPfile(p) {
    var box = el('div', 'pfile');
    var head = el('h3', 'pfile-head');
    var cards = el('div', 'cards');
    box.appendChild(head);
    box.appendChild(cards);
    box._s = { head: head, cards: cards };
    return box;
  }
  function updatePfile(box, p) {
    var head = box._s.head;
    var sig = p.path + '|' + (p.group || '');
    if (box._s.sig !== sig) {
      box._s.sig = sig;
      while (head.firstChild) head.removeChild(head.firstChild);
      head.appendChild(document.createTextNode('pfile '));
      head.appendChild(el('b', null, p.path));
      if (p.group) head.appendChild(document.createTextNode(' (group ' + p.group + ')'));
    }
    sync(box._s.cards, p.entries, function (e) { return String(e.pent_id); },
      function (e) { return createEntry(p.path, e); }, updateEntry);
  }

  function createEntry(pfile, e) {
    var c = card('');
    var s = c._s;
    c.dataset.pfile = pfile;
    c.dataset.pentId = String(e.pent_id);
    s.pid = fact(s.facts, 'pid');
    s.retry = fact(s.facts, 'retry');
    s.restarts = fact(s.facts, 'restarts');
    s.monitor = fact(s.facts, 'monitor');
    s.rerun = fact(s.facts, 'last restart');
    s.action = fact(s.facts, 'retry over');
    var a = el('div', 'actions');
    c.appendChild(a);
    var id = e.pent_id;
    var label = function () { return 'entry ' + id + ' (' + c._s.title.textContent.replace(/^\d+ /, '') + ')'; };
    var path = function (op) { return '/api/entries/' + op; };
    var body = { pfile: pfile, pentId: id };
    button(a, 'Stop', 'stop', true, 'Stop monitoring (padmin stop pent ' + id + ')').addEventListener('click', function (ev) {
      act(ev.currentTarget, 'Stop monitoring ' + label() + '?\nThe process keeps running but is no longer restarted.', path('stop'), body);
    });
    button(a, 'Start', 'start', false, 'Start monitoring (padmin start pent ' + id + ')').addEventListener('click', function (ev) {
      act(ev.currentTarget, 'Start monitoring ' + label() + '?', path('start'), body);
    });
    button(a, 'Reset', 'reset', false, 'Counters to 0, leave RETRY_OVER (padmin reset pent ' + id + ')').addEventListener('click', function (ev) {
      act(ev.currentTarget, 'Reset ' + label() + '?\nIts retry and restart counters go back to 0.', path('reset'), body);
    });
    return c;
  }
  function updateEntry(c, e) {
    var s = c._s;
    var off = e.monitor_sts === 'off';
    setClass(c, 'card ' + (off ? 'off' : stateClass(e.proc_sts)));
    setText(s.title, e.pent_id + ' ' + e.pname);
    setText(s.status, e.proc_sts);
    setText(s.sub, off ? 'monitoring off' : '');
    setText(s.pid, e.pid === null ? '-----' : e.pid);
    setText(s.retry, e.retry_count + '/' + e.retry_limit);
    setText(s.restarts, e.restart_count);
    setText(s.monitor, e.monitor_sts);
    setText(s.rerun, e.rerun_time === null ? '-----' : when(e.rerun_time));
    setText(s.action, e.retry_over_act);
  }

  function two(n) { return (n < 10 ? '0' : '') + n; }
  function when(ms) {
    var d = new Date(ms);
    var now = new Date();
    var t = two(d.getHours()) + ':' + two(d.getMinutes()) + ':' + two(d.getSeconds());
    if (d.toDateString() === now.toDateString()) return t;
    return d.getFullYear() + '-' + two(d.getMonth() + 1) + '-' + two(d.getDate()) + ' ' + t;
  }
  function duration(ms) {
    var s = Math.max(0, Math.floor(ms / 1000));
    var d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
    if (d > 0) return d + 'd ' + h + 'h ' + m + 'm';
    if (h > 0) return h + 'h ' + m + 'm';
    return m + 'm ' + (s % 60) + 's';
  }
  function ago(ms) { return duration(Date.now() - ms) + ' ago'; }

  function renderServer() {
    var v = lastStatus;
    if (!v) return;
    setText($('server-name'), v.server.name);
    setText($('server-facts'), 'pid ' + v.server.pid + ' · procsafe ' + v.server.version + ' · up ' + duration(Date.now() - v.server.startedAt));
    setText($('server-config'), v.server.config);
    show($('rehearse'), !!v.server.rehearse);
  }

  function render(v) {
    if (!v || !v.server) return;
    lastStatus = v;
    show($('main'), true);
    renderServer();
    sync($('groups'), v.groups, function (g) { return g.name; }, createGroup, updateGroup);
    show($('sec-groups'), v.groups.length > 0);
    sync($('monitors'), v.monitors, function (m) { return m.name; }, createMonitor, updateMonitor);
    show($('sec-monitors'), v.monitors.length > 0);
    sync($('pfiles'), v.pfiles, function (p) { return p.path; }, createPfile, updatePfile);
    show($('no-entries'), v.pfiles.length === 0);
    var bad = 0;
    v.groups.forEach(function (g) { if (stateClass(g.state) === 'bad') bad++; });
    v.monitors.forEach(function (m) { if (stateClass(m.status) === 'bad') bad++; });
    v.pfiles.forEach(function (p) { p.entries.forEach(function (e) { if (stateClass(e.proc_sts) === 'bad') bad++; }); });
    document.title = (bad > 0 ? '(' + bad + ' down) ' : '') + v.server.name + ' · procsafe';
  }

  function renderAlerts() {
    var list = $('alerts');
    sync(list, alerts.slice(0, MAX_ALERTS), function (a) { return a.at + '|' + a.kind + '|' + a.subject + '|' + a.message; },
      function (a) {
        var li = el('li');
        var t = el('time', null, when(a.at));
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
  var THEME_KEY = 'procsafe.theme';
  function applyTheme(t) {
    if (t === 'dark' || t === 'light') document.documentElement.dataset.theme = t;
    else delete document.documentElement.dataset.theme;
  }
  function currentTheme() {
    var t = document.documentElement.dataset.theme;
    if (t) return t;
    return window.matchMedia && window.matchMedia('(prefers-color-scheme: light)').matches ? 'light' : 'dark';
  }
  try { applyTheme(localStorage.getItem(THEME_KEY)); } catch (e) { /* no storage: follow the browser */ }

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
      try { localStorage.setItem(THEME_KEY, next); } catch (e) { /* this page only */ }
    });
    $('login').addEventListener('submit', function (ev) {
      ev.preventDefault();
      var t = $('token-input').value.trim();
      $('token-input').value = '';
      if (!t) return;
      storeToken(t);
      start();
    });
    setInterval(function () {
      // the clock-driven parts: uptime and "checked … ago"
      if (!lastStatus) return;
      renderServer();
      sync($('monitors'), lastStatus.monitors, function (m) { return m.name; }, createMonitor, updateMonitor);
    }, 1000);
    token = tokenFromUrlOrStorage();
    if (token) start();
    else askToken(null);
  });
})();
`;
