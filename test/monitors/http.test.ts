import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createProbe } from '../../src/monitors/index';
import { check, monitor } from './helpers';

type Mode = 'ok' | 'error' | 'hang' | 'other-body' | 'slow-chunks';

describe('http probe', () => {
  let mode: Mode = 'ok';
  let server: http.Server;
  let base = '';

  before(async () => {
    server = http.createServer((req, res) => {
      if (mode === 'hang') return; // accepts, reads the request, never answers
      if (mode === 'error') return void res.writeHead(500).end('boom');
      if (mode === 'other-body') return void res.writeHead(200).end('maintenance page');
      if (mode === 'slow-chunks') {
        // the expected text arrives split over two chunks 50 ms apart
        res.writeHead(200);
        res.write('status: heal');
        setTimeout(() => res.end('thy and well'), 50);
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain' }).end(`status: healthy (${req.url})`);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(() => {
    server.closeAllConnections();
    server.close();
  });

  // One probe through the four answers of the brief: 200, 500, no answer, wrong body.
  const probe = () => createProbe(monitor('http', { url: `${base}/health`, expectStatus: 200, expectBody: 'healthy' }));
  let p: ReturnType<typeof probe>;
  before(() => {
    p = probe();
  });
  after(() => p.close());

  it('is ok on a 200 whose body has the expected text, and gives status and time', async () => {
    mode = 'ok';
    const r = await check(p);
    assert.equal(r.ok, true, r.detail);
    assert.match(r.detail, /^HTTP 200 from http:\/\/127\.0\.0\.1:\d+\/health in \d+ ms, body has "healthy"$/);
  });

  it('fails on a 500 and says which status it expected', async () => {
    mode = 'error';
    const r = await check(p);
    assert.equal(r.ok, false);
    assert.match(r.detail, /^HTTP 500 \(expected 200\) from .* in \d+ ms$/);
  });

  it('fails at the timeout when the server accepts but never answers', async () => {
    mode = 'hang';
    const r = await check(p, 500);
    assert.equal(r.ok, false);
    assert.match(r.detail, /^timed out after 500 ms waiting for http:/);
    assert.ok(r.ms >= 480 && r.ms < 1500, `took ${r.ms} ms`);
  });

  it('fails when the body lacks the expected text', async () => {
    mode = 'other-body';
    const r = await check(p);
    assert.equal(r.ok, false);
    assert.match(r.detail, /^HTTP 200 from .* but the body lacks "healthy"$/);
  });

  it('is ok again once the server answers well', async () => {
    mode = 'ok';
    assert.equal((await check(p)).ok, true);
  });

  it('finds the expected text even when it is split between two chunks', async () => {
    mode = 'slow-chunks';
    const r = await check(p);
    assert.equal(r.ok, true, r.detail);
  });

  it('checks only the status when no body is expected', async () => {
    mode = 'other-body';
    const q = createProbe(monitor('http', { url: `${base}/`, expectStatus: 200, expectBody: null }));
    try {
      const r = await check(q);
      assert.equal(r.ok, true, r.detail);
      assert.match(r.detail, /^HTTP 200 from http:\/\/127\.0\.0\.1:\d+\/ in \d+ ms$/);
    } finally {
      q.close();
    }
  });

  it('accepts another expected status, such as 500 for a page that must fail', async () => {
    mode = 'error';
    const q = createProbe(monitor('http', { url: `${base}/`, expectStatus: 500, expectBody: null }));
    try {
      assert.equal((await check(q)).ok, true);
    } finally {
      q.close();
    }
  });

  it('fails with the error when nothing listens on the port', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const q = createProbe(monitor('http', { url: `http://127.0.0.1:${port}/`, expectStatus: 200, expectBody: null }));
    try {
      const r = await check(q);
      assert.equal(r.ok, false);
      assert.match(r.detail, /failed: ECONNREFUSED after \d+ ms$/);
    } finally {
      q.close();
    }
  });

  it('does not show a password from the url in its detail', async () => {
    mode = 'ok';
    const q = createProbe(monitor('http', { url: `${base.replace('//', '//admin:s3cret@')}/`, expectStatus: 200, expectBody: null }));
    try {
      const r = await check(q);
      assert.equal(r.ok, true);
      assert.doesNotMatch(r.detail, /s3cret|admin/);
    } finally {
      q.close();
    }
  });

  it('stops at once when the daemon aborts the check', async () => {
    mode = 'hang';
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const r = await check(p, 5000, ac.signal);
    assert.equal(r.ok, false);
    assert.match(r.detail, /^check aborted/);
    assert.ok(r.ms < 1000, `took ${r.ms} ms`);
  });

  it('reports a malformed url as a failure instead of throwing', async () => {
    const q = createProbe(monitor('http', { url: 'not a url', expectStatus: 200, expectBody: null }));
    const r = await check(q);
    assert.equal(r.ok, false);
    assert.match(r.detail, /^bad url "not a url"/);
    q.close();
  });
});
