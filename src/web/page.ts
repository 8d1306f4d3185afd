// The web page's static shell: HTML, CSS and an icon. No data is in them (the data comes from
// the JSON API and the live feed, with the token), and no inline script or style, so the
// Content-Security-Policy can be `default-src 'self'`. No build step: these are the files.

export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="dark light">
<meta name="referrer" content="no-referrer">
<title>procsafe</title>
<link rel="icon" href="/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/app.css">
<script src="/app.js" defer></script>
</head>
<body>
<header class="top">
  <div class="wrap top-row">
    <h1><span class="logo" aria-hidden="true"></span>procsafe</h1>
    <div class="top-right">
      <span id="conn" class="conn" role="status">connecting…</span>
      <button id="theme" class="theme" type="button" title="Dark or light page" aria-label="Switch between a dark and a light page">◐</button>
    </div>
  </div>
</header>
<div id="banner" class="banner" role="alert" hidden>Connection to procsafe lost: reconnecting…</div>
<div class="wrap">
  <form id="login" class="login" hidden>
    <h2>Token needed</h2>
    <p id="login-why">Open the address that pcheck printed at start-up (it ends with <code>?token=…</code>), or paste the token from the token file (<code>[web] token_file</code>, by default <code>web.token</code> in the state directory).</p>
    <label for="token-input">Token</label>
    <div class="login-row">
      <input id="token-input" name="token" type="password" autocomplete="off" autocapitalize="off" spellcheck="false" required>
      <button type="submit">Open</button>
    </div>
  </form>
  <main id="main" hidden>
    <section id="server" class="server" aria-label="Server">
      <div class="server-line"><span id="server-name" class="server-name"></span> <span id="server-facts" class="facts-inline"></span> <span id="rehearse" class="tag warn" hidden>REHEARSAL</span></div>
      <div id="server-config" class="muted small"></div>
    </section>
    <div id="result" class="result" role="status" aria-live="polite" hidden></div>
    <section id="sec-groups" aria-labelledby="h-groups" hidden>
      <h2 id="h-groups">Groups</h2>
      <div id="groups" class="cards"></div>
    </section>
    <section id="sec-monitors" aria-labelledby="h-monitors" hidden>
      <h2 id="h-monitors">Monitors</h2>
      <div id="monitors" class="cards"></div>
    </section>
    <section id="sec-entries" aria-labelledby="h-entries">
      <h2 id="h-entries">Entries</h2>
      <div id="pfiles"></div>
      <p id="no-entries" class="muted" hidden>No pfile entries.</p>
    </section>
    <section id="sec-alerts" aria-labelledby="h-alerts">
      <h2 id="h-alerts">Recent alerts</h2>
      <ol id="alerts" class="alerts"></ol>
      <p id="no-alerts" class="muted">No alerts yet.</p>
    </section>
  </main>
