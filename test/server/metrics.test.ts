import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { md5 } from '../support/hashes.js';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../server/app.js';
import { Messages } from '../../server/errors.js';
import { generateEspImage } from '../support/esp-image-generator.js';
import {
  addGroup,
  deployTo,
  downloadPath,
  esp32UpdaterHeaders,
  setGroup,
} from '../support/fleet.js';
import { parseExposition, type Exposition } from '../support/prometheus.js';
import { rawHttp10 } from '../support/http10.js';
import { download, request, startRegistry, type TestRegistry } from '../support/registry.js';

async function scrape(url: string, headers: Record<string, string> = {}): Promise<Exposition> {
  const res = await fetch(`${url}/metrics`, { headers });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
  expect(res.headers.get('cache-control')).toBe('no-store');
  return parseExposition(await res.text());
}

describe('GET /metrics', () => {
  let registry: TestRegistry;
  let apiKey: string;
  let device: { id: string; token: string };
  const v1 = generateEspImage({ seed: 61, size: 48 * 1024 });

  beforeAll(async () => {
    registry = await startRegistry();
    apiKey = await registry.addUser();
    device = await registry.addDevice(apiKey);
  });
  afterAll(() => registry.close());

  test('answers the Prometheus text format: the registry counters and Node process metrics', async () => {
    const metrics = await scrape(registry.url);
    for (const name of [
      'ota_polls_total',
      'ota_downloads_total',
      'ota_download_bytes_total',
      'ota_uploads_total',
      'process_cpu_user_seconds_total',
    ]) {
      expect([name, metrics.types.get(name)]).toEqual([name, 'counter']);
    }
    for (const name of [
      'ota_devices',
      'process_resident_memory_bytes',
      'nodejs_heap_size_used_bytes',
    ]) {
      expect([name, metrics.types.get(name)]).toEqual([name, 'gauge']);
    }
    expect(metrics.value('process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(metrics.types.get('nodejs_eventloop_lag_seconds')).toBe('gauge');
    // Every upload result is there from the start, at 0.
    for (const result of ['deployed', 'unchanged', 'rejected', 'failed']) {
      expect(metrics.value('ota_uploads_total', { result })).toBe(0);
    }
  });

  test('counts every update check, device and group URLs, found or not, GET and HEAD', async () => {
    const group = await addGroup(registry, apiKey);
    const before = (await scrape(registry.url)).value('ota_polls_total');
    const latest = `${registry.url}/v1/ota/device/latest`;
    await request(`${latest}/${device.id}`);
    await request(`${latest}/${'0'.repeat(24)}`);
    await request(`${latest}/not-an-id`);
    await fetch(`${latest}/${device.id}`, { method: 'HEAD' });
    await request(`${registry.url}/v1/ota/group/latest/${group.id}`);
    await rawHttp10(registry.url, `/v1/ota/device/latest/${device.id}`);
    expect((await scrape(registry.url)).value('ota_polls_total')).toBe(before + 6);
  });

  test('the Koa route (apps built with createApp alone) counts polls too', async () => {
    const server = http.createServer(createApp(registry.context).callback());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const before = (await scrape(registry.url)).value('ota_polls_total');
      await request(`http://127.0.0.1:${port}/v1/ota/device/latest/${device.id}`);
      expect((await scrape(registry.url)).value('ota_polls_total')).toBe(before + 1);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test('counts uploads by result; an unauthenticated one is not an upload', async () => {
    const before = await scrape(registry.url);
    const count = (m: Exposition, result: string) => m.value('ota_uploads_total', { result });
    expect((await deployTo(registry, apiKey, 'device', device, '1.0.0', v1)).status).toBe(201);
    expect((await deployTo(registry, apiKey, 'device', device, '1.0.0', v1)).status).toBe(200);
    const other = generateEspImage({ seed: 62 });
    expect((await deployTo(registry, apiKey, 'device', device, '1.0.0', other)).status).toBe(409);
    expect((await deployTo(registry, apiKey, 'device', device, 'v2', other)).status).toBe(400);
    expect((await deployTo(registry, undefined!, 'device', device, '2.0.0', other)).status).toBe(
      401,
    );
    const after = await scrape(registry.url);
    expect(count(after, 'deployed') - count(before, 'deployed')).toBe(1);
    expect(count(after, 'unchanged') - count(before, 'unchanged')).toBe(1);
    expect(count(after, 'rejected') - count(before, 'rejected')).toBe(2);
    expect(count(after, 'failed') - count(before, 'failed')).toBe(0);
  });

  test('counts downloads answered with firmware and their bytes; HEAD, 304 and refusals are none', async () => {
    const url = `${registry.url}${downloadPath('device', device)}`;
    const before = await scrape(registry.url);
    expect((await download(url)).bytes.equals(v1)).toBe(true);
    const device10 = await rawHttp10(registry.url, downloadPath('device', device));
    expect(device10.body.equals(v1)).toBe(true);
    expect((await download(url, { Range: 'bytes=0-99' })).status).toBe(206);
    expect((await fetch(url, { method: 'HEAD' })).status).toBe(200);
    expect((await download(url, esp32UpdaterHeaders({ md5: md5(v1) }))).status).toBe(304);
    expect((await download(`${url}x`)).status).toBe(404);
    const after = await scrape(registry.url);
    const delta = (name: string) => after.value(name) - before.value(name);
    expect(delta('ota_downloads_total')).toBe(3);
    expect(delta('ota_download_bytes_total')).toBe(2 * v1.length + 100);
  });
});

describe('ota_devices', () => {
  let registry: TestRegistry;

  beforeAll(async () => {
    registry = await startRegistry();
  });
  afterAll(() => registry.close());

  test('counts devices by update state, group members by their group firmware', async () => {
    const apiKey = await registry.addUser();
    const v1 = generateEspImage({ seed: 71 });
    const v2 = generateEspImage({ seed: 72 });
    // No firmware, never reported: unknown. Served 1.0.0, never reported: unknown.
    await registry.addDevice(apiKey);
    const silent = await registry.addDevice(apiKey);
    await deployTo(registry, apiKey, 'device', silent, '1.0.0', v1);
    const downloadAs = async (target: { id: string; token: string }, bytes: Buffer) =>
      download(
        `${registry.url}${downloadPath('device', target)}`,
        esp32UpdaterHeaders({ md5: md5(bytes) }),
      );
    // Served 1.0.0 and runs it: up-to-date.
    const current = await registry.addDevice(apiKey);
    await deployTo(registry, apiKey, 'device', current, '1.0.0', v1);
    expect((await downloadAs(current, v1)).status).toBe(304);
    // Served 2.0.0, runs 1.0.0: pending.
    const behind = await registry.addDevice(apiKey);
    await deployTo(registry, apiKey, 'device', behind, '1.0.0', v1);
    await downloadAs(behind, v1);
    await deployTo(registry, apiKey, 'device', behind, '2.0.0', v2);
    // In a group served 2.0.0, its own firmware 1.0.0, runs 2.0.0: up-to-date by the group's.
    const member = await registry.addDevice(apiKey);
    await deployTo(registry, apiKey, 'device', member, '1.0.0', v1);
    await downloadAs(member, v2);
    const group = await addGroup(registry, apiKey);
    expect((await setGroup(registry, apiKey, member.id, group.id)).status).toBe(200);
    await deployTo(registry, apiKey, 'group', group, '2.0.0', v2);
    registry.context.checkins.flush();

    const metrics = await scrape(registry.url);
    expect(metrics.value('ota_devices', { update_state: 'unknown' })).toBe(2);
    expect(metrics.value('ota_devices', { update_state: 'up-to-date' })).toBe(2);
    expect(metrics.value('ota_devices', { update_state: 'pending' })).toBe(1);
  });
});

describe('GET /metrics with a metrics token', () => {
  let registry: TestRegistry;
  const token = 'scrape-8f2a61c0d4';

  beforeAll(async () => {
    registry = await startRegistry({ 'metrics-token': token });
  });
  afterAll(() => registry.close());

  test.each([
    ['no Authorization', {}],
    ['a wrong token', { Authorization: 'Bearer scrape-8f2a61c0d5' }],
    ['a prefix of the token', { Authorization: 'Bearer scrape-8f2a' }],
    ['the token as Basic', { Authorization: `Basic ${token}` }],
  ])('%s: 401 {"message":"Unauthorized"}', async (_, headers) => {
    const res = await request(`${registry.url}/metrics`, { headers });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ message: Messages.unauthorized });
  });

  test("a user's API key is not the metrics token", async () => {
    const apiKey = await registry.addUser();
    expect((await request(`${registry.url}/metrics`, { apiKey })).status).toBe(401);
  });

  test('Bearer <token> gets the metrics', async () => {
    const metrics = await scrape(registry.url, { Authorization: `Bearer ${token}` });
    expect(metrics.types.get('ota_polls_total')).toBe('counter');
  });
});
