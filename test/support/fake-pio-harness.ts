/**
 * What the Action's and the CLI's end-to-end tests share: a real registry process on an
 * ephemeral port, its operator CLI to create users and devices, the firmware image the
 * stand-in `pio` produces, and a way to run `node dist/index.js` the way GitHub's runner does.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { generateEspImage } from './esp-image-generator.js';
import { FIXTURE_DIR, REPO_ROOT } from './registry.js';
import { cliJson, runNode, spawnRegistry, type CliResult } from './registry-process.js';

const ACTION = path.join(REPO_ROOT, 'dist/index.js');
const DEPLOY_CLI = path.join(REPO_ROOT, 'build/action/cli.js');
const FIXTURE = 'esp32-arduino-tamapetchi.bin';

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(path.join(tmpdir(), `ota-deploy-${prefix}-`));
}

/**
 * What the stand-in build produces: a real PlatformIO image when the fixtures are there, else
 * a generated valid one. Neither contains the string "1.2.7", as a build that ignored
 * FIRMWARE_VERSION would not.
 */
export async function builtImage(): Promise<{ image: Buffer; source: string }> {
  if (existsSync(path.join(FIXTURE_DIR, FIXTURE))) {
    return { image: await readFile(path.join(FIXTURE_DIR, FIXTURE)), source: FIXTURE };
  }
  return {
    image: generateEspImage({ chip: 'esp32', size: 256 * 1024, seed: 7 }),
    source: 'generated',
  };
}

/** The child environment without anything of ours or of the outer CI that could leak in. */
function baseEnv(extraPath?: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value === undefined) continue;
    if (/^(INPUT_|GITHUB_|RUNNER_|OTA_|CI_COMMIT_)/.test(name) || name === 'NODE_OPTIONS') continue;
    env[name] = value;
  }
  if (extraPath !== undefined)
    env['PATH'] = `${extraPath}${path.delimiter}${process.env['PATH'] ?? ''}`;
  return env;
}

/** Runs the Action as the runner does: `node dist/index.js`, inputs as INPUT_<NAME> (dashes kept). */
export function runAction(options: {
  cwd: string;
  pathPrefix: string;
  inputs: Record<string, string>;
  github: Record<string, string>;
}): Promise<CliResult> {
  const env = baseEnv(options.pathPrefix);
  for (const [name, value] of Object.entries(options.inputs)) {
    env[`INPUT_${name.toUpperCase()}`] = value;
  }
  Object.assign(env, options.github);
  return runNode([ACTION], { cwd: options.cwd, env });
}

/** Runs `ota-deploy` with flags and OTA_* variables. */
export function runDeployCli(options: {
  cwd: string;
  pathPrefix: string;
  args: string[];
  env?: Record<string, string>;
}): Promise<CliResult> {
  return runNode([DEPLOY_CLI, ...options.args], {
    cwd: options.cwd,
    env: { ...baseEnv(options.pathPrefix), ...options.env },
  });
}

export interface Registry {
  url: string;
  dataDir: string;
  addUser(email: string, password?: string): Promise<{ id: string; apiKey: string }>;
  addDevice(email: string): Promise<{ id: string; token: string }>;
  /** Through the API (`POST /v1/groups`): the operator CLI has no group command. */
  addGroup(apiKey: string): Promise<{ id: string; token: string }>;
  latest(deviceId: string, kind?: 'device' | 'group'): Promise<{ status: number; body: unknown }>;
  download(deviceId: string, token: string): Promise<{ status: number; bytes: Buffer }>;
  stop(): Promise<void>;
}

/** `ota-registry serve` on 127.0.0.1 and an ephemeral port, with its own data directory. */
export async function startRegistry(): Promise<Registry> {
  const dataDir = await tempDir('registry');
  const { url, child, exited } = await spawnRegistry(dataDir);
  const cli = (args: string[], input?: string) =>
    cliJson<Record<string, unknown>>([...args, '--data', dataDir], input);
  return {
    url,
    dataDir,
    async addUser(email, password) {
      const user = await cli(
        ['user', 'add', email, ...(password !== undefined ? ['--password-stdin'] : [])],
        password !== undefined ? `${password}\n` : undefined,
      );
      return { id: String(user['id']), apiKey: String(user['apiKey']) };
    },
    async addDevice(email) {
      const device = await cli(['device', 'add', '--user', email]);
      return { id: String(device['_id']), token: String(device['token']) };
    },
    async addGroup(apiKey) {
      const response = await fetch(`${url}/v1/groups`, {
        method: 'POST',
        headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'fleet' }),
      });
      const group = (await response.json()) as Record<string, unknown>;
      if (response.status !== 201)
        throw new Error(`POST /v1/groups: ${response.status} ${JSON.stringify(group)}`);
      return { id: String(group['_id']), token: String(group['token']) };
    },
    async latest(id, kind = 'device') {
      const response = await fetch(`${url}/v1/ota/${kind}/latest/${id}`);
      return { status: response.status, body: (await response.json()) as unknown };
    },
    async download(deviceId, token) {
      const response = await fetch(`${url}/v1/ota/device/download/${deviceId}${token}`);
      return { status: response.status, bytes: Buffer.from(await response.arrayBuffer()) };
    },
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await exited;
    },
  };
}
