import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { Messages } from '../../server/errors.js';
import { request, startRegistry, type TestRegistry } from '../support/registry.js';

describe('authentication', () => {
  let registry: TestRegistry;
  let apiKey: string;

  beforeAll(async () => {
    registry = await startRegistry();
    apiKey = await registry.addUser('login@example.com', 'correct horse battery');
  });
  afterAll(() => registry.close());

  test('login with email and password returns the user and a session token that authenticates', async () => {
    const login = await request(`${registry.url}/v1/auth/login`, {
      method: 'POST',
      json: { email: 'login@example.com', password: 'correct horse battery', rememberMe: true },
    });
    expect(login.status).toBe(200);
    const body = login.body as { user: { id: string; role: string }; token: string };
    expect(body.user).toEqual({ id: expect.stringMatching(/^[0-9a-f]{24}$/), role: 'user' });
    const devices = await request(`${registry.url}/v1/devices`, { apiKey: body.token });
    expect(devices.status).toBe(200);
  });

  test.each([
    ['wrong password', { email: 'login@example.com', password: 'wrong password!' }],
    ['unknown email', { email: 'nobody@example.com', password: 'correct horse battery' }],
  ])('login with %s answers 401 in IoTaaP shape', async (_case, json) => {
    const res = await request(`${registry.url}/v1/auth/login`, { method: 'POST', json });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ message: Messages.loginWrong, error: Messages.loginWrong });
  });

  test.each([
    ['email', { password: 'x' }],
    ['password', { email: 'login@example.com' }],
  ])('login without %s is a 400 naming it', async (field, json) => {
    const res = await request(`${registry.url}/v1/auth/login`, { method: 'POST', json });
    expect(res).toMatchObject({ status: 400, body: { message: Messages.mandatoryField(field) } });
  });

  test('logout ends that session at once (204, then 401); other sessions and API keys go on', async () => {
    const login = async () =>
      (
        (
          await request(`${registry.url}/v1/auth/login`, {
            method: 'POST',
            json: { email: 'login@example.com', password: 'correct horse battery' },
          })
        ).body as { token: string }
      ).token;
    const [first, second] = [await login(), await login()];
    const logout = await request(`${registry.url}/v1/auth/logout`, {
      method: 'POST',
      apiKey: first,
    });
    expect(logout.status).toBe(204);
    expect(logout.body).toBe('');
    expect((await request(`${registry.url}/v1/devices`, { apiKey: first })).status).toBe(401);
    const again = await request(`${registry.url}/v1/auth/logout`, {
      method: 'POST',
      apiKey: first,
    });
    expect(again).toMatchObject({ status: 401, body: { message: Messages.unauthorized } });
    expect((await request(`${registry.url}/v1/devices`, { apiKey: second })).status).toBe(200);

    // An API key is not a session: logout refuses it and it keeps working (CI depends on it).
    const withKey = await request(`${registry.url}/v1/auth/logout`, { method: 'POST', apiKey });
    expect(withKey).toMatchObject({ status: 400, body: { message: Messages.logoutApiKey } });
    expect((await request(`${registry.url}/v1/devices`, { apiKey })).status).toBe(200);
    expect((await request(`${registry.url}/v1/auth/logout`, { method: 'POST' })).status).toBe(401);
  });

  test('answers carrying a secret are never cached; every answer says nosniff', async () => {
    const login = await request(`${registry.url}/v1/auth/login`, {
      method: 'POST',
      json: { email: 'login@example.com', password: 'correct horse battery' },
    });
    const device = await request(`${registry.url}/v1/devices`, {
      method: 'POST',
      apiKey,
      json: {},
    });
    const id = (device.body as { _id: string })._id;
    const group = await request(`${registry.url}/v1/groups`, { method: 'POST', apiKey, json: {} });
    const groupId = (group.body as { _id: string })._id;
    const secretAnswers = [
      login,
      device,
      group,
      await request(`${registry.url}/v1/devices/${id}/token`, { method: 'POST', apiKey }),
      await request(`${registry.url}/v1/groups/${groupId}/token`, { method: 'POST', apiKey }),
    ];
    for (const res of secretAnswers) {
      expect(res.status).toBeLessThan(300);
      expect(res.headers.get('cache-control')).toBe('no-store');
    }
    const others = [
      await request(`${registry.url}/v1/devices`, { apiKey }),
      await request(`${registry.url}/v1/devices`),
      await request(`${registry.url}/v1/ota/device/latest/${id}`),
      await request(`${registry.url}/v1/ota/device/download/${id}nottoken`),
      await request(`${registry.url}/healthz`),
      await request(`${registry.url}/no/such/route`),
    ];
    for (const res of [...secretAnswers, ...others]) {
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    }
  });

  test('a malformed JSON body is a 400', async () => {
    const res = await request(`${registry.url}/v1/auth/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{"email": "login@example.com",',
    });
    expect(res).toMatchObject({ status: 400, body: { message: Messages.malformedJson } });
  });

  test.each([
    ['missing', {}],
    ['not Bearer', { Authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }],
    ['empty Bearer', { Authorization: 'Bearer ' }],
    ['unknown token', { Authorization: 'Bearer ota_key_not-a-real-key' }],
    ['two tokens', { Authorization: 'Bearer a b' }],
  ])('a %s Authorization header is 401 Unauthorized', async (_case, headers) => {
    for (const path of ['/v1/devices', '/v1/ota/device']) {
      const res = await request(`${registry.url}${path}`, { headers });
      expect(res).toMatchObject({ status: 401, body: { message: Messages.unauthorized } });
    }
  });

  test('a revoked API key stops working at once', async () => {
    const key = registry.context.auth.createApiKey(
      registry.context.auth.userByEmail('login@example.com'),
    );
    expect((await request(`${registry.url}/v1/devices`, { apiKey: key })).status).toBe(200);
    expect(registry.context.auth.revokeApiKey(key)).toBe(true);
    const res = await request(`${registry.url}/v1/devices`, { apiKey: key });
    expect(res).toMatchObject({ status: 401, body: { message: Messages.unauthorized } });
    expect((await request(`${registry.url}/v1/devices`, { apiKey })).status).toBe(200);
  });

  test('an expired session token is 401', async () => {
    const { token } = await registry.context.auth.login(
      'login@example.com',
      'correct horse battery',
      '127.0.0.1',
    );
    registry.context.db
      .prepare("UPDATE tokens SET expires_at = '2000-01-01T00:00:00.000Z' WHERE kind = 'session'")
      .run();
    expect((await request(`${registry.url}/v1/devices`, { apiKey: token })).status).toBe(401);
  });
});
