import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../server/app.js';
import { ConfigError, loadConfig } from '../../server/config.js';
import { Messages } from '../../server/errors.js';
import {
  DEVICE_FAILURE_WINDOW_MS,
  DeviceFailureLimit,
  REFUSAL_DELAY_MS,
  addressKey,
} from '../../server/http/device-failure-limit.js';
import { generateEspImage } from '../support/esp-image-generator.js';
import {
  request,
  startRegistry,
  upload,
  type Reply,
  type TestRegistry,
} from '../support/registry.js';

const T0 = 1_800_000_000_000;

describe('the device failure count (in memory, per address)', () => {
  test('over the limit within the window: a Retry-After until enough failures have left it', () => {
    const limit = new DeviceFailureLimit(3);
    for (let i = 0; i < 2; i++) limit.failed('198.51.100.7', T0 + i * 1000);
    expect(limit.retryAfter('198.51.100.7', T0 + 2000)).toBe(0);
    limit.failed('198.51.100.7', T0 + 2000);
    // All three in the first 10 s slice: the address is free when that slice leaves the window.
    const wait = limit.retryAfter('198.51.100.7', T0 + 3000);
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(60);
    expect(limit.retryAfter('198.51.100.7', T0 + 3000 + wait * 1000)).toBe(0);
    expect(limit.retryAfter('198.51.100.8', T0 + 3000)).toBe(0);
  });

  test('the window slides: failures older than a minute no longer count, newer ones still do', () => {
    const limit = new DeviceFailureLimit(4);
    limit.failed('a', T0);
    limit.failed('a', T0);
    limit.failed('a', T0 + 30_000);
    limit.failed('a', T0 + 30_000);
    expect(limit.retryAfter('a', T0 + 30_000)).toBeGreaterThan(0);
    // The first two leave (a slice is 10 s), the two at +30 s stay: under the limit again ...
    expect(limit.retryAfter('a', T0 + DEVICE_FAILURE_WINDOW_MS + 10_000)).toBe(0);
    // ... until two more arrive within the minute of the +30 s ones.
    limit.failed('a', T0 + 70_000);
    limit.failed('a', T0 + 75_000);
    expect(limit.retryAfter('a', T0 + 75_000)).toBeGreaterThan(0);
    expect(limit.retryAfter('a', T0 + 30_000 + DEVICE_FAILURE_WINDOW_MS + 10_000)).toBe(0);
    // A long quiet spell forgets everything.
    limit.failed('a', T0 + 10 * DEVICE_FAILURE_WINDOW_MS);
    expect(limit.retryAfter('a', T0 + 10 * DEVICE_FAILURE_WINDOW_MS)).toBe(0);
  });

  test('0 is no limit; memory stays bounded however many addresses fail', () => {
    const off = new DeviceFailureLimit(0);
    for (let i = 0; i < 100; i++) off.failed('a', T0);
    expect(off.retryAfter('a', T0)).toBe(0);
    expect(off.size).toBe(0);

    const limit = new DeviceFailureLimit(2);
    for (let i = 0; i < 25_000; i++) limit.failed(`10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, T0);
    expect(limit.size).toBeLessThanOrEqual(10_000);
    // Stale entries make room first.
    limit.failed('fresh', T0 + 5 * DEVICE_FAILURE_WINDOW_MS);
    expect(limit.size).toBe(1);
  });

  test('IPv6 addresses count by their /64, IPv4 inside IPv6 as IPv4', () => {
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8:1:2:bbbb:cccc:dddd:eeee')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('::ffff:203.0.113.9')).toBe('203.0.113.9');
    expect(addressKey('203.0.113.9')).toBe('203.0.113.9');
  });

  test('--device-failure-limit and OTA_DEVICE_FAILURE_LIMIT; a bad value names its source', () => {
    expect(loadConfig({ 'device-failure-limit': '0' }, {}).deviceFailureLimit).toBe(0);
    expect(loadConfig({}, { OTA_DEVICE_FAILURE_LIMIT: '7' }).deviceFailureLimit).toBe(7);
    expect(() => loadConfig({ 'device-failure-limit': '-1' }, {})).toThrow(ConfigError);
    expect(() => loadConfig({}, { OTA_DEVICE_FAILURE_LIMIT: 'lots' })).toThrow(
      /OTA_DEVICE_FAILURE_LIMIT/,
    );
  });
});

describe('a registry under a flood of wrong tokens', () => {
  const LIMIT = 5;
  let registry: TestRegistry;
  let apiKey: string;
  let device: { id: string; token: string };
  let empty: { id: string; token: string };

  beforeAll(async () => {
    registry = await startRegistry({ 'device-failure-limit': String(LIMIT), 'trust-proxy': true });
    apiKey = await registry.addUser();
    device = await registry.addDevice(apiKey);
    empty = await registry.addDevice(apiKey);
    const res = await upload(
      `${registry.url}/v1/ota/device`,
      apiKey,
      { device: device.id, token: device.token, version: '1.0.0' },
      [{ bytes: generateEspImage({ seed: 7 }) }],
    );
    expect(res.status).toBe(201);
  });
  afterAll(() => registry.close());

  const from = (address: string, path: string, base = registry.url) =>
    request(`${base}${path}`, { headers: { 'X-Forwarded-For': address } });
  const wrongToken = () => `/v1/ota/device/download/${device.id}WRONGTOKEN12345`;
  const expect429 = (res: Reply) => {
    expect(res.status).toBe(429);
    expect(res.body).toEqual({ message: Messages.tooManyDeviceFailures });
    const retryAfter = Number(res.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(res.headers.get('cache-control')).toBe('no-store');
  };

  test('past the limit, an address gets 429 with Retry-After on every device path; other addresses do not', async () => {
    const attacker = '203.0.113.10';
    for (let i = 0; i < LIMIT; i++) {
      const res = await from(attacker, wrongToken());
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ message: Messages.noSuchDevice });
    }
    // Held for a second before it leaves: a flood on keep-alive connections slows to its pace.
    const started = Date.now();
    expect429(await from(attacker, wrongToken()));
    expect(Date.now() - started).toBeGreaterThanOrEqual(REFUSAL_DELAY_MS - 50);
    expect429(await from(attacker, `/v1/ota/device/latest/0123456789abcdef01234567`));
    expect429(await from(attacker, `/V1/OTA/GROUP/DOWNLOAD/0123456789abcdef01234567abc`));
    // Turned away before the lookup: even the right token (a device behind the attacker's NAT).
    expect429(await from(attacker, `/v1/ota/device/download/${device.id}${device.token}`));
    // Another address is untouched, and the management API is not limited.
    const other = await from('198.51.100.20', `/v1/ota/device/latest/${device.id}`);
    expect(other).toMatchObject({ status: 200, body: { ver: '1.0.0' } });
    expect((await from('198.51.100.20', wrongToken())).status).toBe(404);
    const list = await request(`${registry.url}/v1/devices`, {
      apiKey,
      headers: { 'X-Forwarded-For': attacker },
    });
    expect(list.status).toBe(200);
  });

  test('devices with the right id and token are never counted, nor a device without firmware yet', async () => {
    const nat = '198.51.100.30';
    for (let i = 0; i < 3 * LIMIT; i++) {
      const poll = await from(nat, `/v1/ota/device/latest/${device.id}`);
      expect(poll.status).toBe(200);
      const get = await fetch(
        `${registry.url}/v1/ota/device/download/${device.id}${device.token}`,
        {
          headers: { 'X-Forwarded-For': nat },
        },
      );
      expect(get.status).toBe(200);
      await get.arrayBuffer();
      const none = await from(nat, `/v1/ota/device/latest/${empty.id}`);
      expect(none).toMatchObject({ status: 404, body: { message: Messages.noFirmwareAvailable } });
    }
    // Only failures count: the address still has all of its LIMIT failures to make.
    for (let i = 0; i < LIMIT; i++) expect((await from(nat, wrongToken())).status).toBe(404);
    expect429(await from(nat, wrongToken()));
  });

  test('unknown ids on latest (the fast path) and unrouted device paths count too', async () => {
    const prober = '198.51.100.40';
    for (let i = 0; i < LIMIT - 1; i++) {
      const res = await from(prober, `/v1/ota/device/latest/0123456789abcdef0123456${i}`);
      expect(res).toMatchObject({ status: 404, body: { message: Messages.noSuchDevice } });
    }
    expect((await from(prober, `/v1/ota/group/latest/not-an-id`)).status).toBe(404);
    expect429(await from(prober, `/v1/ota/device/latest/${device.id}`));
  });

  test('X-Forwarded-For is not believed without --trust-proxy: the socket address counts', async () => {
    const plain = await startRegistry({ 'device-failure-limit': String(LIMIT) });
    try {
      for (let i = 0; i < LIMIT; i++) {
        expect((await from(`192.0.2.${i}`, wrongToken(), plain.url)).status).toBe(404);
      }
      expect429(await from('192.0.2.99', wrongToken(), plain.url));
    } finally {
      await plain.close();
    }
  });

  test('an app built with createApp alone (no fast path) limits the same way', async () => {
    const server = http.createServer(createApp(registry.context).callback());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const prober = '198.51.100.50';
      for (let i = 0; i < LIMIT; i++) {
        const res = await from(prober, `/v1/ota/device/latest/0123456789abcdef01234567`, base);
        expect(res.status).toBe(404);
      }
      expect429(await from(prober, `/v1/ota/device/latest/${device.id}`, base));
      expect429(await from(prober, `/v1/ota/device/download/${device.id}${device.token}`, base));
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
