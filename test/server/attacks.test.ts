import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { Messages } from '../../server/errors.js';
import { generateEspImage } from '../support/esp-image-generator.js';
import { deployTo } from '../support/fleet.js';
import { rawHttp10 } from '../support/http10.js';
import { request, startRegistry, waitFor, type TestRegistry } from '../support/registry.js';
import { captureStdout } from '../support/stdout.js';

/**
 * Requests as a stranger on the internet sends them, against the fully wired registry with its
 * request log on: each gets an exact answer, and no secret reaches the log or the answer.
 */
describe('attack requests', () => {
  let registry: TestRegistry;
  let apiKey: string;
  let device: { id: string; token: string };
  let logged: string[] = [];
  const secrets = (): string[] => [apiKey, device.token];

  beforeAll(async () => {
    // The request log goes to stdout; keep what it writes.
    logged = captureStdout();
    registry = await startRegistry({ 'no-request-log': false });
    apiKey = await registry.addUser();
    device = await registry.addDevice(apiKey, 'target');
    await deployTo(registry, apiKey, 'device', device, '1.0.0', generateEspImage({ seed: 71 }));
  });
  afterAll(async () => {
    await registry.close();
    jest.restoreAllMocks();
  });

  /** Waits for the log line that names `text`. */
  async function logLineFor(text: string): Promise<string> {
    const find = () =>
      logged
        .join('')
        .split('\n')
        .find((line) => line.includes(text));
    await waitFor(() => find() !== undefined, `the log line of ${text}`);
    return find()!;
  }

  const downloadPaths: Array<[string, (id: string, token: string) => string, number]> = [
    ['lower case', (id, token) => `/v1/ota/device/download/${id}${token}`, 200],
    ['upper case', (id, token) => `/V1/OTA/DEVICE/DOWNLOAD/${id}${token}`, 200],
    ['mixed case', (id, token) => `/v1/Ota/Device/Download/${id}${token}`, 200],
    ['a trailing slash', (id, token) => `/v1/ota/device/download/${id}${token}/`, 200],
    [
      'absolute form',
      (id, token) => `http://ota.example.com/v1/OTA/device/download/${id}${token}`,
      200,
    ],
    // Not routed, but a device (or a proxy) that sends them must not leave its token in the log.
    ['percent-encoded letters', (id, token) => `/v1/ota/device/downl%6Fad/${id}${token}`, 404],
    ['double slashes', (id, token) => `/v1/ota/device//download/${id}${token}`, 404],
    ['a query', (id, token) => `/v1/ota/device/download/${id}${token}?x=1`, 200],
  ];

  test.each(downloadPaths)(
    'a download path in %s: answered, and logged without its token',
    async (_case, path, status) => {
      logged.length = 0;
      const res = await rawHttp10(registry.url, path(device.id, device.token));
      expect(res.status).toBe(status);
      const line = await logLineFor(device.id);
      expect(line).toContain('[redacted]');
      expect(line).toMatch(new RegExp(` GET \\S+ ${status} \\d+\\.\\dms$`));
      for (const secret of secrets()) expect(logged.join('')).not.toContain(secret);
    },
  );

  const controlSearch = Messages.queryInvalid('search_value', 'text without control characters');
  test.each([
    ['/v1/devices', 'ab%00', 400, { message: controlSearch }],
    ['/v1/ota/device', 'ab%00', 400, { message: controlSearch }],
    ['/v1/ota/device', 'abc%00def', 400, { message: controlSearch }],
    ['/v1/ota/group', 'abc%00', 400, { message: controlSearch }],
    ['/v1/groups', '%00', 400, { message: controlSearch }],
    ['/v1/ota/device', 'tar%01get', 400, { message: controlSearch }],
    ['/v1/ota/device', 'tar%7Fget', 400, { message: controlSearch }],
    ['/v1/ota/device', 'tar%0Aget', 400, { message: controlSearch }],
    ['/v1/ota/device', '%22%27%25_%5C*', 200, { recordsFiltered: 0 }],
    ['/v1/ota/device', 'TARG', 200, { recordsFiltered: 1 }],
    ['/v1/ota/device', '%F0%9F%92%A5', 200, { recordsFiltered: 0 }],
    ['/v1/ota/device', '%ZZ', 200, { recordsFiltered: 0 }],
  ])('%s?search_value=%s: %i', async (path, search, status, body) => {
    const res = await request(`${registry.url}${path}?search_value=${search}`, { apiKey });
    expect(res.status).toBe(status);
    expect(res.body).toMatchObject(body);
  });

  const id = () => device.id;
  const attackTable: Array<[string, () => string, number, string]> = [
    ['NUL escaped in an id', () => `/v1/ota/device/latest/${id()}%00`, 404, Messages.noSuchDevice],
    [
      'a raw control character',
      () => `/v1/ota/device/latest/${id()}\x01`,
      400,
      Messages.badRequest,
    ],
    ['a raw NUL', () => `/v1/ota/device/download/${id()}\x00abc`, 400, Messages.badRequest],
    [
      'a 10 KiB token',
      () => `/v1/ota/device/download/${id()}${'A'.repeat(10240)}`,
      404,
      Messages.noSuchDevice,
    ],
    [
      'a 64 KiB path',
      () => `/v1/ota/device/latest/${'f'.repeat(65536)}`,
      431,
      Messages.headersTooLarge,
    ],
    [
      'a negative limit',
      () => '/v1/devices?limit=-1',
      400,
      Messages.queryInvalid('limit', 'an integer from 1 to 1000'),
    ],
    [
      'a huge limit',
      () => `/v1/devices?limit=${'9'.repeat(40)}`,
      400,
      Messages.queryInvalid('limit', 'an integer from 1 to 1000'),
    ],
    [
      'a negative offset',
      () => '/v1/ota/device?offset=-5',
      400,
      Messages.queryInvalid('offset', 'an integer from 0 to 1000000000'),
    ],
    [
      'a duplicate parameter',
      () => '/v1/devices?limit=5&limit=6',
      400,
      Messages.queryInvalid('limit', 'a single value'),
    ],
    [
      'a duplicate search',
      () => '/v1/ota/device?search_value=a&search_value=b',
      400,
      Messages.queryInvalid('search_value', 'a single value'),
    ],
    [
      'an unknown order',
      () => '/v1/groups?order_dir=sideways',
      400,
      Messages.queryInvalid('order_dir', 'asc or desc'),
    ],
    ['another case of a management path, no key', () => '/V1/DEVICES', 401, Messages.unauthorized],
    ['a path that is no route', () => '/v1/../../etc/passwd', 404, Messages.notFound],
  ];

  test.each(attackTable)(
    '%s: exact answer, JSON, nosniff, nothing leaked',
    async (_case, path, status, message) => {
      logged.length = 0;
      const res = await rawHttp10(registry.url, path(), {
        Authorization: `Bearer ${path().startsWith('/V1') ? 'x' : apiKey}`,
      });
      expect(res.status).toBe(status);
      expect(JSON.parse(res.body.toString())).toEqual({ message });
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      const everything = res.body.toString() + JSON.stringify(res.headers) + logged.join('');
      for (const secret of secrets()) expect(everything).not.toContain(secret);
      expect(everything).not.toMatch(/ at \S+ \(|node_modules|\/work\/|sqlite/i);
    },
  );
});
