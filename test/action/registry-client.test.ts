import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import nock from 'nock';
import * as path from 'node:path';
import { DeployError, RegistryError } from '../../action/errors.js';
import * as messages from '../../action/messages.js';
import { RegistryClient } from '../../action/registry-client.js';
import type { DeployTarget } from '../../action/settings.js';
import { fakeImage, recordingSleep, RecordingLogger, tempDir, writeImage } from './fakes.js';

const REGISTRY = 'https://registry.test';
const TARGET: DeployTarget = { kind: 'device', id: '5e1b57808711f904f5df4bad', token: 'DevT0ken' };
const IMAGE = fakeImage(70_000);

let firmware: { path: string; size: number };

beforeAll(async () => {
  nock.disableNetConnect();
  firmware = { path: await writeImage(await tempDir(), 'firmware.bin', IMAGE), size: IMAGE.length };
});

afterEach(() => {
  nock.cleanAll();
});

afterAll(() => {
  nock.enableNetConnect();
  // nock patches node:http for the whole Jest worker: later test files must get it back.
  nock.restore();
});

function client(retries = 3) {
  const logger = new RecordingLogger();
  const { sleep, delays } = recordingSleep();
  return {
    client: new RegistryClient({ registryUrl: REGISTRY, retries, logger, sleep }),
    logger,
    delays,
  };
}

/** nock hands a binary body over as hex. */
function bodyBytes(body: unknown, length: number): Buffer {
  const text = String(body);
  return text.length === 2 * length && /^[0-9a-f]*$/.test(text)
    ? Buffer.from(text, 'hex')
    : Buffer.from(text, 'latin1');
}

/** The fields and files of a multipart body, parsed by hand (the test's own small parser). */
function parseMultipart(body: Buffer, contentType: string) {
  const boundary = /boundary=(.+)$/.exec(contentType)?.[1] ?? '';
  const parts = new Map<string, { filename?: string; data: Buffer; type?: string }>();
  const delimiter = Buffer.from(`--${boundary}`);
  let start = body.indexOf(delimiter);
  for (;;) {
    const next = body.indexOf(delimiter, start + delimiter.length);
    if (next === -1) break;
    const part = body.subarray(start + delimiter.length + 2, next - 2);
    const headerEnd = part.indexOf('\r\n\r\n');
    const headers = part.subarray(0, headerEnd).toString('latin1');
    const name = /name="([^"]+)"/.exec(headers)?.[1] ?? '';
    const filename = /filename="([^"]+)"/.exec(headers)?.[1];
    const type = /Content-Type: (.+)/i.exec(headers)?.[1];
    parts.set(name, {
      data: part.subarray(headerEnd + 4),
      ...(filename ? { filename } : {}),
      ...(type ? { type } : {}),
    });
    start = next;
  }
  return { parts, closed: body.subarray(start).toString('latin1') === `--${boundary}--\r\n` };
}

