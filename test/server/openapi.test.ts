import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import type Router from '@koa/router';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { createApp } from '../../server/app.js';
import { OPENAPI } from '../../server/openapi.js';
import { generateEspImage } from '../support/esp-image-generator.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';

/**
 * GET /openapi.json is kept true here: the router's routes and the document's are the same
 * set, and every route is called on a running registry, each answer (status, content type,
 * JSON body) checked against the document's schema for that route and status.
 */

interface Operation {
  responses: Record<string, { $ref?: string; content?: Record<string, { schema: unknown }> }>;
}
type Doc = {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown>; responses: Record<string, unknown> };
};
const doc = OPENAPI as unknown as Doc;

/**
 * Routes the contract (API.md) has that other branches are adding now (none at the moment):
 * described in the document, checked like any other once the router has them.
 */
const ADDED_ELSEWHERE = new Set<string>([]);

const SCHEMAS_ID = 'https://ota-deploy.invalid/schemas';
const ajv = new Ajv2020({ strict: true, allErrors: true });
addFormats.default(ajv);
ajv.addSchema({ $id: SCHEMAS_ID, $defs: rewriteRefs(doc.components.schemas) });

/** `#/components/schemas/X` → the same schema in the $defs ajv holds. */
function rewriteRefs(schema: unknown): unknown {
  return JSON.parse(
    JSON.stringify(schema).replaceAll('"#/components/schemas/', `"${SCHEMAS_ID}#/$defs/`),
  );
}

const validators = new Map<unknown, ValidateFunction>();
function validatorFor(schema: unknown): ValidateFunction {
  let validate = validators.get(schema);
  if (!validate) {
    validate = ajv.compile(rewriteRefs(schema) as object);
    validators.set(schema, validate);
  }
  return validate;
}

/** "METHOD /path/{param}" for each route of the Koa app (HEAD is every GET's, not a route). */
function routerRoutes(registry: TestRegistry): Set<string> {
  const routes = new Set<string>();
  for (const middleware of createApp(registry.context).middleware) {
    const router = (middleware as { router?: Router }).router;
    if (!router) continue;
    for (const layer of router.stack) {
      const path = String(layer.path)
        .replace(/:(\w+)/g, '{$1}')
        .replace(/(.)\/$/, '$1');
      for (const method of layer.methods) if (method !== 'HEAD') routes.add(`${method} ${path}`);
    }
  }
  return routes;
}

function documentedRoutes(): Set<string> {
  const routes = new Set<string>();
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of Object.keys(item)) routes.add(`${method.toUpperCase()} ${path}`);
  }
  return routes;
}

/** The document's path template for a request path: the one with the most literal segments. */
function templateOf(path: string): string | undefined {
  const segments = path.split('/');
  const fits = Object.keys(doc.paths).filter((template) => {
    const parts = template.split('/');
    return (
      parts.length === segments.length &&
      parts.every((part, i) => part.startsWith('{') || part === segments[i])
    );
  });
  const literal = (template: string) =>
    template.split('/').filter((p) => !p.startsWith('{')).length;
  return fits.sort((a, b) => literal(b) - literal(a))[0];
}

const checked = new Set<string>();

