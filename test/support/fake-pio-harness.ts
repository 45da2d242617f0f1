/**
 * What the Action's and the CLI's end-to-end tests share: the firmware image the stand-in
 * `pio` produces, and a way to run `node dist/index.js` the way GitHub's runner does (the
 * registry they deploy to is startRegistryProcess, in registry-process.ts).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { generateEspImage } from './esp-image-generator.js';
import { FIXTURE_DIR } from './fixtures.js';
import { REPO_ROOT } from './registry.js';
import { runNode, type CliResult } from './registry-process.js';

const ACTION = path.join(REPO_ROOT, 'dist/index.js');
/** The `ota-deploy` bin as it ships: the bundle, which runs with node alone. */
const DEPLOY_CLI = path.join(REPO_ROOT, 'dist/cli.js');
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
