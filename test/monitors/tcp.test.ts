import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { createProbe } from '../../src/monitors/index';
import { check, monitor } from './helpers';

describe('tcp probe', () => {
  it('is ok while a listener accepts, and fails once it is closed', async () => {
    const accepted: net.Socket[] = [];
    const server = net.createServer((s) => accepted.push(s));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const p = createProbe(monitor('tcp', { host: '127.0.0.1', port }));
    try {
      const up = await check(p);
      assert.equal(up.ok, true, up.detail);
      assert.match(up.detail, new RegExp(`^connected to 127\\.0\\.0\\.1:${port} in \\d+ ms$`));

      for (const s of accepted) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      const down = await check(p);
      assert.equal(down.ok, false);
      assert.match(down.detail, new RegExp(`^cannot connect to 127\\.0\\.0\\.1:${port}: ECONNREFUSED after \\d+ ms$`));
      assert.ok(down.ms < 1500, `took ${down.ms} ms`);
    } finally {
      p.close();
      server.close();
    }
  });

  it('writes an IPv6 address with brackets in its detail', async () => {
    const server = net.createServer((s) => s.destroy());
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '::1', resolve);
    });
    const port = (server.address() as AddressInfo).port;
    const p = createProbe(monitor('tcp', { host: '::1', port }));
    try {
      const r = await check(p);
      assert.equal(r.ok, true, r.detail);
      assert.match(r.detail, new RegExp(`^connected to \\[::1\\]:${port} in`));
    } finally {
      p.close();
      server.close();
    }
  });
});