/** Makes a real request and checks its answer against the document; returns the answer. */
async function call(
  base: string,
  method: string,
  path: string,
  init: { apiKey?: string; json?: unknown; headers?: Record<string, string>; body?: FormData } = {},
): Promise<{ status: number; body: unknown; headers: Headers }> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.apiKey) headers.Authorization = `Bearer ${init.apiKey}`;
  let body: RequestInit['body'] = init.body;
  if (init.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(init.json);
  }
  const res = await fetch(base + path, { method, headers, body }).catch((err: unknown) => {
    const cause = (err as { cause?: unknown }).cause;
    throw new Error(`${method} ${path}: ${String(err)} (${String(cause)})`);
  });
  const bytes = Buffer.from(await res.arrayBuffer());
  const where = `${method} ${path} → ${res.status}`;
  const template = templateOf(path.split('?')[0]);
  if (!template) throw new Error(`${where}: no path of the document matches`);
  const operation = doc.paths[template][method === 'HEAD' ? 'get' : method.toLowerCase()];
  if (!operation) throw new Error(`${where}: ${method} ${template} is not in the document`);
  let response = operation.responses[String(res.status)];
  if (!response) throw new Error(`${where}: status not documented for ${method} ${template}`);
  if (response.$ref) {
    response = doc.components.responses[response.$ref.split('/').at(-1)!] as typeof response;
  }
  const type = res.headers.get('content-type') ?? '';
  let parsed: unknown = bytes.toString('utf8');
  if (!response.content || method === 'HEAD' || res.status === 304) {
    if (response.content === undefined && bytes.length > 0) {
      throw new Error(`${where}: a body the document does not describe`);
    }
  } else {
    const media = Object.keys(response.content).find((name) => type.startsWith(name));
    if (!media) throw new Error(`${where}: Content-Type ${type} is not documented`);
    if (media === 'application/json') {
      parsed = JSON.parse(bytes.toString('utf8'));
      const validate = validatorFor(response.content[media].schema);
      if (!validate(parsed)) {
        throw new Error(
          `${where}: body does not match the document: ${ajv.errorsText(validate.errors)}\n` +
            JSON.stringify(parsed),
        );
      }
    }
  }
  checked.add(`${method === 'HEAD' ? 'GET' : method} ${template}`);
  return { status: res.status, body: parsed, headers: res.headers };
}

function form(fields: Record<string, string>, firmware?: Buffer): FormData {
  const data = new FormData();
  for (const [name, value] of Object.entries(fields)) data.append(name, value);
  if (firmware) data.append('firmware', new Blob([firmware]), 'firmware.bin');
  return data;
}

