import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../../server/app.js';
import { generateEspImage } from '../../support/esp-image-generator.js';
import { startRegistry, upload, type TestRegistry } from '../../support/registry.js';

/**
 * Device polls are answered by a fast path in front of Koa (server/http/poll-fast-path.ts).
 * Whatever a device sends, it must get byte for byte what the Koa route would answer.
 */
describe('the poll fast path answers exactly like the Koa route', () => {
  let registry: TestRegistry;
  let koaOnly: http.Server;
  let koaUrl: string;
  const paths: string[] = [];

  beforeAll(async () => {
    registry = await startRegistry();
    const apiKey = await registry.addUser();
    const flashed = await registry.addDevice(apiKey);
    const empty = await registry.addDevice(apiKey);
    const res = await upload(
      `${registry.url}/v1/ota/device`,
      apiKey,
      { device: flashed.id, token: flashed.token, version: '2.0.0-rc.1' },
      [{ bytes: generateEspImage({ seed: 1 }) }],
    );
    expect(res.status).toBe(201);
    const group = await fetch(`${registry.url}/v1/groups`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${apiKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'g' }),
    });
    const groupId = ((await group.json()) as { _id: string })._id;
    paths.push(
      `/v1/ota/device/latest/${flashed.id}`,
      `/v1/ota/device/latest/${flashed.id}?x=1`,
      `/v1/ota/device/latest/${empty.id}`,
      `/v1/ota/device/latest/0123456789abcdef01234567`,
      `/v1/ota/device/latest/${flashed.id.toUpperCase()}`,
      `/v1/ota/device/latest/%E0%A4%A`,
      `/v1/ota/device/latest/`,
      `/v1/ota/group/latest/${groupId}`,
      `/v1/ota/group/latest/${flashed.id}`,
    );
    koaOnly = http.createServer(createApp(registry.context).callback());
    await new Promise<void>((resolve) => koaOnly.listen(0, '127.0.0.1', resolve));
    koaUrl = `http://127.0.0.1:${(koaOnly.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => koaOnly.close(resolve));
    await registry.close();
  });

  const answer = async (base: string, path: string, method: string) => {
    const res = await fetch(base + path, { method, headers: { 'x-ESP32-version': '1.0.0' } });
    return {
      status: res.status,
      type: res.headers.get('content-type'),
      length: res.headers.get('content-length'),
      cache: res.headers.get('cache-control'),
      body: await res.text(),
    };
  };

  test.each(['GET', 'HEAD'])('%s', async (method) => {
    for (const path of paths) {
      expect({ path, ...(await answer(registry.url, path, method)) }).toEqual({
        path,
        ...(await answer(koaUrl, path, method)),
      });
    }
    expect((await answer(registry.url, paths[0], 'GET')).body).toBe('{"ver":"2.0.0-rc.1"}');
  });
});