describe('upload', () => {
  test('sends the multipart form the registry expects, with an exact length', async () => {
    let seen: { headers: Record<string, string | string[] | undefined>; body: Buffer } | undefined;
    nock(REGISTRY)
      .post('/v1/ota/device')
      .reply(function (_uri, body) {
        const length = Number(this.req.headers['content-length']);
        seen = { headers: this.req.headers, body: bodyBytes(body, length) };
        return [201, { message: 'Firmware successfully deployed' }];
      });

    const { client: c } = client();
    const outcome = await c.upload('api-key-1', TARGET, '1.2.7', firmware);

    expect(outcome).toEqual({ status: 'deployed', message: 'Firmware successfully deployed' });
    expect(seen).toBeDefined();
    const { headers, body } = seen as NonNullable<typeof seen>;
    expect(headers['authorization']).toBe('Bearer api-key-1');
    expect(Number(headers['content-length'])).toBe(body.length);
    expect(headers['transfer-encoding']).toBeUndefined();
    const form = parseMultipart(body, String(headers['content-type']));
    expect(form.closed).toBe(true);
    expect([...form.parts.keys()]).toEqual(['device', 'token', 'version', 'firmware']);
    expect(form.parts.get('device')?.data.toString()).toBe(TARGET.id);
    expect(form.parts.get('token')?.data.toString()).toBe(TARGET.token);
    expect(form.parts.get('version')?.data.toString()).toBe('1.2.7');
    expect(form.parts.get('firmware')?.filename).toBe('firmware.bin');
    expect(form.parts.get('firmware')?.type).toBe('application/octet-stream');
    expect(form.parts.get('firmware')?.data.equals(IMAGE)).toBe(true);
  });

  test('sends trigger only when set, and reads what the registry says about it', async () => {
    const forms: string[][] = [];
    nock(REGISTRY)
      .post('/v1/ota/device')
      .times(3)
      .reply(function (_uri, body) {
        const length = Number(this.req.headers['content-length']);
        const form = parseMultipart(
          bodyBytes(body, length),
          String(this.req.headers['content-type']),
        );
        forms.push([...form.parts.keys()].concat(form.parts.get('trigger')?.data.toString() ?? []));
        return form.parts.get('trigger')?.data.toString() === 'false'
          ? [201, { message: 'Firmware successfully deployed', triggered: false }]
          : [
              201,
              {
                message: 'Firmware successfully deployed',
                triggered: false,
                trigger_error: 'MQTT broker unavailable',
              },
            ];
      });
    const { client: c } = client();
    await expect(c.upload('k', TARGET, '1.2.7', firmware)).resolves.toEqual({
      status: 'deployed',
      message: 'Firmware successfully deployed',
      triggered: false,
      triggerError: 'MQTT broker unavailable',
    });
    await expect(c.upload('k', TARGET, '1.2.8', firmware, { trigger: false })).resolves.toEqual({
      status: 'deployed',
      message: 'Firmware successfully deployed',
      triggered: false,
    });
    await c.upload('k', TARGET, '1.2.9', firmware, { trigger: true });
    expect(forms).toEqual([
      ['device', 'token', 'version', 'firmware'],
      ['device', 'token', 'version', 'trigger', 'firmware', 'false'],
      ['device', 'token', 'version', 'trigger', 'firmware', 'true'],
    ]);
  });

  test('reports an identical re-upload as already deployed', async () => {
    nock(REGISTRY).post('/v1/ota/device').reply(200, { message: 'Firmware already deployed' });
    const { client: c } = client();
    await expect(c.upload('k', TARGET, '1.2.7', firmware)).resolves.toEqual({
      status: 'already-deployed',
      message: 'Firmware already deployed',
    });
  });

  test('fails when the file changes size while it is sent', async () => {
    nock(REGISTRY)
      .post('/v1/ota/device')
      .reply(function (_uri, body) {
        return [201, { length: String(body).length }];
      });
    const { client: c } = client(0);
    await expect(
      c.upload('k', TARGET, '1.2.7', { path: firmware.path, size: firmware.size + 10 }),
    ).rejects.toThrow(DeployError);
  });
});

describe('error messages', () => {
  const context = {
    registryUrl: REGISTRY,
    target: 'device' as const,
    version: '1.2.7',
    size: IMAGE.length,
  };

  test.each<[number, string, RegExp]>([
    [
      400,
      'Device ID is not valid',
      /refused the upload \(400: "Device ID is not valid"\)\. Check device-id/,
    ],
    [
      401,
      'Unauthorized',
      /rejected the API token \(401: "Unauthorized"\): it is wrong, revoked or expired/,
    ],
    [
      403,
      'Device token is not valid',
      /device token was rejected \(403: "Device token is not valid"\)\. Check the secret used for device-token/,
    ],
    [
      404,
      'No such device',
      /does not know this device \(404: "No such device"\)\. Check the secret used for device-id.*registry-url \(https:\/\/registry\.test\)/,
    ],
    [
      409,
      'Version 1.2.7 already exists with other bytes',
      /Version 1\.2\.7 is already deployed to this device with different bytes \(409: .*\)\..*bump the version/,
    ],
    [
      413,
      'File too large',
      /The firmware \(70000 bytes\) is larger than the registry accepts \(413: "File too large"\)/,
    ],
  ])('%i says what to do and quotes the registry', async (status, registryMessage, expected) => {
    nock(REGISTRY).post('/v1/ota/device').reply(status, { message: registryMessage });
    const { client: c, delays } = client();
    const error = await c.upload('k', TARGET, '1.2.7', firmware).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryError);
    expect(error).toMatchObject({
      status,
      registryMessage,
      message: messages.uploadFailed(status, registryMessage, context),
    });
    expect((error as Error).message).toMatch(expected);
    expect(delays).toEqual([]);
  });

  test('copes with an answer that is not JSON', async () => {
    nock(REGISTRY).post('/v1/ota/device').reply(404, '<html>Not Found</html>');
    const { client: c } = client();
    await expect(c.upload('k', TARGET, '1.2.7', firmware)).rejects.toThrow(
      /does not know this device \(404\)\. Check/,
    );
  });

  test('never puts the tokens in a message', async () => {
    nock(REGISTRY).post('/v1/ota/device').reply(403, { message: 'Device token is not valid' });
    const { client: c, logger } = client();
    const error = (await c
      .upload('api-key-secret', TARGET, '1.2.7', firmware)
      .catch((e: unknown) => e)) as Error;
    for (const text of [error.message, ...logger.lines]) {
      expect(text).not.toContain('api-key-secret');
      expect(text).not.toContain(TARGET.token);
    }
  });
});

