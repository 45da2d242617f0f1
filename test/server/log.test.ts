import { afterAll, afterEach, expect, jest, test } from '@jest/globals';
import { logError, setLogFormat } from '../../server/log.js';
import { tempDataDir, waitFor } from '../support/registry.js';
import { killAllRegistries, spawnRegistry } from '../support/registry-process.js';

afterEach(() => {
  setLogFormat('text');
  jest.restoreAllMocks();
});
afterAll(killAllRegistries);

test('a problem is one line on stderr: time, what, and the error with its stack', () => {
  const lines = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  logError('upload failed', Object.assign(new Error('disk full'), { code: 'ENOSPC' }));
  const line = String(lines.mock.calls[0]?.[0]);
  expect(line).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z upload failed: Error: disk full\n\s+at /);
});

test('with the JSON format, a problem is one JSON object with the error beside the message', () => {
  const lines = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  setLogFormat('json');
  logError('upload failed', Object.assign(new Error('disk full'), { code: 'ENOSPC' }));
  logError('WAL checkpoint thread exited with code 1; checkpointing inline');
  const [first, second] = lines.mock.calls.map(([line]) => JSON.parse(String(line)));
  expect(first).toMatchObject({
    level: 'error',
    message: 'upload failed',
    error: { name: 'Error', message: 'disk full', code: 'ENOSPC' },
  });
  expect(new Date(first.time).toISOString()).toBe(first.time);
  expect(second).toEqual({
    time: expect.any(String),
    level: 'error',
    message: 'WAL checkpoint thread exited with code 1; checkpointing inline',
  });
});

test('serve --log-format json writes each request as a JSON line, tokens redacted', async () => {
  const registry = await spawnRegistry(tempDataDir(), ['--log-format', 'json']);
  const token = 'SecretToken12345';
  await fetch(`${registry.url}/healthz`);
  await fetch(`${registry.url}/v1/ota/device/latest/5e1b57808711f904f5df4bad`);
  await fetch(`${registry.url}/v1/ota/device/download/5e1b57808711f904f5df4bad${token}`);
  const requests = () =>
    registry
      .output()
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  await waitFor(() => requests().length === 3, 'three request lines');
  expect(requests()).toEqual([
    expect.objectContaining({ level: 'info', method: 'GET', path: '/healthz', status: 200 }),
    expect.objectContaining({
      method: 'GET',
      path: '/v1/ota/device/latest/5e1b57808711f904f5df4bad',
      status: 404,
    }),
    expect.objectContaining({
      path: '/v1/ota/device/download/5e1b57808711f904f5df4bad[redacted]',
      status: 404,
    }),
  ]);
  expect(requests().every((line) => typeof line.ms === 'number')).toBe(true);
  expect(registry.output()).not.toContain(token);
  registry.child.kill('SIGTERM');
  await registry.exited;
});
