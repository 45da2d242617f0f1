import { afterEach, describe, expect, test } from '@jest/globals';
import { Messages } from '../../server/errors.js';
import { REFUSAL_DELAY_MS } from '../../server/http/device-failure-limit.js';
import { request, startRegistry, type Reply, type TestRegistry } from '../support/registry.js';

const PASSWORD = 'correct horse battery';

describe('login throttling', () => {
  let registry: TestRegistry;
  afterEach(() => registry.close());

  const login = (email: string, password: string, headers: Record<string, string> = {}) =>
    request(`${registry.url}/v1/auth/login`, {
      method: 'POST',
      json: { email, password },
      headers,
    });

  const expectThrottled = (res: Reply) => {
    expect(res.status).toBe(429);
    expect(res.body).toEqual({ message: Messages.tooManyLogins });
    const retryAfter = Number(res.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(15 * 60);
  };

  test('after 10 failures for one email within 15 minutes every login for it is 429, a correct one too; other emails go on', async () => {
    registry = await startRegistry();
    await registry.addUser('victim@example.com', PASSWORD);
    await registry.addUser('other@example.com', PASSWORD);
    for (let i = 0; i < 10; i++) {
      expect((await login('victim@example.com', `guess number ${i}`)).status).toBe(401);
    }
    const asked = performance.now();
    expectThrottled(await login('victim@example.com', PASSWORD));
    // A refusal waits a second before it leaves: a flood on keep-alive connections asks once a
    // second per connection (docs/security.md, "A login flood").
    expect(performance.now() - asked).toBeGreaterThanOrEqual(REFUSAL_DELAY_MS - 50);
    expectThrottled(await login('VICTIM@example.com', 'another guess'));
    expect((await login('other@example.com', PASSWORD)).status).toBe(200);
  });

  test('after 50 failures from one client address, its logins are 429; X-Forwarded-For is not believed without --trust-proxy', async () => {
    registry = await startRegistry();
    await registry.addUser('real@example.com', PASSWORD);
    for (let i = 0; i < 50; i++) {
      const res = await login(`nobody${i % 5}-${i}@example.com`, 'guess', {
        'X-Forwarded-For': `198.51.100.${i}`,
      });
      expect(res.status).toBe(401);
    }
    expectThrottled(
      await login('real@example.com', PASSWORD, { 'X-Forwarded-For': '203.0.113.9' }),
    );
  });

  test('with --trust-proxy the address is the one X-Forwarded-For names', async () => {
    registry = await startRegistry({ 'trust-proxy': true });
    await registry.addUser('real@example.com', PASSWORD);
    for (let i = 0; i < 50; i++) {
      const res = await login(`nobody-${i}@example.com`, 'guess', {
        'X-Forwarded-For': '198.51.100.7',
      });
      expect(res.status).toBe(401);
    }
    // The proxy appends the address it saw; what the client wrote before it does not count.
    expectThrottled(
      await login('real@example.com', PASSWORD, { 'X-Forwarded-For': '203.0.113.1, 198.51.100.7' }),
    );
    expect(
      (await login('real@example.com', PASSWORD, { 'X-Forwarded-For': '203.0.113.9' })).status,
    ).toBe(200);
  });

  test('an unknown email, or a user without a password, costs what a wrong password costs', async () => {
    registry = await startRegistry();
    await registry.addUser('known@example.com', PASSWORD);
    await registry.addUser('keyonly@example.com', null);
    const median = async (email: string) => {
      const times: number[] = [];
      for (let i = 0; i < 5; i++) {
        const started = process.hrtime.bigint();
        expect((await login(email, `wrong password ${i}`)).status).toBe(401);
        times.push(Number(process.hrtime.bigint() - started) / 1e6);
      }
      return times.sort((a, b) => a - b)[2];
    };
    const wrongPassword = await median('known@example.com');
    // Before: 0.4 ms against 33 ms (scrypt ran only for known emails). A loose bound: load on a
    // shared machine moves both, not their order of magnitude.
    expect(await median('unknown@example.com')).toBeGreaterThan(wrongPassword / 3);
    expect(await median('keyonly@example.com')).toBeGreaterThan(wrongPassword / 3);
  });
});
