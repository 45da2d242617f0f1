/**
 * The Action end to end, the way GitHub's runner starts it: `node dist/index.js` with inputs as
 * INPUT_* variables, the GITHUB_* context, GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files, the
 * working directory a PlatformIO project, against a real registry process. PlatformIO itself
 * cannot be installed here: a stand-in `pio` on PATH records how it was called and writes the
 * image a build would (test/support/fake-pio.ts).
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { generateEspImage } from '../support/esp-image-generator.js';
import { builtImage, runAction, tempDir } from '../support/fake-pio-harness.js';
import { startRegistryProcess, type OperatedRegistry } from '../support/registry-process.js';
import { createPioProject, installFakePio } from '../support/fake-pio.js';
import { md5, sha256 } from '../support/hashes.js';

const EMAIL = 'ci@example.com';
const PASSWORD = 'correct horse battery staple';
let registry: OperatedRegistry;
let apiKey: string;

beforeAll(async () => {
  registry = await startRegistryProcess();
  ({ apiKey } = await registry.addUser(EMAIL, PASSWORD));
});

afterAll(async () => {
  await registry?.stop();
});

/** The inputs that deploy to `device` on this registry with the API key. */
function deploysTo(device: { id: string; token: string }): Record<string, string> {
  return {
    'registry-url': registry.url,
    'api-token': apiKey,
    'device-id': device.id,
    'device-token': device.token,
  };
}

/** GITHUB_OUTPUT's `name<<delimiter` blocks as a map. */
function parseOutputs(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const block = /^([\w-]+)<<(\S+)\n([\s\S]*?)\n\2$/gm;
  for (const match of text.matchAll(block)) outputs[match[1] as string] = match[3] as string;
  return outputs;
}

