/**
 * Every documented way to get `ota-deploy` (and `ota-registry`) without a package name on npm
 * that is not ours, done exactly as the docs say, from a `git clone --depth 1` of this
 * repository standing in for a release download, against a real registry process:
 *
 * - docs/action.md's shell commands: `node <clone>/dist/cli.js`, nothing installed;
 * - docs/action.md's GitLab job: its `script:` lines, with the job's variables;
 * - docs/registry.md's install: `npm pack`, then `npm install -g` of the tarball, whose
 *   `ota-registry` then serves and whose `ota-deploy` deploys to it;
 * - .github/workflows/ci.yml's self-test job: the Action from the clone (`uses: ./`, as the
 *   runner starts it) with that job's inputs, a dry run.
 *
 * What is replaced, and only that: the repository URL and `--branch v1` by a file:// clone of
 * HEAD (there are no release tags here), /tmp/ota-deploy by a temporary directory,
 * https://ota.example.com by the test registry's URL, and PlatformIO by the stand-in `pio`
 * (test/support/fake-pio.ts). npm is pointed at its local cache (prefer-offline) and a
 * temporary global prefix through its environment, not through the commands.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { spawn } from 'node:child_process';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { builtImage, tempDir } from '../support/fake-pio-harness.js';
import { createPioProject, installFakePio } from '../support/fake-pio.js';
import { sha256 } from '../support/hashes.js';
import {
  cliJson,
  startRegistryProcess,
  type OperatedRegistry,
} from '../support/registry-process.js';
import { REPO_ROOT, waitFor } from '../support/registry.js';
import { bash, fencedBlocks } from '../support/shell.js';

const EMAIL = 'release@example.com';
/** The device id the docs' shell example names; the test registry imports a device under it. */
const DOCUMENTED_DEVICE = '5e1b57808711f904f5df4bad';
const DOCUMENTED_TOKEN = 'DocumentedToken1';
const VERSION = JSON.parse(await readFile(path.join(REPO_ROOT, 'package.json'), 'utf8')).version;

const ACTION_DOC = await readFile(path.join(REPO_ROOT, 'docs/action.md'), 'utf8');
const REGISTRY_DOC = await readFile(path.join(REPO_ROOT, 'docs/registry.md'), 'utf8');
const CI_WORKFLOW = await readFile(path.join(REPO_ROOT, '.github/workflows/ci.yml'), 'utf8');

let registry: OperatedRegistry;
let apiKey: string;

beforeAll(async () => {
  registry = await startRegistryProcess();
  ({ apiKey } = await registry.addUser(EMAIL));
  await cliJson([
    ...['device', 'add', '--user', EMAIL, '--id', DOCUMENTED_DEVICE],
    ...['--token', DOCUMENTED_TOKEN, '--data', registry.dataDir],
  ]);
});

afterAll(async () => {
  await registry?.stop();
});

/** A documented script made to fetch this repository's HEAD where it would fetch a release. */
function fromThisRepository(script: string, cloneDir: string): string {
  const clone = '@CLONE_DIR@';
  const replaced = script
    .replaceAll('/tmp/ota-deploy', clone)
    // Where git clones to: the directory named, or the URL's last part (ota-deploy).
    .replace(
      /--branch v1 https:\/\/github\.com\/iotaap\/ota-deploy\.git(?: @CLONE_DIR@)?$/m,
      `file://${REPO_ROOT} ${clone}`,
    )
    .replaceAll(clone, cloneDir)
    .replaceAll('https://ota.example.com', registry.url);
  expect(replaced).not.toContain('github.com');
  return replaced;
}

/** A PlatformIO project with the stand-in `pio` that builds `image`. */
async function pioProject(image: Buffer) {
  const dir = await tempDir('install');
  const project = path.join(dir, 'project');
  await createPioProject(project, ['esp32dev']);
  const pio = await installFakePio(path.join(dir, 'tools'), { image });
  return { dir, project, pio, PATH: `${pio.binDir}${path.delimiter}${process.env['PATH']}` };
}

