import { afterEach, beforeEach, describe, expect, jest, test } from '@jest/globals';
import { readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { SettingsError } from '../../action/errors.js';
import { githubVersionSource } from '../../action/github-context.js';
import { getInputs } from '../../action/input-helper.js';
import { SETTING_NAMES } from '../../action/settings.js';
import { REPO_ROOT } from '../support/registry.js';
import { captureStdout } from '../support/stdout.js';
import { tempDir } from './fakes.js';

const DEVICE_ID = '5e1b57808711f904f5df4bad';
const saved = { ...process.env };
let stdout: string[];

beforeEach(() => {
  stdout = captureStdout();
  for (const name of SETTING_NAMES) delete process.env[`INPUT_${name.toUpperCase()}`];
});

afterEach(() => {
  jest.restoreAllMocks();
  process.env = { ...saved };
});

/** The runner passes `with:` values as INPUT_<NAME>, upper-cased with the dashes kept. */
function setInputs(inputs: Record<string, string>): void {
  for (const [name, value] of Object.entries(inputs))
    process.env[`INPUT_${name.toUpperCase()}`] = value;
}

const TAG_PUSH = {
  GITHUB_EVENT_NAME: 'push',
  GITHUB_REF: 'refs/tags/v1.2.7',
  GITHUB_REF_NAME: 'v1.2.7',
  GITHUB_REF_TYPE: 'tag',
};

describe('getInputs', () => {
  test('reads the inputs and the version from the tag', async () => {
    setInputs({
      'api-token': 'ApiKey',
      'device-id': DEVICE_ID,
      'device-token': 'DevTok',
      environment: 'esp32dev',
    });
    const settings = await getInputs(TAG_PUSH, '/ws');
    expect(settings).toMatchObject({
      registryUrl: 'https://api.iotaap.io',
      credentials: { kind: 'api-token', apiToken: 'ApiKey' },
      target: { kind: 'device', id: DEVICE_ID, token: 'DevTok' },
      version: '1.2.7',
      projectDir: '/ws',
      environment: 'esp32dev',
    });
  });

  test('masks tokens and passwords before validating anything', async () => {
    setInputs({
      email: 'ci@example.com',
      password: 'Hunter2!',
      'device-id': 'bad',
      'device-token': 'DevTok',
    });
    await expect(getInputs(TAG_PUSH, '/ws')).rejects.toThrow(SettingsError);
    expect(stdout).toEqual(
      expect.arrayContaining(['::add-mask::Hunter2!\n', '::add-mask::DevTok\n']),
    );
    setInputs({ 'api-token': 'ApiKey', email: '', password: '' });
    stdout.length = 0;
    await expect(getInputs(TAG_PUSH, '/ws')).rejects.toThrow(SettingsError);
    expect(stdout).toContain('::add-mask::ApiKey\n');
    setInputs({
      'device-id': '',
      'device-token': '',
      'group-id': 'bad',
      'group-token': 'GroupTok',
    });
    stdout.length = 0;
    await expect(getInputs(TAG_PUSH, '/ws')).rejects.toThrow(SettingsError);
    expect(stdout).toContain('::add-mask::GroupTok\n');
  });

  test('says how to fix a run on a branch', async () => {
    setInputs({ 'api-token': 'ApiKey', 'device-id': DEVICE_ID, 'device-token': 'DevTok' });
    await expect(
      getInputs(
        { GITHUB_EVENT_NAME: 'push', GITHUB_REF: 'refs/heads/main', GITHUB_REF_TYPE: 'branch' },
        '/ws',
      ),
    ).rejects.toThrow(
      "No version: this run was started by push on refs/heads/main, not a tag. Start the workflow from a tag (on: push: tags: ['v*']",
    );
  });
});

describe('githubVersionSource', () => {
  test.each<[string, Record<string, string>, string | undefined]>([
    ['a tag push', TAG_PUSH, 'v1.2.7'],
    [
      'a tag given only by name and type',
      { GITHUB_REF_TYPE: 'tag', GITHUB_REF_NAME: 'v2.0.0' },
      'v2.0.0',
    ],
    [
      'a branch push',
      {
        GITHUB_EVENT_NAME: 'push',
        GITHUB_REF: 'refs/heads/v1.2.7',
        GITHUB_REF_NAME: 'v1.2.7',
        GITHUB_REF_TYPE: 'branch',
      },
      undefined,
    ],
    [
      'a pull request',
      { GITHUB_EVENT_NAME: 'pull_request', GITHUB_REF: 'refs/pull/3/merge' },
      undefined,
    ],
    ['nothing', {}, undefined],
  ])('finds the tag of %s', async (_name, env, tag) => {
    await expect(githubVersionSource(env)).resolves.toMatchObject(tag === undefined ? {} : { tag });
    if (tag === undefined) expect((await githubVersionSource(env)).tag).toBeUndefined();
  });

  test("takes a release's tag from the event payload", async () => {
    const dir = await tempDir();
    const eventPath = path.join(dir, 'event.json');
    await writeFile(
      eventPath,
      JSON.stringify({ action: 'published', release: { tag_name: 'v3.1.4' } }),
    );
    await expect(
      githubVersionSource({
        GITHUB_EVENT_NAME: 'release',
        GITHUB_EVENT_PATH: eventPath,
        GITHUB_REF: 'refs/tags/other',
      }),
    ).resolves.toMatchObject({ tag: 'v3.1.4' });
  });

  test('falls back to the ref when the payload cannot be read', async () => {
    await expect(
      githubVersionSource({
        GITHUB_EVENT_NAME: 'release',
        GITHUB_EVENT_PATH: '/nonexistent.json',
        GITHUB_REF: 'refs/tags/v1.0.0',
      }),
    ).resolves.toMatchObject({ tag: 'v1.0.0' });
  });
});

describe('action.yml', () => {
  test('declares exactly the settings the Action reads, in the same order', async () => {
    const yml = await readFile(path.join(REPO_ROOT, 'action.yml'), 'utf8');
    const inputs = yml.slice(yml.indexOf('\ninputs:\n'), yml.indexOf('\noutputs:\n'));
    expect([...inputs.matchAll(/^ {2}([a-z-]+):$/gm)].map((match) => match[1])).toEqual([
      ...SETTING_NAMES,
    ]);
  });
});