describe('a group', () => {
  const GROUP: DeployTarget = {
    kind: 'group',
    id: '5e1b57808711f904f5df4bae',
    token: 'GroupT0ken',
  };

  test('is uploaded to /v1/ota/group with the field group', async () => {
    let fields: string[] = [];
    nock(REGISTRY)
      .post('/v1/ota/group')
      .reply(function (_uri, body) {
        const bytes = bodyBytes(body, Number(this.req.headers['content-length']));
        const form = parseMultipart(bytes, String(this.req.headers['content-type']));
        fields = [...form.parts.entries()].map(([name, part]) =>
          name === 'firmware' ? name : `${name}=${part.data.toString()}`,
        );
        return [201, { message: 'Firmware successfully deployed' }];
      });
    const { client: c } = client();
    await expect(c.upload('k', GROUP, '1.2.7', firmware)).resolves.toMatchObject({
      status: 'deployed',
    });
    expect(fields).toEqual([
      `group=${GROUP.id}`,
      `token=${GROUP.token}`,
      'version=1.2.7',
      'firmware',
    ]);
  });

  test.each<[number, RegExp]>([
    [
      403,
      /The group token was rejected \(403: "Group token is not valid"\)\. Check the secret used for group-token/,
    ],
    [404, /does not know this group \(404: "No such group"\)\. Check the secret used for group-id/],
  ])('%i names the group settings', async (status, expected) => {
    const registryMessage = status === 403 ? 'Group token is not valid' : 'No such group';
    nock(REGISTRY).post('/v1/ota/group').reply(status, { message: registryMessage });
    const { client: c } = client();
    await expect(c.upload('k', GROUP, '1.2.7', firmware)).rejects.toThrow(expected);
  });
});

