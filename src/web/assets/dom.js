// @ts-check
// The page's building blocks: elements, keyed lists, cards, state colours and times.
// Data goes in as text (textContent) and attributes, never as HTML.

/** The named parts of each card (its status word, its facts…), by card. @type {WeakMap<Element, Record<string, HTMLElement>>} */
const partsOf = new WeakMap();

/** @param {string} id @returns {HTMLElement} */
export function $(id) {
  var e = document.getElementById(id);
  if (!e) throw new Error('the page has no #' + id);
  return e;
}
/** @param {string} tag @param {string | null} [cls] @param {string | number | null} [text] @returns {HTMLElement} */
export function el(tag, cls, text) {
  var e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}
/** @param {Element} e @param {string | number | null | undefined} t */
export function setText(e, t) {
  var s = t === null || t === undefined ? '' : String(t);
  if (e.textContent !== s) e.textContent = s;
}
/** @param {Element} e @param {string} c */
export function setClass(e, c) { if (e.className !== c) e.className = c; }
/** @param {HTMLElement} e @param {boolean} on */
export function show(e, on) { if (e.hidden === on) e.hidden = !on; }
/** Keeps the named parts of a card. @param {Element} node @param {Record<string, HTMLElement>} p */
export function keepParts(node, p) { partsOf.set(node, p); }
/** @param {Element} node @returns {Record<string, HTMLElement>} */
export function parts(node) {
  var p = partsOf.get(node);
  if (!p) throw new Error('a card without parts');
  return p;
}

/** @param {unknown} x @returns {x is Record<string, unknown>} */
export function isObj(x) { return typeof x === 'object' && x !== null && !Array.isArray(x); }

// ---- rendering (keyed: cards are updated in place, so a click is never lost) ----
/** @param {string} word */
export function stateClass(word) {
  switch (word) {
    case 'AVAIL': case 'Online': case 'Normal': return 'ok';
    case 'RESTARTING': case 'WAIT': case 'Starting': case 'Stopping': case 'Warning': case 'Suspended': return 'warn';
    case 'DOWN': case 'RETRY_OVER': case 'Error': return 'bad';
    default: return 'off';
  }
}
/** @param {string} kind */
export function kindClass(kind) {
  switch (kind) {
    case 'down': case 'retry_over': case 'final_action': case 'monitor_error': return 'bad';
    case 'restart': case 'group_restart': return 'warn';
    case 'monitor_recovered': return 'ok';
    default: return 'off';
  }
}

/**
 * Makes `container`'s children match `items`, in order, reusing the node of each key.
 * @template T
 * @param {HTMLElement} container
 * @param {T[]} items
 * @param {(item: T) => string} keyOf
 * @param {(item: T) => HTMLElement} create
 * @param {(node: HTMLElement, item: T) => void} update
 */
export function sync(container, items, keyOf, create, update) {
  /** @type {Map<string, HTMLElement>} */
  var existing = new Map();
  Array.prototype.forEach.call(container.children, function (/** @type {HTMLElement} */ c) { existing.set(c.dataset.key || '', c); });
  /** @type {Map<string, number>} */
  var seen = new Map();
  /** @type {HTMLElement | null} */
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

/** @param {HTMLElement} parent @param {string} label @returns {HTMLElement} */
export function fact(parent, label) {
  var s = el('span', 'fact', label + ' ');
  s.dataset.fact = label.replace(/ /g, '-');
  var b = el('b');
  s.appendChild(b);
  parent.appendChild(s);
  return b;
}
/** @param {HTMLElement} parent @param {string} label @param {string} op @param {boolean} danger @param {string} title @param {(b: HTMLButtonElement) => void} onClick */
export function button(parent, label, op, danger, title, onClick) {
  var b = /** @type {HTMLButtonElement} */ (el('button', danger ? 'danger' : null, label));
  b.type = 'button';
  b.dataset.op = op;
  b.title = title;
  b.addEventListener('click', function () { onClick(b); });
  parent.appendChild(b);
}
/** @param {string} title @returns {HTMLElement} */
export function card(title) {
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
  keepParts(c, { title: h, sub: sub, status: st, facts: facts });
  return c;
}
/** @param {HTMLElement} c @returns {HTMLElement} */
export function actions(c) {
  var a = el('div', 'actions');
  c.appendChild(a);
  return a;
}

/** @param {number} n */
function two(n) { return (n < 10 ? '0' : '') + n; }
/** @param {number} ms */
export function when(ms) {
  var d = new Date(ms);
  var now = new Date();
  var t = two(d.getHours()) + ':' + two(d.getMinutes()) + ':' + two(d.getSeconds());
  if (d.toDateString() === now.toDateString()) return t;
  return d.getFullYear() + '-' + two(d.getMonth() + 1) + '-' + two(d.getDate()) + ' ' + t;
}
/** @param {number} ms */
export function duration(ms) {
  var s = Math.max(0, Math.floor(ms / 1000));
  var d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
  if (d > 0) return d + 'd ' + h + 'h ' + m + 'm';
  if (h > 0) return h + 'h ' + m + 'm';
  return m + 'm ' + (s % 60) + 's';
}
/** @param {number} ms */
export function ago(ms) {
  var d = Date.now() - ms;
  return (d < 60000 ? Math.max(0, Math.floor(d / 1000)) + ' s' : duration(d)) + ' ago';
}