describe('GET /openapi.json', () => {
  let registry: TestRegistry;
  let url: string;
  let apiKey: string;

  beforeAll(async () => {
    registry = await startRegistry({
      'max-upload-size': '256KiB',
      'device-failure-limit': '20',
      'trust-proxy': true,
    });
    url = registry.url;
    apiKey = await registry.addUser('owner@example.com', 'a good password');
  });
  afterAll(() => registry.close());

  test('every schema in the document compiles (strict JSON Schema 2020-12)', () => {
    const schemas: unknown[] = [];
    for (const item of Object.values(doc.paths)) {
      for (const operation of Object.values(item)) {
        for (const response of Object.values(operation.responses)) {
          for (const media of Object.values(response.content ?? {})) schemas.push(media.schema);
        }
      }
    }
    for (const response of Object.values(doc.components.responses)) {
      for (const media of Object.values((response as Operation['responses'][string]).content ?? {}))
        schemas.push(media.schema);
    }
    for (const schema of schemas) expect(() => validatorFor(schema)).not.toThrow();
    expect(doc).toMatchObject({ openapi: '3.1.0' });
  });

  test('the router and the document have the same routes', () => {
    const server = routerRoutes(registry);
    const documented = documentedRoutes();
    const undocumented = [...server].filter((route) => !documented.has(route));
    const missing = [...documented].filter(
      (route) => !server.has(route) && !ADDED_ELSEWHERE.has(route),
    );
    expect({ undocumented, missing }).toEqual({ undocumented: [], missing: [] });
  });

  test('is served as the document, unchanged', async () => {
    const res = await call(url, 'GET', '/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body).toEqual(JSON.parse(JSON.stringify(OPENAPI)));
  });

  test('real answers of every route match the document', async () => {
    const image = generateEspImage({ seed: 11 });
    const other = generateEspImage({ seed: 12 });
    const auth = { apiKey };

    // Accounts and sessions.
    expect((await call(url, 'POST', '/v1/auth/login', { json: {} })).status).toBe(400);
    const wrong = { email: 'owner@example.com', password: 'wrong' };
    expect((await call(url, 'POST', '/v1/auth/login', { json: wrong })).status).toBe(401);
    const login = await call(url, 'POST', '/v1/auth/login', {
      json: { email: 'owner@example.com', password: 'a good password' },
    });
    expect(login.status).toBe(200);
    const session = (login.body as { token: string }).token;
    expect((await call(url, 'GET', '/v1/account', { apiKey: session })).status).toBe(200);
    expect((await call(url, 'POST', '/v1/auth/logout', { apiKey: session })).status).toBe(204);
    expect((await call(url, 'POST', '/v1/auth/logout', auth)).status).toBe(400);
    expect((await call(url, 'POST', '/v1/auth/logout')).status).toBe(401);
    expect((await call(url, 'GET', '/v1/account')).status).toBe(401);
    expect((await call(url, 'PUT', '/v1/account', { ...auth, json: {} })).status).toBe(400);

    // Devices and groups.
    const created = await call(url, 'POST', '/v1/devices', { ...auth, json: { name: 'one' } });
    expect(created.status).toBe(201);
    const device = created.body as { _id: string; token: string };
    const withChip = await call(url, 'POST', '/v1/devices', { ...auth, json: { chip: 'ESP32' } });
    expect(withChip.status).toBe(201);
    const doomed = (withChip.body as { _id: string })._id;
    expect((await call(url, 'POST', '/v1/devices', { ...auth, json: { name: 5 } })).status).toBe(
      400,
    );
    const groupCreated = await call(url, 'POST', '/v1/groups', { ...auth, json: { name: 'g' } });
    expect(groupCreated.status).toBe(201);
    const group = groupCreated.body as { _id: string; token: string };
    const doomedGroup = (
      (await call(url, 'POST', '/v1/groups', { ...auth, json: { name: 'h' } })).body as {
        _id: string;
      }
    )._id;
    expect((await call(url, 'POST', '/v1/groups', { ...auth, json: { name: '' } })).status).toBe(
      400,
    );
    const missingId = '0123456789abcdef01234567';
    for (const key of ['devices', 'groups']) {
      const id = key === 'devices' ? device._id : group._id;
      expect((await call(url, 'GET', `/v1/${key}?limit=2&draw=3`, auth)).status).toBe(200);
      expect((await call(url, 'GET', `/v1/${key}?limit=x`, auth)).status).toBe(400);
      expect((await call(url, 'GET', `/v1/${key}`)).status).toBe(401);
      expect((await call(url, 'GET', `/v1/${key}/${id}`, auth)).status).toBe(200);
      expect((await call(url, 'GET', `/v1/${key}/${missingId}`, auth)).status).toBe(404);
      const rename = { ...auth, json: { name: 'renamed' } };
      expect((await call(url, 'PUT', `/v1/${key}/${id}`, rename)).status).toBe(200);
      expect((await call(url, 'PUT', `/v1/${key}/${missingId}`, rename)).status).toBe(404);
      expect(
        (await call(url, 'PUT', `/v1/${key}/${id}`, { ...auth, json: { name: '' } })).status,
      ).toBe(400);
      expect((await call(url, 'POST', `/v1/${key}/${missingId}/token`, auth)).status).toBe(404);
      expect((await call(url, 'DELETE', `/v1/${key}/${missingId}`, auth)).status).toBe(404);
    }
    expect((await call(url, 'DELETE', `/v1/devices/${doomed}`, auth)).status).toBe(200);
    expect((await call(url, 'DELETE', `/v1/groups/${doomedGroup}`, auth)).status).toBe(200);
    const rotated = await call(url, 'POST', `/v1/devices/${device._id}/token`, auth);
    expect(rotated.status).toBe(200);
    device.token = (rotated.body as { token: string }).token;
    const groupRotated = await call(url, 'POST', `/v1/groups/${group._id}/token`, auth);
    group.token = (groupRotated.body as { token: string }).token;

    // Firmware, for a device and for a group.
    for (const [kind, target] of [
      ['device', device],
      ['group', group],
    ] as const) {
      const base = `/v1/ota/${kind}`;
      const fields = { [kind]: target._id, token: target.token, version: '1.0.0' };
      expect((await call(url, 'GET', `${base}/latest/${target._id}`)).status).toBe(404);
      const deploy = (f: Record<string, string>, bytes?: Buffer) =>
        call(url, 'POST', base, { ...auth, body: form(f, bytes) });
      expect((await deploy(fields, image)).status).toBe(201);
      expect((await deploy(fields, image)).status).toBe(200);
      expect((await deploy(fields, other)).status).toBe(409);
      expect((await deploy({ ...fields, version: '1.1.0' }, other)).status).toBe(201);
      expect((await deploy({ ...fields, version: '' }, image)).status).toBe(400);
      expect((await deploy({ ...fields, token: 'wrongtoken1234' }, image)).status).toBe(403);
      expect((await deploy({ ...fields, [kind]: missingId }, image)).status).toBe(404);
      const big = generateEspImage({ seed: 13, size: 512 * 1024 });
      expect((await deploy({ ...fields, version: '9.0.0' }, big)).status).toBe(413);
      expect((await call(url, 'POST', base, { body: form(fields, image) })).status).toBe(401);

      expect((await call(url, 'GET', `${base}?search_value=1.&limit=5`, auth)).status).toBe(200);
      expect((await call(url, 'GET', `${base}?order_dir=up`, auth)).status).toBe(400);
      expect((await call(url, 'GET', base)).status).toBe(401);
      expect((await call(url, 'GET', `${base}/latest/${target._id}`)).status).toBe(200);
      expect((await call(url, 'GET', `${base}/latest/${missingId}`)).status).toBe(404);

      const download = `${base}/download/${target._id}${target.token}`;
      const got = await call(url, 'GET', download);
      expect(got.status).toBe(200);
      expect((await call(url, 'HEAD', download)).status).toBe(200);
      const etag = got.headers.get('etag')!;
      expect(
        (await call(url, 'GET', download, { headers: { 'If-None-Match': etag } })).status,
      ).toBe(304);
      expect((await call(url, 'GET', download, { headers: { Range: 'bytes=0-15' } })).status).toBe(
        206,
      );
      expect(
        (await call(url, 'GET', download, { headers: { Range: 'bytes=9999999-' } })).status,
      ).toBe(416);
      expect(
        (await call(url, 'GET', download, { headers: { 'x-ESP32-mode': 'spiffs' } })).status,
      ).toBe(400);
      expect((await call(url, 'GET', `${base}/download/${missingId}abc`)).status).toBe(404);

      expect((await call(url, 'GET', `${base}/${target._id}/history`, auth)).status).toBe(200);
      expect((await call(url, 'GET', `${base}/${missingId}/history`, auth)).status).toBe(404);
      const back = { ...auth, json: { version: '1.0.0' } };
      expect((await call(url, 'POST', `${base}/${target._id}/rollback`, back)).status).toBe(200);
      expect((await call(url, 'POST', `${base}/${missingId}/rollback`, back)).status).toBe(404);
      expect(
        (await call(url, 'POST', `${base}/${target._id}/rollback`, { ...auth, json: {} })).status,
      ).toBe(400);
      const trigger = `${base}/${target._id}/trigger`;
      expect((await call(url, 'POST', trigger, auth)).status).toBe(409); // no mqtt_user yet
    }

    // Triggers with an MQTT user but no broker; device-group membership.
    const mqtt = await call(url, 'PUT', '/v1/account', { ...auth, json: { mqtt_user: 'fleet' } });
    expect(mqtt.status).toBe(200);
    expect((await call(url, 'POST', `/v1/ota/group/${group._id}/trigger`, auth)).status).toBe(503);
    expect((await call(url, 'POST', `/v1/ota/device/${missingId}/trigger`, auth)).status).toBe(404);
    const join = { ...auth, json: { group: group._id, force: true } };
    expect((await call(url, 'PUT', `/v1/devices/${device._id}`, join)).status).toBe(200);
    expect((await call(url, 'GET', `/v1/devices/${device._id}`, auth)).status).toBe(200);

    // Staged rollouts of the group (which serves 1.0.0 again and keeps 1.1.0).
    const rollout = `/v1/ota/group/${group._id}/rollout`;
    expect((await call(url, 'GET', rollout, auth)).status).toBe(404);
    expect((await call(url, 'GET', rollout)).status).toBe(401);
    expect((await call(url, 'POST', rollout, { ...auth, json: {} })).status).toBe(400);
    const plan = { version: '1.1.0', phases: [50, 100], advance: 'auto' };
    const missingRollout = `/v1/ota/group/${missingId}/rollout`;
    expect((await call(url, 'POST', missingRollout, { ...auth, json: plan })).status).toBe(404);
    expect((await call(url, 'POST', rollout, { ...auth, json: plan })).status).toBe(201);
    expect((await call(url, 'POST', rollout, { ...auth, json: plan })).status).toBe(409);
    expect((await call(url, 'GET', rollout, auth)).status).toBe(200);
    for (const action of ['pause', 'resume', 'advance', 'abort']) {
      expect((await call(url, 'POST', `${rollout}/${action}`, auth)).status).toBe(200);
      expect((await call(url, 'POST', `${missingRollout}/${action}`, auth)).status).toBe(404);
    }
    expect((await call(url, 'POST', `${rollout}/abort`, auth)).status).toBe(409);
    const staged = await call(url, 'POST', '/v1/ota/group', {
      ...auth,
      body: form(
        { group: group._id, token: group.token, version: '1.2.0', rollout: '50,100' },
        generateEspImage({ seed: 14 }),
      ),
    });
    expect(staged.status).toBe(201);
    expect((staged.body as { rollout: { state: string } }).rollout.state).toBe('running');

    // A flood of wrong tokens from one address.
    const flood = { headers: { 'X-Forwarded-For': '203.0.113.77' } };
    for (let i = 0; i < 20; i++) {
      await call(url, 'GET', `/v1/ota/device/download/${device._id}wrong`, flood);
    }
    expect((await call(url, 'GET', `/v1/ota/device/latest/${device._id}`, flood)).status).toBe(429);

    // The dashboard's own routes.
    const page = await call(url, 'GET', '/');
    expect(page.status).toBe(200);
    const script = /src="([^"]+)"/.exec(String(page.body))![1];
    expect((await call(url, 'GET', script)).status).toBe(200);
    expect((await call(url, 'GET', '/assets/missing.js')).status).toBe(404);
    expect((await call(url, 'GET', '/v1/fleet/summary', auth)).status).toBe(200);
    expect((await call(url, 'GET', `/v1/fleet/summary?group=${group._id}`, auth)).status).toBe(200);
    expect((await call(url, 'GET', `/v1/fleet/summary?group=${missingId}`, auth)).status).toBe(404);
    expect((await call(url, 'GET', '/v1/fleet/summary?group=x', auth)).status).toBe(400);
    expect((await call(url, 'GET', `/v1/devices?group=${group._id}`, auth)).status).toBe(200);
    expect((await call(url, 'GET', `/v1/devices?group=${missingId}`, auth)).status).toBe(404);
    // A group of its own: the group above has a rollout open, which refuses plain uploads.
    const byUrl = await call(url, 'POST', '/v1/groups', { ...auth, json: { name: 'by-url' } });
    for (const kind of ['device', 'group'] as const) {
      const id = kind === 'device' ? device._id : (byUrl.body as { _id: string })._id;
      const owner = `/v1/ota/${kind}/${id}/firmware`;
      const upload = { ...auth, body: form({ version: '7.0.0' }, generateEspImage({ seed: 77 })) };
      expect((await call(url, 'POST', owner, upload)).status).toBe(201);
      const again = { ...auth, body: form({ version: '7.0.0' }, generateEspImage({ seed: 77 })) };
      expect((await call(url, 'POST', owner, again)).status).toBe(200);
      const noVersion = { ...auth, body: form({}, generateEspImage({ seed: 78 })) };
      expect((await call(url, 'POST', owner, noVersion)).status).toBe(400);
      const missing = { ...auth, body: form({ version: '7.0.1' }, generateEspImage({ seed: 78 })) };
      expect(
        (await call(url, 'POST', `/v1/ota/${kind}/${missingId}/firmware`, missing)).status,
      ).toBe(404);
    }
    const cookieLogin = { email: 'owner@example.com', password: 'a good password', cookie: true };
    const signedIn = await call(url, 'POST', '/v1/auth/login', {
      json: cookieLogin,
      headers: { Origin: url },
    });
    expect(signedIn.status).toBe(200);
    const cookie = /^[^;]+/.exec(signedIn.headers.get('set-cookie')!)![0];
    const foreign = { headers: { Cookie: cookie, Origin: 'https://elsewhere.example' } };
    expect((await call(url, 'POST', '/v1/auth/logout', foreign)).status).toBe(403);
    expect(
      (await call(url, 'POST', '/v1/auth/login', { json: cookieLogin, headers: foreign.headers }))
        .status,
    ).toBe(403);

    // Operations.
    expect((await call(url, 'GET', '/healthz')).status).toBe(200);
    expect((await call(url, 'GET', '/metrics')).status).toBe(200);
  });

  test('every documented route was called (but those other branches are adding)', () => {
    const server = routerRoutes(registry);
    const uncalled = [...documentedRoutes()].filter(
      (route) => !checked.has(route) && (server.has(route) || !ADDED_ELSEWHERE.has(route)),
    );
    expect(uncalled).toEqual([]);
  });
});