</div>
</body>
</html>
`;

export const PAGE_CSS = `
/* Dark unless the browser says the user prefers light; the header button overrides both. */
:root {
  color-scheme: dark;
  --bg: #0e1013; --fg: #e8eaed; --muted: #9aa3ad; --card: #171a1f; --border: #2b3038;
  --btn: #222730; --btn-hover: #2c323d; --accent: #79b8ff;
  --ok: #3ddc84; --warn: #ffb224; --bad: #ff6369; --off: #8a939f;
}
@media (prefers-color-scheme: light) {
  :root:not([data-theme="dark"]) {
    color-scheme: light;
    --bg: #f5f6f8; --fg: #16191d; --muted: #59616b; --card: #ffffff; --border: #d5d9df;
    --btn: #eef0f3; --btn-hover: #e2e6eb; --accent: #0b63c5;
    --ok: #0b7a3a; --warn: #9a5800; --bad: #c4232b; --off: #69727d;
  }
}
:root[data-theme="light"] {
  color-scheme: light;
  --bg: #f5f6f8; --fg: #16191d; --muted: #59616b; --card: #ffffff; --border: #d5d9df;
  --btn: #eef0f3; --btn-hover: #e2e6eb; --accent: #0b63c5;
  --ok: #0b7a3a; --warn: #9a5800; --bad: #c4232b; --off: #69727d;
}
* { box-sizing: border-box; }
[hidden] { display: none !important; }
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 16px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif; }
.wrap { max-width: 1240px; margin: 0 auto; padding: 0 14px; }
code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: .92em; }
h1 { font-size: 1.25rem; margin: 0; display: flex; align-items: center; gap: 8px; }
h2 { font-size: 1.05rem; text-transform: uppercase; letter-spacing: .08em; color: var(--muted); margin: 22px 0 10px; }
h3 { font-size: 1.05rem; margin: 0; overflow-wrap: anywhere; }
.logo { width: 14px; height: 14px; border-radius: 50%; background: var(--ok); display: inline-block; }
.top { border-bottom: 1px solid var(--border); background: var(--card); }
.top-row { display: flex; align-items: center; justify-content: space-between; gap: 12px; min-height: 52px; }
.conn { font-size: .9rem; color: var(--muted); }
.conn.live { color: var(--ok); }
.conn.lost { color: var(--bad); font-weight: 700; }
.banner { position: sticky; top: 0; z-index: 10; background: var(--bad); color: #000; font-weight: 700; text-align: center; padding: 10px 14px; }
.server { margin-top: 14px; }
.server-line { display: flex; flex-wrap: wrap; align-items: baseline; gap: 6px 12px; }
.server-name { font-size: 1.3rem; font-weight: 800; overflow-wrap: anywhere; }
.facts-inline { color: var(--muted); }
.muted { color: var(--muted); }
.small { font-size: .88rem; overflow-wrap: anywhere; }
.result { margin-top: 12px; padding: 10px 12px; border-radius: 8px; border: 1px solid var(--border); background: var(--card); overflow-wrap: anywhere; }
.result.ok { border-color: var(--ok); }
.result.bad { border-color: var(--bad); }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, 330px), 1fr)); gap: 12px; }
.card { min-width: 0; background: var(--card); border: 1px solid var(--border); border-left: 8px solid var(--off); border-radius: 10px; padding: 12px 14px; }
.card.ok { border-left-color: var(--ok); }
.card.warn { border-left-color: var(--warn); }
.card.bad { border-left-color: var(--bad); }
.card-head { display: flex; justify-content: space-between; align-items: flex-start; gap: 10px; }
.status { font-size: 1.7rem; line-height: 1.1; font-weight: 850; letter-spacing: .02em; white-space: nowrap; }
.ok .status, .ok > .status { color: var(--ok); }
.warn .status { color: var(--warn); }
.bad .status { color: var(--bad); }
.off .status { color: var(--off); }
.sub { color: var(--muted); font-size: .9rem; overflow-wrap: anywhere; }
.facts { display: flex; flex-wrap: wrap; gap: 2px 16px; margin-top: 8px; color: var(--muted); }
.facts b { color: var(--fg); font-weight: 650; }
.detail { margin-top: 6px; font-size: .9rem; color: var(--muted); overflow-wrap: anywhere; }
.tag { display: inline-block; font-size: .78rem; font-weight: 800; letter-spacing: .05em; padding: 1px 7px; border-radius: 4px; border: 1px solid currentColor; }
.tag.warn { color: var(--warn); }
.tag.bad { color: var(--bad); }
.tag.ok { color: var(--ok); }
.tag.off { color: var(--off); }
.actions { display: flex; flex-wrap: wrap; gap: 8px; margin-top: 12px; }
button { min-height: 44px; min-width: 64px; padding: 0 16px; font: inherit; font-weight: 650; color: var(--fg); background: var(--btn); border: 1px solid var(--border); border-radius: 8px; cursor: pointer; }
button:hover { background: var(--btn-hover); border-color: var(--accent); }
button:focus-visible, input:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
button:disabled { opacity: .5; cursor: progress; }
button.danger { color: var(--bad); }
.pfile { margin-bottom: 16px; }
.pfile-head { margin: 0 0 8px; font-size: .95rem; color: var(--muted); overflow-wrap: anywhere; }
.pfile-head b { color: var(--fg); }
.alerts { list-style: none; margin: 0; padding: 0; border: 1px solid var(--border); border-radius: 10px; background: var(--card); }
.alerts:empty { display: none; }
.alerts li { display: grid; grid-template-columns: auto auto 1fr; gap: 4px 12px; align-items: baseline; padding: 8px 12px; border-top: 1px solid var(--border); }
.alerts li:first-child { border-top: 0; }
.alerts time { color: var(--muted); font-variant-numeric: tabular-nums; white-space: nowrap; }
.alerts .msg { overflow-wrap: anywhere; min-width: 0; }
.alerts .tag { justify-self: start; }
.top-right { display: flex; align-items: center; gap: 12px; }
button.theme { min-width: 44px; padding: 0 10px; font-size: 1.1rem; }
@media (max-width: 560px) {
  .actions button { flex: 1 1 0; padding: 0 10px; }
  .alerts li { grid-template-columns: auto 1fr; }
  .alerts .msg { grid-column: 1 / -1; }
  .status { font-size: 1.5rem; }
}
.login { margin: 28px auto; max-width: 560px; background: var(--card); border: 1px solid var(--border); border-radius: 10px; padding: 16px; }
.login h2 { margin-top: 0; }
.login-row { display: flex; gap: 8px; margin-top: 6px; }
.login input { flex: 1; min-width: 0; min-height: 44px; font: inherit; padding: 0 10px; color: var(--fg); background: var(--bg); border: 1px solid var(--border); border-radius: 8px; }
main { padding-bottom: 32px; }
`;

export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><circle cx="8" cy="8" r="7" fill="#3ddc84"/></svg>
`;
