/**
 * What the dashboard needs from the API, at the HTTP level: the session cookie and the
 * cross-site rule, the owner's upload by URL, the fleet summary, devices by group, and GET /.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { chipLabel } from '../../contract/chips.js';
import { ConfigError, loadConfig } from '../../server/config.js';
import { Messages } from '../../server/errors.js';
import { generateEspImage } from '../support/esp-image-generator.js';
import {
  addGroup,
  deployTo,
  downloadPath,
  esp32UpdaterHeaders,
  setGroup,
} from '../support/fleet.js';
import { md5 } from '../support/hashes.js';
import {
  download,
  request,
  startRegistry,
  upload,
  type TestRegistry,
} from '../support/registry.js';

const EMAIL = 'dash@example.com';
const PASSWORD = 'a long enough password';

let registry: TestRegistry;
let apiKey: string;
let otherKey: string;

beforeAll(async () => {
  registry = await startRegistry({ 'trust-proxy': true });
  apiKey = await registry.addUser(EMAIL, PASSWORD);
  otherKey = await registry.addUser();
});
afterAll(() => registry.close());

async function login(headers: Record<string, string> = {}, extra: Record<string, unknown> = {}) {
  return request(`${registry.url}/v1/auth/login`, {
    method: 'POST',
    headers: { Origin: registry.url, 'Sec-Fetch-Site': 'same-origin', ...headers },
    json: { email: EMAIL, password: PASSWORD, cookie: true, ...extra },
  });
}

function cookieOf(setCookie: string | null): string {
  return /^(ota_session=[^;]*)/.exec(setCookie ?? '')![1];
}

describe('the session cookie', () => {
  test('login with "cookie": true sets an HttpOnly SameSite=Strict cookie and answers no token', async () => {
    const reply = await login();
    expect(reply.status).toBe(200);
    expect(reply.body).toEqual({ user: { id: expect.any(String), role: 'user' } });
    const setCookie = reply.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/^ota_session=ota_ses_[\w-]+; Path=\/; HttpOnly; SameSite=Strict$/);
    expect(reply.headers.get('cache-control')).toBe('no-store');
    const account = await request(`${registry.url}/v1/account`, {
      headers: { Cookie: cookieOf(setCookie) },
    });
    expect(account.status).toBe(200);
    expect(account.body).toMatchObject({ email: EMAIL });
  });

  test('Secure when the proxy says the browser came over HTTPS (--trust-proxy)', async () => {
    const reply = await login({ 'X-Forwarded-Proto': 'https', Origin: '' });
    expect(reply.status).toBe(200);
    expect(reply.headers.get('set-cookie')).toMatch(/; Secure$/);
  });

  test('without "cookie" a login answers the token as before, and sets no cookie', async () => {
    const reply = await request(`${registry.url}/v1/auth/login`, {
      method: 'POST',
      json: { email: EMAIL, password: PASSWORD },
    });
    expect(reply.status).toBe(200);
    expect((reply.body as { token: string }).token).toMatch(/^ota_ses_/);
    expect(reply.headers.get('set-cookie')).toBeNull();
    const bad = await request(`${registry.url}/v1/auth/login`, {
      method: 'POST',
      json: { email: EMAIL, password: PASSWORD, cookie: 'yes' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body).toEqual({ message: Messages.cookieInvalid });
  });

  test('cookie-authenticated changes from another site are refused with 403; reads and bearer calls are not', async () => {
    const cookie = cookieOf((await login()).headers.get('set-cookie'));
    const create = (headers: Record<string, string>) =>
      request(`${registry.url}/v1/devices`, {
        method: 'POST',
        headers: { Cookie: cookie, ...headers },
        json: { name: 'csrf' },
      });
    for (const headers of <Array<Record<string, string>>>[
      { Origin: 'https://evil.example', 'Sec-Fetch-Site': 'cross-site' },
      { Origin: 'https://evil.example' },
      { 'Sec-Fetch-Site': 'same-site' },
      {},
    ]) {
      const reply = await create(headers);
      expect([reply.status, reply.body]).toEqual([403, { message: Messages.crossSiteRefused }]);
    }
    expect((await create({ Origin: registry.url, 'Sec-Fetch-Site': 'same-origin' })).status).toBe(
      201,
    );
    expect((await create({ Origin: registry.url })).status).toBe(201);
    // A read is not a change; a bearer token is no ambient credential.
    const read = await request(`${registry.url}/v1/devices`, {
      headers: { Cookie: cookie, Origin: 'https://evil.example', 'Sec-Fetch-Site': 'cross-site' },
    });
    expect(read.status).toBe(200);
    const bearer = await request(`${registry.url}/v1/devices`, {
      method: 'POST',
      apiKey,
      headers: { Origin: 'https://evil.example' },
      json: {},
    });
    expect(bearer.status).toBe(201);
    // Nor may another site log a browser in.
    const forced = await login({ Origin: 'https://evil.example', 'Sec-Fetch-Site': 'cross-site' });
    expect(forced.status).toBe(403);
  });

  test('logout by cookie ends the session and clears the cookie', async () => {
    const cookie = cookieOf((await login()).headers.get('set-cookie'));
    const headers = { Cookie: cookie, Origin: registry.url };
    const out = await request(`${registry.url}/v1/auth/logout`, { method: 'POST', headers });
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toMatch(/^ota_session=; Max-Age=0; Path=\/; HttpOnly/);
    const after = await request(`${registry.url}/v1/account`, { headers });
    expect(after.status).toBe(401);
    const again = await request(`${registry.url}/v1/auth/logout`, { method: 'POST', headers });
    expect(again.status).toBe(401);
    expect(again.headers.get('set-cookie')).toMatch(/Max-Age=0/);
  });
});

describe('the owner upload by URL: POST /v1/ota/{device|group}/{id}/firmware', () => {
  const image = (seed: number, chip: 'esp32' | 'esp32s3' = 'esp32') =>
    generateEspImage({ seed, chip, size: 32 * 1024 });

  test('deploys without the device token, with the same checks and guards as the token upload', async () => {
    const device = await registry.addDevice(apiKey, 'by-url');
    const url = `${registry.url}/v1/ota/device/${device.id}/firmware`;
    const first = await upload(url, apiKey, { version: '1.0.0' }, [{ bytes: image(1) }]);
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({
      message: Messages.firmwareDeployed,
      ota: { version: '1.0.0' },
    });
    const latest = await request(`${registry.url}/v1/ota/device/latest/${device.id}`);
    expect(latest.body).toEqual({ ver: '1.0.0' });
    const again = await upload(url, apiKey, { version: '1.0.0' }, [{ bytes: image(1) }]);
    expect([again.status, again.body]).toMatchObject([
      200,
      { message: Messages.firmwareAlreadyDeployed },
    ]);

    const refusals: Array<[Record<string, string>, Buffer | null, number, string]> = [
      [{}, image(2), 400, Messages.mandatoryField('version')],
      [{ version: '1.1.0' }, null, 400, Messages.noFileUploaded],
      [{ version: 'v1.1.0' }, image(2), 400, Messages.versionInvalid('v1.1.0')],
      [{ version: '1.0.0' }, image(2), 409, Messages.versionConflict('1.0.0')],
      [
        { version: '1.1.0' },
        image(3, 'esp32s3'),
        409,
        Messages.chipMismatch('device', chipLabel('esp32'), chipLabel('esp32s3')),
      ],
    ];
    for (const [fields, bytes, status, message] of refusals) {
      const reply = await upload(url, apiKey, fields, bytes ? [{ bytes }] : []);
      expect([reply.status, reply.body]).toEqual([status, { message }]);
    }
    const forced = await upload(url, apiKey, { version: '1.1.0', force: 'true' }, [
      { bytes: image(3, 'esp32s3') },
    ]);
    expect(forced.status).toBe(201);
  });

  test("another owner's device answers as a missing one; a malformed id is a 400; no auth is a 401", async () => {
    const device = await registry.addDevice(apiKey);
    const url = `${registry.url}/v1/ota/device/${device.id}/firmware`;
    const other = await upload(url, otherKey, { version: '1.0.0' }, [{ bytes: image(4) }]);
    expect([other.status, other.body]).toEqual([404, { message: Messages.noSuchDevice }]);
    const bad = await upload(
      `${registry.url}/v1/ota/device/nope/firmware`,
      apiKey,
      { version: '1.0.0' },
      [{ bytes: image(4) }],
    );
    expect([bad.status, bad.body]).toEqual([400, { message: Messages.deviceIdInvalid }]);
    const anonymous = await upload(url, undefined, { version: '1.0.0' }, [{ bytes: image(4) }]);
    expect(anonymous.status).toBe(401);
  });

  test('a group too', async () => {
    const group = await addGroup(registry, apiKey, { name: 'by-url' });
    const reply = await upload(
      `${registry.url}/v1/ota/group/${group.id}/firmware`,
      apiKey,
      { version: '2.0.0' },
      [{ bytes: image(5) }],
    );
    expect(reply.status).toBe(201);
    expect((await request(`${registry.url}/v1/ota/group/latest/${group.id}`)).body).toEqual({
      ver: '2.0.0',
    });
  });
});

describe('GET /v1/devices?group= and GET /v1/fleet/summary', () => {
  test('devices of one group, searched and paged; the summary counts states and versions', async () => {
    const key = await registry.addUser();
    const group = await addGroup(registry, key, { name: 'summary' });
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push((await registry.addDevice(key, `member-${i}`)).id);
    const outsider = await registry.addDevice(key, 'outsider');
    for (const id of ids) expect((await setGroup(registry, key, id, group.id)).status).toBe(200);
    const served = await upload(
      `${registry.url}/v1/ota/group/${group.id}/firmware`,
      key,
      { version: '2.0.0' },
      [{ bytes: generateEspImage({ seed: 9, size: 32 * 1024 }) }],
    );
    expect(served.status).toBe(201);

    const page = await request(
      `${registry.url}/v1/devices?group=${group.id}&limit=4&search_value=member`,
      {
        apiKey: key,
      },
    );
    expect(page.body).toMatchObject({ recordsTotal: 6, recordsFiltered: 6 });
    expect((page.body as { devices: unknown[] }).devices).toHaveLength(4);
    const none = await request(
      `${registry.url}/v1/devices?group=${group.id}&search_value=outsider`,
      {
        apiKey: key,
      },
    );
    expect(none.body).toMatchObject({ devices: [], recordsTotal: 6, recordsFiltered: 0 });

    // What devices said, as check-ins and MQTT reports leave it on their rows.
    const now = new Date().toISOString();
    const old = new Date(Date.now() - 3 * 86_400_000).toISOString();
    const set = registry.context.db.prepare(
      'UPDATE devices SET running_version = ?, last_contact = ?, update_response_code = ? WHERE id = ?',
    );
    set.run('2.0.0', now, null, ids[0]); // up to date
    set.run('2.0.0', now, 202, ids[1]); // up to date
    set.run('1.0.0', now, null, ids[2]); // pending
    set.run('1.0.0', now, 203, ids[3]); // failed
    set.run('1.0.0', old, null, ids[4]); // silent
    set.run(null, now, null, ids[5]); // unknown
    set.run('0.1.0', now, null, outsider.id); // no firmware: unknown

    const ofGroup = await request(`${registry.url}/v1/fleet/summary?group=${group.id}`, {
      apiKey: key,
    });
    expect(ofGroup.status).toBe(200);
    expect(ofGroup.body).toEqual({
      group: group.id,
      silent_after: 86400,
      devices: 6,
      states: { 'up-to-date': 2, pending: 1, failed: 1, silent: 1, unknown: 1 },
      versions: [
        { version: '1.0.0', devices: 3 },
        { version: '2.0.0', devices: 2 },
        { version: null, devices: 1 },
      ],
    });
    const all = await request(`${registry.url}/v1/fleet/summary`, { apiKey: key });
    expect(all.body).toMatchObject({ group: null, devices: 7, states: { unknown: 2 } });

    const foreign = await request(`${registry.url}/v1/fleet/summary?group=${group.id}`, { apiKey });
    expect([foreign.status, foreign.body]).toEqual([404, { message: Messages.noSuchGroup }]);
    const foreignList = await request(`${registry.url}/v1/devices?group=${group.id}`, { apiKey });
    expect(foreignList.status).toBe(404);
    const bad = await request(`${registry.url}/v1/fleet/summary?group=x`, { apiKey });
    expect(bad.status).toBe(400);
    expect((bad.body as { message: string }).message).toContain('group');
  });
  test('the summary, counted in another thread, reflects an upload and a check-in made just before', async () => {
    const key = await registry.addUser();
    const device = await registry.addDevice(key, 'fresh');
    const summary = async () =>
      ((await request(`${registry.url}/v1/fleet/summary`, { apiKey: key })).body as {
        states: Record<string, number>;
        versions: unknown[];
      }) ?? {};
    expect((await summary()).states).toMatchObject({ unknown: 1 });

    const v1 = generateEspImage({ seed: 41, size: 32 * 1024 });
    const v2 = generateEspImage({ seed: 42, size: 32 * 1024 });
    expect((await deployTo(registry, key, 'device', device, '1.0.0', v1)).status).toBe(201);
    // The check-in waits in memory for its batch write; the summary writes it first.
    const url = `${registry.url}${downloadPath('device', device)}`;
    expect((await download(url, esp32UpdaterHeaders({ md5: md5(v1) }))).status).toBe(304);
    // Asked together with /metrics (the same thread counts ota_devices): each gets its answer.
    const [afterCheckin, metrics] = await Promise.all([
      summary(),
      request(`${registry.url}/metrics`),
    ]);
    expect(afterCheckin).toMatchObject({
      states: { 'up-to-date': 1, unknown: 0 },
      versions: [{ version: '1.0.0', devices: 1 }],
    });
    expect(metrics.status).toBe(200);

    expect((await deployTo(registry, key, 'device', device, '1.1.0', v2)).status).toBe(201);
    expect((await summary()).states).toMatchObject({ 'up-to-date': 0, pending: 1 });
  });
});

describe('device search through the trigram index', () => {
  test('matches names and ids literally and case-insensitively, as the walk does', async () => {
    const key = await registry.addUser();
    const names = ['Alpha"Quote', '100%_done', 'KITCHEN-one', 'kitchen-two', 'garage'];
    const ids: Record<string, string> = {};
    for (const name of names) ids[name] = (await registry.addDevice(key, name)).id;
    const search = async (value: string) => {
      const reply = await request(
        `${registry.url}/v1/devices?limit=10&search_value=${encodeURIComponent(value)}`,
        { apiKey: key },
      );
      const body = reply.body as { devices: Array<{ name: string }>; recordsFiltered: number };
      expect(body.recordsFiltered).toBe(body.devices.length);
      return body.devices.map((d) => d.name).sort();
    };
    await expect(search('"quo')).resolves.toEqual(['Alpha"Quote']);
    await expect(search('%_d')).resolves.toEqual(['100%_done']);
    await expect(search('kitchen')).resolves.toEqual(['KITCHEN-one', 'kitchen-two']);
    await expect(search('TCH')).resolves.toEqual(['KITCHEN-one', 'kitchen-two']);
    await expect(search(ids.garage.slice(5, 17))).resolves.toEqual(['garage']);
    await expect(search('ga')).resolves.toEqual(['garage']); // two characters: the walk
    await expect(search('nothing-like-it')).resolves.toEqual([]);
  });
});

describe('GET / and its assets', () => {
  test('the page, a strict CSP, and nothing outside dist/web/assets', async () => {
    const page = await request(`${registry.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    for (const path of [
      '/assets/..%2Fpackage.json',
      '/assets/index.html',
      '/assets/missing-X.js',
    ]) {
      expect((await request(`${registry.url}${path}`)).status).toBe(404);
    }
  });
});

describe('--silent-after / OTA_SILENT_AFTER', () => {
  test('durations with units; out of range names the setting', () => {
    expect(loadConfig({}, {}).silentAfterSeconds).toBe(86400);
    expect(loadConfig({ 'silent-after': '90m' }, {}).silentAfterSeconds).toBe(5400);
    expect(loadConfig({}, { OTA_SILENT_AFTER: '7d' }).silentAfterSeconds).toBe(7 * 86400);
    expect(
      loadConfig({ 'silent-after': '3600' }, { OTA_SILENT_AFTER: '7d' }).silentAfterSeconds,
    ).toBe(3600);
    expect(() => loadConfig({ 'silent-after': '10s' }, {})).toThrow(ConfigError);
    expect(() => loadConfig({}, { OTA_SILENT_AFTER: 'soon' })).toThrow(
      /OTA_SILENT_AFTER is "soon"/,
    );
  });
});
