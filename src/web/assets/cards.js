// @ts-check
// The cards of groups, monitors, pfile entries and servers: made once per key, then updated
// in place (a click is never lost to a redraw). Operations go through `act`, given by app.js.
import { actions, ago, button, card, el, fact, keepParts, parts, setClass, setText, show, stateClass, sync, when } from './dom.js';

/** @typedef {(btn: HTMLButtonElement, question: string, path: string, body?: unknown) => void} Act */

/**
 * The card makers, bound to how operations are sent.
 * @param {Act} act
 */
export function cards(act) {
  /** @param {GroupView} g */
  function createGroup(g) {
    var c = card(g.name);
    var s = parts(c);
    s.restarts = fact(s.facts, 'restarts');
    s.last = fact(s.facts, 'last');
    var a = actions(c);
    var name = g.name;
    /** @param {string} op */
    var path = function (op) { return '/api/groups/' + encodeURIComponent(name) + '/' + op; };
    button(a, 'Start', 'start', false, 'Run the start script of group ' + name, function (b) {
      act(b, 'Start group "' + name + '"?', path('start'));
    });
    button(a, 'Stop', 'stop', true, 'Run the stop script of group ' + name, function (b) {
      act(b, 'Stop group "' + name + '"?\nIts application is stopped and its entries are no longer watched.', path('stop'));
    });
    button(a, 'Restart', 'restart', true, 'Stop, then start group ' + name, function (b) {
      act(b, 'Restart group "' + name + '"?\nIts stop script runs, then its start script.', path('restart'));
    });
    return c;
  }
  /** @param {HTMLElement} c @param {GroupView} g */
  function updateGroup(c, g) {
    var s = parts(c);
    setClass(c, 'card ' + stateClass(g.state));
    setText(s.status, g.state);
    setText(s.restarts, g.restarts);
    setText(s.last, g.lastScript || '-');
  }

  /** @param {MonitorView} m */
  function createMonitor(m) {
    var c = card(m.name);
    var s = parts(c);
    s.failures = fact(s.facts, 'failures');
    s.restarts = fact(s.facts, 'group restarts');
    s.final = fact(s.facts, 'final');
    s.checked = fact(s.facts, 'checked');
    s.detail = el('div', 'detail');
    c.appendChild(s.detail);
    var a = actions(c);
    var name = m.name;
    /** @param {string} op */
    var path = function (op) { return '/api/monitors/' + encodeURIComponent(name) + '/' + op; };
    button(a, 'Suspend', 'suspend', false, 'Stop checking until resumed', function (b) {
      act(b, 'Suspend monitor "' + name + '"?\nIt stops checking until it is resumed.', path('suspend'));
    });
    button(a, 'Resume', 'resume', false, 'Check again', function (b) {
      act(b, 'Resume monitor "' + name + '"?', path('resume'));
    });
    button(a, 'Clear', 'clear', false, 'Reset its failure and restart counters', function (b) {
      act(b, 'Clear the counters of monitor "' + name + '"?', path('clear'));
    });
    return c;
  }
  /** @param {HTMLElement} c @param {MonitorView} m */
  function updateMonitor(c, m) {
    var s = parts(c);
    setClass(c, 'card ' + stateClass(m.status));
    setText(s.status, m.status);
    setText(s.sub, m.type + (m.target ? ' → ' + m.target : ''));
    setText(s.failures, m.failures + '/' + (m.retries + 1));
    setText(s.restarts, m.groupRestarts + '/' + m.restartThreshold);
    setText(s.final, m.finalAction + (m.finalActionDone ? ' DONE' : m.finalActionRefused ? ' NOT DONE' : ''));
    setText(s.checked, m.lastCheckAt ? ago(m.lastCheckAt) : 'never');
    setText(s.detail, m.detail || '');
    show(s.detail, !!m.detail);
  }

  /** @returns {HTMLElement} */
  function createPfile() {
    var box = el('div', 'pfile');
    var head = el('h3', 'pfile-head');
    var cards = el('div', 'cards');
    box.appendChild(head);
    box.appendChild(cards);
    keepParts(box, { head: head, cards: cards });
    return box;
  }
  /** @param {HTMLElement} box @param {PfileView} p */
  function updatePfile(box, p) {
    var s = parts(box);
    var sig = p.path + '|' + (p.group || '');
    if (s.head.dataset.sig !== sig) {
      s.head.dataset.sig = sig;
      s.head.replaceChildren(document.createTextNode('pfile '), el('b', null, p.path));
      if (p.group) s.head.appendChild(document.createTextNode(' (group ' + p.group + ')'));
    }
    sync(s.cards, p.entries, function (e) { return String(e.pent_id); },
      function (e) { return createEntry(p.path, e); }, updateEntry);
  }

  /** @param {string} pfile @param {EntryView} e */
  function createEntry(pfile, e) {
    var c = card('');
    var s = parts(c);
    c.dataset.pfile = pfile;
    c.dataset.pentId = String(e.pent_id);
    s.pid = fact(s.facts, 'pid');
    s.retry = fact(s.facts, 'retry');
    s.restarts = fact(s.facts, 'restarts');
    s.monitor = fact(s.facts, 'monitor');
    s.rerun = fact(s.facts, 'last restart');
    s.action = fact(s.facts, 'retry over');
    var a = actions(c);
    var id = e.pent_id;
    var label = function () { return 'entry ' + id + ' (' + (s.title.textContent || '').replace(/^\d+ /, '') + ')'; };
    /** @param {string} op */
    var path = function (op) { return '/api/entries/' + op; };
    var body = { pfile: pfile, pentId: id };
    button(a, 'Stop', 'stop', true, 'Stop monitoring (padmin stop pent ' + id + ')', function (b) {
      act(b, 'Stop monitoring ' + label() + '?\nThe process keeps running but is no longer restarted.', path('stop'), body);
    });
    button(a, 'Start', 'start', false, 'Start monitoring (padmin start pent ' + id + ')', function (b) {
      act(b, 'Start monitoring ' + label() + '?', path('start'), body);
    });
    button(a, 'Reset', 'reset', false, 'Counters to 0, leave RETRY_OVER (padmin reset pent ' + id + ')', function (b) {
      act(b, 'Reset ' + label() + '?\nIts retry and restart counters go back to 0.', path('reset'), body);
    });
    return c;
  }
  /** @param {HTMLElement} c @param {EntryView} e */
  function updateEntry(c, e) {
    var s = parts(c);
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

  // ---- the Servers view ([fleet:NAME]; the daemon fetches the others, the tokens stay there) ----
  /** "3 (1 Error, 1 Offline)": the total, then the counts of the states that are not fine. @param {Record<string, number> | null} counts */
  function countText(counts) {
    if (!counts) return '-';
    var total = 0;
    /** @type {string[]} */
    var notFine = [];
    Object.keys(counts).forEach(function (k) {
      total += counts[k];
      if (stateClass(k) !== 'ok' && counts[k] > 0) notFine.push(counts[k] + ' ' + k);
    });
    return total + (notFine.length > 0 ? ' (' + notFine.join(', ') + ')' : '');
  }
  /** @param {FleetServer} f */
  function createServer(f) {
    var c = card(f.name);
    var s = parts(c);
    c.dataset.server = f.name;
    s.groups = fact(s.facts, 'groups');
    s.monitors = fact(s.facts, 'monitors');
    s.entries = fact(s.facts, 'entries');
    s.version = fact(s.facts, 'version');
    s.checked = fact(s.facts, 'checked');
    s.detail = el('div', 'detail');
    c.appendChild(s.detail);
    var a = actions(c);
    var link = /** @type {HTMLAnchorElement} */ (el('a', 'open', f.self ? 'This page' : 'Open its page'));
    link.rel = 'noopener noreferrer';
    a.appendChild(link);
    s.link = link;
    return c;
  }
  /** @param {HTMLElement} c @param {FleetServer} f */
  function updateServer(c, f) {
    var s = parts(c);
    var cls = f.state === 'Unreachable' ? 'off' : stateClass(f.state);
    setClass(c, 'card ' + cls);
    setText(s.status, f.state);
    setText(s.sub, f.self ? 'this server' : (f.url || ''));
    setText(s.groups, countText(f.groups));
    setText(s.monitors, countText(f.monitors));
    setText(s.entries, countText(f.entries));
    setText(s.version, f.version || '-');
    setText(s.checked, f.self ? 'live' : (f.checkedAt ? ago(f.checkedAt) : 'not yet'));
    setText(s.detail, f.reasons.join('; '));
    show(s.detail, f.reasons.length > 0);
    var link = /** @type {HTMLAnchorElement} */ (s.link);
    var href = f.self ? '/' : (f.url || '');
    if (link.getAttribute('href') !== href) link.setAttribute('href', href);
    if (f.self) link.removeAttribute('target'); else link.target = '_blank';
  }
  /** @param {FleetView} f */
  return { createGroup, updateGroup, createMonitor, updateMonitor, createPfile, updatePfile, createServer, updateServer };
}