describe('ota-deploy from a clone of a release, nothing installed', () => {
  test("both tools print the package's version; ota-deploy's --version stays the firmware's", async () => {
    const registryCli = path.join(REPO_ROOT, 'build/server/cli/main.js');
    for (const flag of ['--version', '-V']) {
      await expect(bash(`node "${registryCli}" ${flag}`, { cwd: REPO_ROOT })).resolves.toEqual({
        code: 0,
        stdout: `ota-registry ${VERSION}\n`,
        stderr: '',
      });
    }
    // dist/cli.js alone, copied out of the repository: the version is built in.
    const alone = path.join(await tempDir('cli-alone'), 'cli.js');
    await writeFile(alone, await readFile(path.join(REPO_ROOT, 'dist/cli.js')));
    await expect(bash(`node "${alone}" -V`, { cwd: REPO_ROOT })).resolves.toEqual({
      code: 0,
      stdout: `ota-deploy ${VERSION}\n`,
      stderr: '',
    });
    const bare = await bash(`node "${alone}" --version`, { cwd: REPO_ROOT });
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain("ota-deploy's own version: ota-deploy -V");
  });

  test("docs/action.md's shell commands deploy the build", async () => {
    const [script, ...others] = fencedBlocks(ACTION_DOC, 'cli-shell', 'sh');
    expect(others).toEqual([]);
    const { image } = await builtImage();
    const ws = await pioProject(image);
    const result = await bash(fromThisRepository(script as string, path.join(ws.dir, 'release')), {
      cwd: ws.project,
      env: { PATH: ws.PATH },
      input: `${apiKey}\n${DOCUMENTED_TOKEN}\n`, // what the two `read -s` prompts are answered
    });

    expect({ code: result.code, stderr: result.code === 0 ? '' : result.stderr }).toEqual({
      code: 0,
      stderr: '',
    });
    expect(result.stdout).toMatch(
      // After the two empty lines the `echo`s print, ending the silent prompts.
      new RegExp(
        `^\\n\\ndeployed 1\\.2\\.7 to device ${DOCUMENTED_DEVICE} \\(${image.length} bytes`,
      ),
    );
    expect(result.stderr).toContain(`ota-deploy ${VERSION}`);
    expect(result.stdout + result.stderr).not.toContain(apiKey);
    await expect(registry.latest(DOCUMENTED_DEVICE)).resolves.toEqual({
      status: 200,
      body: { ver: '1.2.7' },
    });
    const download = await registry.download(DOCUMENTED_DEVICE, DOCUMENTED_TOKEN);
    expect(download.bytes.equals(image)).toBe(true);
  });

  test("docs/action.md's GitLab job deploys a tag pipeline with the job's variables", async () => {
    const [job, ...others] = fencedBlocks(ACTION_DOC, 'cli-gitlab', 'yaml');
    expect(others).toEqual([]);
    const lines = (job as string).split('\n');
    const script = lines
      .slice(lines.indexOf('  script:') + 1)
      .filter((line) => line.startsWith('    - '))
      .map((line) => line.slice('    - '.length));
    expect(script).toHaveLength(2);
    expect((job as string).match(/^ {2}image: node:(\d+)$/m)?.[1]).toBe('24');

    const device = await registry.addDevice(EMAIL);
    const { image } = await builtImage();
    const ws = await pioProject(image);
    const result = await bash(fromThisRepository(script.join('\n'), path.join(ws.dir, 'release')), {
      cwd: ws.project,
      env: {
        PATH: ws.PATH,
        CI_COMMIT_TAG: 'v2.4.0',
        OTA_REGISTRY_URL: registry.url,
        OTA_API_TOKEN: apiKey,
        OTA_DEVICE_ID: device.id,
        OTA_DEVICE_TOKEN: device.token,
      },
    });

    expect({ code: result.code, stderr: result.code === 0 ? '' : result.stderr }).toEqual({
      code: 0,
      stderr: '',
    });
    expect(result.stdout).toMatch(new RegExp(`^deployed 2\\.4\\.0 to device ${device.id} `));
    expect((await ws.pio.calls())[0]?.args).toEqual(['run', '-d', ws.project, '-e', 'esp32dev']);
    await expect(registry.latest(device.id)).resolves.toEqual({
      status: 200,
      body: { ver: '2.4.0' },
    });
  });

  test("the workflow's self-test job: the Action from the clone, a dry run, sends nothing", async () => {
    const workflow = CI_WORKFLOW.slice(CI_WORKFLOW.indexOf('\n  self-test:'));
    const step = workflow.slice(workflow.indexOf('      - uses: ./'));
    const inputs: Record<string, string> = {};
    for (const line of step.split('\n').slice(3)) {
      const match = /^ {10}([a-z-]+): (.*?)(?: # .*)?$/.exec(line);
      if (match === null) break;
      inputs[match[1] as string] = match[2] as string;
    }
    expect(inputs['dry-run']).toBe('true');

    // The job's steps: its workspace (run from this checkout, which has the dev dependencies),
    // then the Action from a clone, as `uses: ./` starts it.
    const dir = await tempDir('self-test');
    const made = await bash(`node .ci/self-test-project.js "${dir}" 1.2.7`, { cwd: REPO_ROOT });
    expect(made.code).toBe(0);
    const [project, binDir] = made.stdout.trim().split('\n') as [string, string];
    const clone = await bash(`git clone --quiet --depth 1 file://${REPO_ROOT} "${dir}/release"`, {
      cwd: dir,
    });
    expect(clone.code).toBe(0);
    const outputFile = path.join(dir, 'github_output');
    await writeFile(outputFile, '');
    const env: Record<string, string> = {
      PATH: `${binDir}${path.delimiter}${process.env['PATH']}`,
      GITHUB_ACTIONS: 'true',
      GITHUB_EVENT_NAME: 'push',
      GITHUB_REF: 'refs/heads/main',
      GITHUB_OUTPUT: outputFile,
      GITHUB_STEP_SUMMARY: path.join(dir, 'step_summary'),
    };
    await writeFile(env['GITHUB_STEP_SUMMARY'] as string, '');
    for (const [name, value] of Object.entries(inputs)) {
      env[`INPUT_${name.toUpperCase()}`] = value.replace(
        '${{ steps.project.outputs.dir }}',
        project,
      );
    }
    const result = await bash(`node "${dir}/release/dist/index.js"`, { cwd: dir, env });

    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    expect(result.stdout).toContain(
      'with POST https://ota.example.invalid/v1/ota/device, with api-token. Nothing was sent to the registry.',
    );
    expect(result.stdout).not.toContain('::warning::');
    const summary = await readFile(env['GITHUB_STEP_SUMMARY'] as string, 'utf8');
    expect(summary).toContain('Firmware 1.2.7 ready (dry run, not uploaded)');
    expect(summary).toContain('Dry run: built and checked, nothing uploaded');
    // The job's last step checks these outputs against the file.
    const outputs = await readFile(outputFile, 'utf8');
    const firmware = path.join(project, '.pio/build/esp32dev/firmware.bin');
    const bytes = await readFile(firmware);
    for (const [name, value] of [
      ['status', 'dry-run'],
      ['version', '1.2.7'],
      ['size', String((await stat(firmware)).size)],
      ['sha256', sha256(bytes)],
    ]) {
      expect(outputs).toMatch(new RegExp(`^${name}<<(\\S+)\\n${value}\\n\\1$`, 'm'));
    }
  });
});

describe('ota-registry and ota-deploy installed from the packed tarball', () => {
  test("docs/registry.md's commands install both, with production dependencies only", async () => {
    const [script, ...others] = fencedBlocks(REGISTRY_DOC, 'install', 'sh');
    expect(others).toEqual([]);
    const dir = await tempDir('npm-pack');
    const prefix = path.join(dir, 'global');
    const bin = path.join(prefix, 'bin');
    const npmEnv = {
      PATH: `${bin}${path.delimiter}${process.env['PATH']}`,
      npm_config_prefix: prefix,
      npm_config_prefer_offline: 'true',
      npm_config_audit: 'false',
      npm_config_fund: 'false',
      npm_config_update_notifier: 'false',
    };
    const install = await bash(fromThisRepository(script as string, 'ota-deploy'), {
      cwd: dir,
      env: npmEnv,
    });
    expect({ code: install.code, stderr: install.code === 0 ? '' : install.stderr }).toEqual({
      code: 0,
      stderr: '',
    });
    expect(install.stdout).toContain(`ota-registry ${VERSION}\nota-deploy ${VERSION}\n`);

    const installed = path.join(prefix, 'lib/node_modules/ota-deploy');
    const dependencies = await readdir(path.join(installed, 'node_modules'));
    expect(dependencies).toEqual(expect.arrayContaining(['better-sqlite3', 'koa']));
    for (const devOnly of ['jest', 'typescript', 'esbuild', 'eslint', '.bin/jest']) {
      expect(dependencies).not.toContain(devOnly);
    }
    // What `files` ships: the compiled code, the bundles, the docs; no tests, no sources.
    expect((await readdir(installed)).sort()).toEqual(
      expect.arrayContaining(['build', 'dist', 'docs', 'package.json', 'LICENSE', 'README.md']),
    );
    for (const left of ['test', 'server', 'action', 'bench']) {
      expect(await readdir(installed)).not.toContain(left);
    }

    // The installed ota-registry serves, and the installed ota-deploy deploys to it.
    const data = path.join(dir, 'data');
    const server = spawn(
      path.join(bin, 'ota-registry'),
      ['serve', '--port', '0', '--host', '127.0.0.1', '--data', data],
      {
        env: { ...withoutJest(), ...npmEnv },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    try {
      let output = '';
      server.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      await waitFor(
        () => /listening on http:\/\/\S+/.test(output),
        'the installed registry',
        30_000,
      );
      const url = /listening on (http:\/\/\S+)/.exec(output)?.[1] as string;
      const deployed = await bash(
        [
          `KEY=$(ota-registry user add ops@example.com --data "${data}" --json | node -pe 'JSON.parse(require("fs").readFileSync(0)).apiKey')`,
          `DEVICE=$(ota-registry device add --user ops@example.com --data "${data}" --json)`,
          `export OTA_API_TOKEN=$KEY`,
          `export OTA_DEVICE_ID=$(echo "$DEVICE" | node -pe 'JSON.parse(require("fs").readFileSync(0))._id')`,
          `export OTA_DEVICE_TOKEN=$(echo "$DEVICE" | node -pe 'JSON.parse(require("fs").readFileSync(0)).token')`,
          `ota-deploy --registry-url ${url} --no-build --firmware firmware.bin --version 3.0.0 --json`,
        ].join('\n'),
        { cwd: await writeImageDir(dir), env: npmEnv },
      );
      expect({ code: deployed.code, stderr: deployed.code === 0 ? '' : deployed.stderr }).toEqual({
        code: 0,
        stderr: '',
      });
      expect(JSON.parse(deployed.stdout)).toMatchObject({ status: 'deployed', version: '3.0.0' });
    } finally {
      server.kill('SIGTERM');
      await new Promise((resolve) => server.once('exit', resolve));
    }
  }, 900_000);
});

/** This process's environment without Jest's NODE_OPTIONS. */
function withoutJest(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env['NODE_OPTIONS'];
  return env;
}

/** A directory with a built image as firmware.bin. */
async function writeImageDir(parent: string): Promise<string> {
  const { image } = await builtImage();
  const dir = path.join(parent, 'prebuilt');
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'firmware.bin'), image);
  return dir;
}