/** A workspace with a PlatformIO project, the stand-in pio, and the runner's files. */
async function workspace(options: { image: Buffer; installed?: boolean; environments?: string[] }) {
  const dir = await tempDir('action');
  const project = path.join(dir, 'project');
  await createPioProject(project, options.environments ?? ['esp32dev']);
  const pio = await installFakePio(path.join(dir, 'tools'), {
    image: options.image,
    ...(options.installed !== undefined ? { installed: options.installed } : {}),
  });
  const files = {
    output: path.join(dir, 'github_output'),
    summary: path.join(dir, 'step_summary'),
  };
  await writeFile(files.output, '');
  await writeFile(files.summary, '');
  const github = (ref: string, extra: Record<string, string> = {}) => ({
    GITHUB_ACTIONS: 'true',
    GITHUB_EVENT_NAME: 'push',
    GITHUB_REF: ref,
    GITHUB_REF_NAME: ref.replace(/^refs\/(tags|heads)\//, ''),
    GITHUB_REF_TYPE: ref.startsWith('refs/tags/') ? 'tag' : 'branch',
    GITHUB_OUTPUT: files.output,
    GITHUB_STEP_SUMMARY: files.summary,
    GITHUB_WORKSPACE: project,
    ...extra,
  });
  return {
    project,
    pio,
    files,
    github,
    /** Runs the Action in this workspace for `ref`, as the runner would. */
    run: (inputs: Record<string, string>, ref: string, extra: Record<string, string> = {}) =>
      runAction({ cwd: project, pathPrefix: pio.binDir, inputs, github: github(ref, extra) }),
    outputs: async () => parseOutputs(await readFile(files.output, 'utf8')),
    summary: () => readFile(files.summary, 'utf8'),
  };
}

describe('a tag push', () => {
  test('builds with the version, deploys it, and says so in the outputs and the summary', async () => {
    const { image, source } = await builtImage();
    const device = await registry.addDevice(EMAIL);
    const ws = await workspace({ image });

    const result = await ws.run(
      {
        ...deploysTo(device),
        environment: 'esp32dev',
      },
      'refs/tags/v1.2.7',
    );

    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    // The registry now offers 1.2.7 and serves exactly the built bytes.
    await expect(registry.latest(device.id)).resolves.toEqual({
      status: 200,
      body: { ver: '1.2.7' },
    });
    const download = await registry.download(device.id, device.token);
    expect(download.status).toBe(200);
    expect(download.bytes.equals(image)).toBe(true);

    // PlatformIO was asked to build this project's environment with FIRMWARE_VERSION defined.
    expect(await ws.pio.calls()).toEqual([
      {
        tool: 'pio',
        args: ['run', '-d', ws.project, '-e', 'esp32dev'],
        cwd: ws.project,
        buildFlags: '-DFIRMWARE_VERSION=\\"1.2.7\\"',
      },
    ]);

    const firmware = path.join(ws.project, '.pio/build/esp32dev/firmware.bin');
    expect(await ws.outputs()).toEqual({
      version: '1.2.7',
      firmware,
      size: String(image.length),
      sha256: sha256(image),
      md5: md5(image),
      status: 'deployed',
      // This registry runs without a broker: nothing was triggered.
      triggered: 'false',
    });
    const summary = await ws.summary();
    for (const text of [
      device.id,
      '1.2.7',
      `${image.length} bytes`,
      sha256(image),
      registry.url,
      'Deployed',
    ]) {
      expect(summary).toContain(text);
    }

    // Neither image contains "1.2.7": the version check warns, naming the endless update loop.
    expect(result.stdout).toMatch(
      /::warning::The version string "1\.2\.7" does not appear inside .*updates forever/,
    );
    expect(summary).toContain('not found inside the image');
    expect(source).toBeTruthy();

    // Secrets are masked before use and never printed in the clear.
    expect(result.stdout).toContain(`::add-mask::${apiKey}`);
    expect(result.stdout).toContain(`::add-mask::${device.token}`);
    const printed = result.stdout.split('\n').filter((line) => !line.startsWith('::add-mask::'));
    for (const secret of [apiKey, device.token]) {
      expect(printed.join('\n')).not.toContain(secret);
      expect(summary).not.toContain(secret);
    }
  });

  test('a re-run of the same tag reports already-deployed', async () => {
    const { image } = await builtImage();
    const device = await registry.addDevice(EMAIL);
    const ws = await workspace({ image });
    const inputs = deploysTo(device);
    const first = await ws.run(inputs, 'refs/tags/v2.0.0');
    expect(first.code).toBe(0);
    await writeFile(ws.files.output, '');
    const again = await ws.run(inputs, 'refs/tags/v2.0.0');
    expect(again.code).toBe(0);
    expect((await ws.outputs())['status']).toBe('already-deployed');
    expect(await ws.summary()).toContain('Already deployed');
  });

  test('verify-version: fail passes when the build compiled the version in', async () => {
    const image = generateEspImage({
      chip: 'esp32',
      size: 128 * 1024,
      seed: 3,
      embedString: '3.4.5-rc.1',
    });
    const device = await registry.addDevice(EMAIL);
    const ws = await workspace({ image });
    const result = await ws.run(
      {
        ...deploysTo(device),
        'verify-version': 'fail',
      },
      'refs/tags/v3.4.5-rc.1',
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('The image contains its version string "3.4.5-rc.1".');
    await expect(registry.latest(device.id)).resolves.toEqual({
      status: 200,
      body: { ver: '3.4.5-rc.1' },
    });
  });

  test('verify-version: fail stops before uploading an image that reports another version', async () => {
    const { image } = await builtImage();
    const device = await registry.addDevice(EMAIL);
    const ws = await workspace({ image });
    const result = await ws.run(
      {
        ...deploysTo(device),
        'verify-version': 'fail',
      },
      'refs/tags/v1.2.7',
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/::error::The version string "1\.2\.7" does not appear inside/);
    expect((await registry.latest(device.id)).status).toBe(404);
    expect(await ws.summary()).toContain('not deployed');
  });
});

describe('the OTA client check (verify-ota-client)', () => {
  test('says which client the image carries; warns, by default, when it carries none, and the registry then refuses it', async () => {
    const device = await registry.addDevice(EMAIL);
    const withClient = generateEspImage({
      size: 128 * 1024,
      seed: 31,
      embedString: '/v1/ota/device/latest/',
    });
    const inputs = {
      ...deploysTo(device),
      'verify-version': 'off',
    };
    const first = await workspace({ image: withClient });
    const deployed = await first.run(inputs, 'refs/tags/v1.0.0');
    expect({ code: deployed.code, stderr: deployed.stderr }).toEqual({ code: 0, stderr: '' });
    expect(deployed.stdout).toContain('The image carries an OTA client: iotaap-os.');
    expect(deployed.stdout).not.toContain('::warning::');
    expect(await first.summary()).toMatch(
      /<th>OTA client<\/th>.*<td><code>iotaap-os<\/code><\/td>/s,
    );

    // The next build lost its OTA client: one warning sentence, then the registry's 409.
    const { image } = await builtImage();
    const second = await workspace({ image });
    const refused = await second.run(inputs, 'refs/tags/v1.1.0');
    expect(refused.code).toBe(1);
    const warnings = refused.stdout.split('\n').filter((line) => line.startsWith('::warning::'));
    expect(warnings).toEqual([
      expect.stringMatching(
        /^::warning::\S*firmware\.bin carries no OTA client the registry knows \(IoTaaP OS, Arduino HTTPUpdate or ESP-IDF esp_https_ota\), so devices that install it can never be updated over the air again: [^.]*\.$/,
      ),
    ]);
    expect(refused.stdout).toMatch(
      /::error::The registry refused the upload \(409: "Firmware has no OTA client: devices that install it cannot be updated over the air again \(send force=true to deploy it anyway\)"\)/,
    );
    await expect(registry.latest(device.id)).resolves.toEqual({
      status: 200,
      body: { ver: '1.0.0' },
    });
    expect(await second.summary()).toContain('not deployed');
  });

  test('fail stops before uploading an image without an OTA client', async () => {
    const { image } = await builtImage();
    const device = await registry.addDevice(EMAIL);
    const ws = await workspace({ image });
    const result = await ws.run(
      {
        ...deploysTo(device),
        'verify-version': 'off',
        'verify-ota-client': 'fail',
      },
      'refs/tags/v1.2.7',
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(
      /::error::\S*firmware\.bin carries no OTA client the registry knows/,
    );
    expect(result.stdout).not.toContain('::warning::');
    expect((await registry.latest(device.id)).status).toBe(404);
    expect(await ws.summary()).toContain('not deployed');
  });
});

describe('other ways in', () => {
  test('a published release deploys its tag, logging in with email and password', async () => {
    const { image } = await builtImage();
    const device = await registry.addDevice(EMAIL);
    const ws = await workspace({ image });
    const eventPath = path.join(ws.project, '..', 'event.json');
    await writeFile(
      eventPath,
      JSON.stringify({ action: 'published', release: { tag_name: 'v1.3.0' } }),
    );
    const result = await ws.run(
      {
        'registry-url': registry.url,
        email: EMAIL,
        password: PASSWORD,
        'device-id': device.id,
        'device-token': device.token,
        'verify-version': 'off',
      },
      'refs/tags/v1.3.0',
      {
        GITHUB_EVENT_NAME: 'release',
        GITHUB_EVENT_PATH: eventPath,
      },
    );
    expect(result.code).toBe(0);
    await expect(registry.latest(device.id)).resolves.toEqual({
      status: 200,
      body: { ver: '1.3.0' },
    });
    expect(result.stdout).toContain(`::add-mask::${PASSWORD}`);
    const printed = result.stdout.split('\n').filter((line) => !line.startsWith('::add-mask::'));
    expect(printed.join('\n')).not.toContain(PASSWORD);
  });

  test('installs PlatformIO with pip when pio is missing, then builds', async () => {
    const { image } = await builtImage();
    const device = await registry.addDevice(EMAIL);
    const ws = await workspace({ image, installed: false });
    const result = await ws.run(
      {
        ...deploysTo(device),
        'verify-version': 'off',
      },
      'refs/tags/v1.0.1',
    );
    expect(result.code).toBe(0);
    expect((await ws.pio.calls()).map((call) => [call.tool, ...call.args])).toEqual([
      ['python3', '-m', 'pip', 'install', '--upgrade', 'platformio'],
      ['pio', 'run', '-d', ws.project],
    ]);
    await expect(registry.latest(device.id)).resolves.toEqual({
      status: 200,
      body: { ver: '1.0.1' },
    });
  });

  test('a group deploy reaches the group and says so in the summary', async () => {
    const { image } = await builtImage();
    const group = await registry.addGroup(apiKey);
    const ws = await workspace({ image });
    const result = await ws.run(
      {
        'registry-url': registry.url,
        'api-token': apiKey,
        'group-id': group.id,
        'group-token': group.token,
        'verify-version': 'off',
      },
      'refs/tags/v5.0.0',
    );
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    await expect(registry.latest(group.id, 'group')).resolves.toEqual({
      status: 200,
      body: { ver: '5.0.0' },
    });
    expect(result.stdout).toContain(`::add-mask::${group.token}`);
    expect(await ws.summary()).toContain('<th>Group</th>');
    expect((await ws.outputs())['status']).toBe('deployed');
  });

  test('a prebuilt image with build: false runs no build', async () => {
    const { image } = await builtImage();
    const device = await registry.addDevice(EMAIL);
    const ws = await workspace({ image });
    const prebuilt = path.join(ws.project, 'release.bin');
    await writeFile(prebuilt, image);
    const result = await ws.run(
      {
        ...deploysTo(device),
        build: 'false',
        firmware: 'release.bin',
        version: '4.0.0',
        'verify-version': 'off',
      },
      'refs/heads/main',
    );
    expect(result.code).toBe(0);
    expect(await ws.pio.calls()).toEqual([]);
    expect((await ws.outputs())['firmware']).toBe(prebuilt);
    await expect(registry.latest(device.id)).resolves.toEqual({
      status: 200,
      body: { ver: '4.0.0' },
    });
  });
});

describe('failures a user can act on', () => {
  test('a branch push without a version input says how to fix it', async () => {
    const { image } = await builtImage();
    const device = await registry.addDevice(EMAIL);
    const ws = await workspace({ image });
    const result = await ws.run(
      { 'api-token': apiKey, 'device-id': device.id, 'device-token': device.token },
      'refs/heads/main',
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      '::error::No version: this run was started by push on refs/heads/main, not a tag.',
    );
    expect(await ws.pio.calls()).toEqual([]);
  });

  test('a wrong device token fails with the reason, and the summary says nothing was deployed', async () => {
    const { image } = await builtImage();
    const device = await registry.addDevice(EMAIL);
    const ws = await workspace({ image });
    const result = await ws.run(
      {
        'registry-url': registry.url,
        'api-token': apiKey,
        'device-id': device.id,
        'device-token': 'WrongToken123',
        'verify-version': 'off',
      },
      'refs/tags/v1.2.7',
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(
      /::error::The device token was rejected \(403: .*\)\. Check the secret used for device-token/,
    );
    expect(result.stdout).not.toMatch(/retrying/);
    expect(await ws.summary()).toContain('not deployed');
    expect(await ws.summary()).not.toContain('WrongToken123');
    expect((await registry.latest(device.id)).status).toBe(404);
  });

  test('a revoked or wrong API token says to replace the secret', async () => {
    const { image } = await builtImage();
    const device = await registry.addDevice(EMAIL);
    const ws = await workspace({ image });
    const result = await ws.run(
      {
        'registry-url': registry.url,
        'api-token': 'ota_key_not_a_real_key',
        'device-id': device.id,
        'device-token': device.token,
        'verify-version': 'off',
      },
      'refs/tags/v1.2.7',
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(
      /::error::The registry rejected the API token \(401: "Unauthorized"\)/,
    );
  });

  test('a failed build stops the run before any upload', async () => {
    const { image } = await builtImage();
    const device = await registry.addDevice(EMAIL);
    const ws = await workspace({ image });
    await installFakePio(path.join(ws.pio.binDir, '..'), { image, exitCode: 1 });
    const result = await ws.run(
      {
        ...deploysTo(device),
      },
      'refs/tags/v1.2.7',
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      '::error::pio run failed (exit code 1); see the build output above.',
    );
    expect((await registry.latest(device.id)).status).toBe(404);
  });
});
