import { afterEach, expect, jest, test } from '@jest/globals';
import { Messages } from '../../../server/errors.js';
import { tempDataDir } from '../../support/registry.js';

afterEach(() => {
  jest.restoreAllMocks();
});

/** Runs `ota-registry <argv>` in this process; what it printed, and its exit code. */
async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    stdout += String(chunk);
    return true;
  });
  jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    stderr += String(chunk);
    return true;
  });
  // Imported here, after the spies: importing must not start the command line by itself.
  const { main } = await import('../../../server/cli/main.js');
  const code = await main(argv);
  jest.restoreAllMocks();
  return { code, stdout, stderr };
}

test('importing the CLI runs nothing; main dispatches to each command in-process', async () => {
  const data = tempDataDir();
  const user = await run(['user', 'add', 'ops@example.com', '--data', data, '--json']);
  expect(user).toMatchObject({ code: 0, stderr: '' });
  expect(JSON.parse(user.stdout)).toMatchObject({ email: 'ops@example.com', role: 'user' });

  const device = await run([
    'device',
    'add',
    '--user',
    'ops@example.com',
    '--chip',
    'ESP32-S3',
    '--data',
    data,
    '--json',
  ]);
  expect(device.code).toBe(0);
  expect(JSON.parse(device.stdout)).toMatchObject({ chip: 'esp32s3' });

  const revoke = await run(['key', 'revoke', 'ota_key_unknown', '--data', data, '--json']);
  expect(revoke).toEqual({
    code: 1,
    stdout: JSON.stringify({ message: Messages.noSuchApiKey }) + '\n',
    stderr: `ota-registry: ${Messages.noSuchApiKey}\n`,
  });
});

test.each([
  [['frobnicate'], 'unknown command "frobnicate"'],
  [['device', 'add', '--data', '/nonexistent'], '--user is required'],
  [['user', 'add', 'a@b.c', '--role', 'root'], '--role must be admin or user'],
])('%j is a usage error (exit 2) naming the problem', async (argv, message) => {
  const result = await run(argv);
  expect(result.code).toBe(2);
  expect(result.stderr).toContain(message);
});