describe('retry policy', () => {
  test.each([500, 502, 503, 504, 429])(
    'retries %i with exponential backoff, then gives up',
    async (status) => {
      const scope = nock(REGISTRY)
        .post('/v1/ota/device')
        .times(4)
        .reply(status, { message: 'Busy' });
      const { client: c, delays, logger } = client(3);
      const error = await c.upload('k', TARGET, '1.2.7', firmware).catch((e: unknown) => e);
      expect(scope.isDone()).toBe(true);
      expect(delays).toEqual([1000, 2000, 4000]);
      expect(error).toBeInstanceOf(RegistryError);
      expect((error as Error).message).toMatch(/retries are used up/);
      expect(logger.warnings).toHaveLength(3);
      expect(logger.warnings[0]).toMatch(
        /the registry answered \d+: "Busy"; retrying in 1 s \(attempt 2 of 4\)/,
      );
    },
  );

  test.each([400, 401, 403, 404, 409, 413, 422])('never retries %i', async (status) => {
    const scope = nock(REGISTRY).post('/v1/ota/device').once().reply(status, { message: 'No' });
    const { client: c, delays } = client(3);
    await expect(c.upload('k', TARGET, '1.2.7', firmware)).rejects.toThrow(RegistryError);
    expect(scope.isDone()).toBe(true);
    expect(delays).toEqual([]);
  });

  test('succeeds when a retry does, resending the whole body', async () => {
    const lengths: number[] = [];
    nock(REGISTRY)
      .post('/v1/ota/device')
      .reply(503, { message: 'Service Unavailable' })
      .post('/v1/ota/device')
      .replyWithError({ code: 'ECONNRESET', message: 'socket hang up' })
      .post('/v1/ota/device')
      .reply(function (_uri, body) {
        lengths.push(bodyBytes(body, Number(this.req.headers['content-length'])).length);
        return [201, { message: 'Firmware successfully deployed' }];
      });
    const { client: c, delays } = client(3);
    await expect(c.upload('k', TARGET, '1.2.7', firmware)).resolves.toMatchObject({
      status: 'deployed',
    });
    expect(delays).toEqual([1000, 2000]);
    expect(lengths[0]).toBeGreaterThan(IMAGE.length);
  });

  test('retries network errors and then says the registry cannot be reached', async () => {
    nock(REGISTRY)
      .post('/v1/ota/device')
      .times(3)
      .replyWithError({ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' });
    const { client: c, delays } = client(2);
    const error = await c.upload('k', TARGET, '1.2.7', firmware).catch((e: unknown) => e);
    expect(delays).toEqual([1000, 2000]);
    expect(error).toBeInstanceOf(DeployError);
    expect((error as Error).message).toMatch(
      /^Could not reach the registry at https:\/\/registry\.test after 3 attempts: .*ECONNREFUSED.*Check registry-url/,
    );
  });

  test('honours Retry-After in seconds', async () => {
    nock(REGISTRY)
      .post('/v1/ota/device')
      .reply(429, { message: 'Too Many Requests' }, { 'Retry-After': '7' })
      .post('/v1/ota/device')
      .reply(201, { message: 'Firmware successfully deployed' });
    const { client: c, delays } = client();
    await c.upload('k', TARGET, '1.2.7', firmware);
    expect(delays).toEqual([7000]);
  });

  test('honours Retry-After as a date, and caps a huge one', async () => {
    const soon = new Date(Date.now() + 60_000).toUTCString();
    nock(REGISTRY)
      .post('/v1/ota/device')
      .reply(503, {}, { 'Retry-After': soon })
      .post('/v1/ota/device')
      .reply(503, {}, { 'Retry-After': '86400' })
      .post('/v1/ota/device')
      .reply(201, {});
    const { client: c, delays } = client();
    await c.upload('k', TARGET, '1.2.7', firmware);
    expect(delays[0]).toBeGreaterThan(55_000);
    expect(delays[0]).toBeLessThanOrEqual(60_000);
    expect(delays[1]).toBe(120_000);
  });

  test('caps the doubled delay', async () => {
    nock(REGISTRY).post('/v1/ota/device').times(8).reply(500, {});
    const { client: c, delays } = client(7);
    await expect(c.upload('k', TARGET, '1.2.7', firmware)).rejects.toThrow(RegistryError);
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000]);
  });

  test('retries 0 means one attempt', async () => {
    const scope = nock(REGISTRY).post('/v1/ota/device').once().reply(502, {});
    const { client: c, delays } = client(0);
    await expect(c.upload('k', TARGET, '1.2.7', firmware)).rejects.toThrow(RegistryError);
    expect(scope.isDone()).toBe(true);
    expect(delays).toEqual([]);
  });
});

describe('login', () => {
  test('posts the credentials and returns the session token', async () => {
    nock(REGISTRY)
      .post('/v1/auth/login', { email: 'ci@example.com', password: 'pa$$"word' })
      .reply(200, { user: { id: 'u', role: 'user' }, token: 'session-token-1' });
    const { client: c } = client();
    await expect(c.login('ci@example.com', 'pa$$"word')).resolves.toBe('session-token-1');
  });

  test('says the email or password is wrong, in the registry words', async () => {
    nock(REGISTRY).post('/v1/auth/login').reply(401, { error: 'Login or password is wrong' });
    const { client: c, delays } = client();
    await expect(c.login('ci@example.com', 'nope')).rejects.toThrow(
      messages.loginFailed(401, 'Login or password is wrong'),
    );
    expect(delays).toEqual([]);
  });

  test('is retried like an upload', async () => {
    nock(REGISTRY)
      .post('/v1/auth/login')
      .reply(502, {})
      .post('/v1/auth/login')
      .reply(200, { token: 't' });
    const { client: c, delays } = client();
    await expect(c.login('a@b.c', 'p')).resolves.toBe('t');
    expect(delays).toEqual([1000]);
  });

  test('fails clearly without a token in the answer', async () => {
    nock(REGISTRY).post('/v1/auth/login').reply(200, { ok: true });
    const { client: c } = client();
    await expect(c.login('a@b.c', 'p')).rejects.toThrow(/answered without a token/);
  });
});

test('keeps a self-hosted path prefix in request URLs', async () => {
  const scope = nock(REGISTRY).post('/ota/v1/ota/device').reply(201, {});
  const logger = new RecordingLogger();
  const c = new RegistryClient({ registryUrl: `${REGISTRY}/ota`, retries: 0, logger });
  await c.upload('k', TARGET, '1.2.7', firmware);
  expect(scope.isDone()).toBe(true);
  expect(path.basename(firmware.path)).toBe('firmware.bin');
});
