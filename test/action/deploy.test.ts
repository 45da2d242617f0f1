import { afterAll, afterEach, beforeAll, describe, expect, test } from '@jest/globals';
import nock from 'nock';
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { deploy } from '../../action/deploy.js';
import { DeployError } from '../../action/errors.js';
import * as messages from '../../action/messages.js';
import type { DeploySettings } from '../../action/settings.js';
import { Messages } from '../../server/errors.js';
import {
  FakeRunner,
  fakeImage,
  recordingSleep,
  RecordingLogger,
  registryImageMessage,
  tempDir,
  writeImage,
} from './fakes.js';
import { md5, sha256 } from '../support/hashes.js';

const REGISTRY = 'https://registry.test';
const DEVICE = { kind: 'device' as const, id: '5e1b57808711f904f5df4bad', token: 'DevT0ken42' };

beforeAll(() => {
  nock.disableNetConnect();
});
afterEach(() => {
  nock.cleanAll();
});
afterAll(() => {
  nock.enableNetConnect();
  // nock patches node:http for the whole Jest worker: later test files must get it back.
  nock.restore();
});

async function project(): Promise<string> {
  const dir = await tempDir();
  await writeFile(path.join(dir, 'platformio.ini'), '[env:esp32dev]\nplatform = espressif32\n');
  return dir;
}

function settings(projectDir: string, overrides: Partial<DeploySettings> = {}): DeploySettings {
  return {
    registryUrl: REGISTRY,
    credentials: { kind: 'api-token', apiToken: 'ApiKeyQ9' },
    target: DEVICE,
    version: '1.2.7',
    projectDir,
    build: true,
    installPlatformio: true,
    injectVersion: true,
    verifyVersion: 'warn',
    verifyOtaClient: 'warn',
    retries: 3,
    ...overrides,
  };
}

/** A runner whose `pio run` writes `image` where PlatformIO would. */
function buildingRunner(projectDir: string, image: Buffer): FakeRunner {
  return new FakeRunner({ pio: '/usr/bin/pio' }, async (run) => {
    const e = run.args.indexOf('-e');
    const env = e === -1 ? 'esp32dev' : run.args[e + 1];
    await writeImage(projectDir, `.pio/build/${env}/firmware.bin`, image);
    return 0;
  });
}

describe('deploy', () => {
  test('builds with the version, uploads, and reports what it did', async () => {
    const dir = await project();
    const image = fakeImage(50_000, '1.2.7', 'x-ESP32-sketch-md5');
    const runner = buildingRunner(dir, image);
    const logger = new RecordingLogger();
    nock(REGISTRY).post('/v1/ota/device').reply(201, { message: 'Firmware successfully deployed' });

    const result = await deploy(settings(dir, { environment: 'esp32dev' }), { logger, runner });

    expect(runner.runs).toEqual([
      {
        command: '/usr/bin/pio',
        args: ['run', '-d', dir, '-e', 'esp32dev'],
        options: { env: { PLATFORMIO_BUILD_FLAGS: '-DFIRMWARE_VERSION=\\"1.2.7\\"' } },
      },
    ]);
    expect(result).toEqual({
      registryUrl: REGISTRY,
      target: { kind: 'device', id: DEVICE.id },
      version: '1.2.7',
      firmware: path.join(dir, '.pio/build/esp32dev/firmware.bin'),
      size: image.length,
      chip: 'esp32',
      sha256: sha256(image),
      md5: md5(image),
      status: 'deployed',
      message: 'Firmware successfully deployed',
      versionFound: true,
      otaClient: ['httpupdate'],
    });
    expect(logger.lines).toContain('The image carries an OTA client: httpupdate.');
    expect(logger.warnings).toEqual([]);
  });

  test('uploads a prebuilt image without running anything', async () => {
    const dir = await project();
    const file = await writeImage(dir, 'prebuilt/app.bin', fakeImage(2048, '1.2.7'));
    const runner = new FakeRunner();
    nock(REGISTRY).post('/v1/ota/device').reply(200, { message: 'Firmware already deployed' });
    const result = await deploy(settings(dir, { build: false, firmware: file }), {
      logger: new RecordingLogger(),
      runner,
    });
    expect(runner.runs).toEqual([]);
    expect(result).toMatchObject({ firmware: file, status: 'already-deployed' });
  });

  test('debug lines (--verbose) say the settings, the firmware chosen and each HTTP attempt, no secret', async () => {
    const dir = await project();
    const logger = new RecordingLogger();
    nock(REGISTRY).post('/v1/ota/device').reply(503, {});
    nock(REGISTRY).post('/v1/ota/device').reply(201, {});
    await writeImage(dir, '.pio/build/esp32dev/firmware.bin', fakeImage());
    await deploy(settings(dir, { build: false }), {
      logger,
      runner: new FakeRunner(),
      sleep: recordingSleep().sleep,
    });
    const debug = logger.lines.filter((line) => line.startsWith('debug: '));
    expect(debug[0]).toMatch(
      /^debug: Settings: \{"registryUrl":"https:\/\/registry.test",.*"credentials":"api-token"/,
    );
    expect(debug).toContain(
      `debug: Firmware: ${path.join(dir, '.pio/build/esp32dev/firmware.bin')} (the build of environment "esp32dev").`,
    );
    expect(debug).toEqual(
      expect.arrayContaining([
        `debug: POST ${REGISTRY}/v1/ota/device (attempt 1 of 4)`,
        expect.stringMatching(/^debug: Upload: the registry answered 503 after \d+ ms$/),
        `debug: POST ${REGISTRY}/v1/ota/device (attempt 2 of 4)`,
        expect.stringMatching(/^debug: Upload: the registry answered 201 after \d+ ms$/),
      ]),
    );
    for (const line of debug) expect(line).not.toMatch(/ApiKeyQ9|DevT0ken42/);
  });

  test('warns, by default, when the version is not inside the image', async () => {
    const dir = await project();
    const runner = buildingRunner(dir, fakeImage(4096, '1.2.6', 'ESP32-http-Update'));
    const logger = new RecordingLogger();
    nock(REGISTRY).post('/v1/ota/device').reply(201, {});
    const result = await deploy(settings(dir), { logger, runner });
    const file = path.join(dir, '.pio/build/esp32dev/firmware.bin');
    expect(logger.warnings).toEqual([`warning: ${messages.versionMissing('1.2.7', file)}`]);
    expect(logger.warnings[0]).toMatch(/updates forever/);
    expect(result.versionFound).toBe(false);
  });

  test('fails before uploading with verify-version: fail', async () => {
    const dir = await project();
    const runner = buildingRunner(dir, fakeImage(4096));
    const error = await deploy(settings(dir, { verifyVersion: 'fail' }), {
      logger: new RecordingLogger(),
      runner,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeployError);
    expect((error as Error).message).toMatch(/does not appear inside .*updates forever/);
    expect(nock.pendingMocks()).toEqual([]);
  });

  test('skips the check with verify-version: off', async () => {
    const dir = await project();
    const logger = new RecordingLogger();
    nock(REGISTRY).post('/v1/ota/device').reply(201, {});
    const result = await deploy(settings(dir, { verifyVersion: 'off' }), {
      logger,
      runner: buildingRunner(dir, fakeImage(4096, '/v1/ota/group/latest/')),
    });
    expect(result.versionFound).toBeUndefined();
    expect(logger.warnings).toEqual([]);
  });

  test('warns, by default, that an image without an OTA client is the last one devices install', async () => {
    const dir = await project();
    const logger = new RecordingLogger();
    nock(REGISTRY).post('/v1/ota/device').reply(201, {});
    const result = await deploy(settings(dir), {
      logger,
      runner: buildingRunner(dir, fakeImage(4096, '1.2.7')),
    });
    const file = path.join(dir, '.pio/build/esp32dev/firmware.bin');
    expect(logger.warnings).toEqual([`warning: ${messages.otaClientMissing(file)}`]);
    expect(logger.warnings[0]).toMatch(/can never be updated over the air again/);
    expect(result).toMatchObject({ status: 'deployed', otaClient: [] });
  });

  test('fails before uploading with verify-ota-client: fail, and not when a client is there', async () => {
    const dir = await project();
    const error = await deploy(settings(dir, { verifyOtaClient: 'fail' }), {
      logger: new RecordingLogger(),
      runner: buildingRunner(dir, fakeImage(4096, '1.2.7')),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeployError);
    expect((error as Error).message).toBe(
      messages.otaClientMissing(path.join(dir, '.pio/build/esp32dev/firmware.bin')),
    );

    nock(REGISTRY).post('/v1/ota/device').reply(201, {});
    const result = await deploy(settings(dir, { verifyOtaClient: 'fail' }), {
      logger: new RecordingLogger(),
      runner: buildingRunner(dir, fakeImage(4096, '1.2.7', '/v1/ota/device/latest/')),
    });
    expect(result).toMatchObject({ status: 'deployed', otaClient: ['iotaap-os'] });
    expect(nock.pendingMocks()).toEqual([]);
  });

  test('skips the OTA client check with verify-ota-client: off', async () => {
    const dir = await project();
    const logger = new RecordingLogger();
    nock(REGISTRY).post('/v1/ota/device').reply(201, {});
    const result = await deploy(settings(dir, { verifyOtaClient: 'off' }), {
      logger,
      runner: buildingRunner(dir, fakeImage(4096, '1.2.7')),
    });
    expect(result.otaClient).toBeUndefined();
    expect(logger.warnings).toEqual([]);
  });

  test("the registry's OTA client refusal says what it means and how to deploy anyway", async () => {
    const dir = await project();
    nock(REGISTRY).post('/v1/ota/device').reply(409, { message: Messages.otaClientMissing });
    const error = await deploy(settings(dir, { verifyOtaClient: 'off' }), {
      logger: new RecordingLogger(),
      runner: buildingRunner(dir, fakeImage(4096, '1.2.7')),
    }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(
      /^The registry refused the upload \(409: "Firmware has no OTA client: .*"\): this device is served firmware with an OTA client .*force=true/,
    );
  });

  test('refuses a file that is not an ESP image, such as the .elf', async () => {
    const dir = await project();
    const elf = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46]), Buffer.alloc(100)]);
    const file = await writeImage(dir, 'firmware.elf', elf);
    await expect(
      deploy(settings(dir, { build: false, firmware: file }), {
        logger: new RecordingLogger(),
        runner: new FakeRunner(),
      }),
    ).rejects.toThrow(messages.invalidImage(file, registryImageMessage(elf)));
  });

  test('logs in with email and password and uploads with the session token', async () => {
    const dir = await project();
    let authorization: string | undefined;
    nock(REGISTRY)
      .post('/v1/auth/login', { email: 'ci@example.com', password: 'p@ss w"rd' })
      .reply(200, { user: { id: 'u', role: 'user' }, token: 'SessionTok' })
      .post('/v1/ota/device')
      .reply(function () {
        authorization = String(this.req.headers['authorization']);
        return [201, {}];
      });
    const logger = new RecordingLogger();
    await deploy(
      settings(dir, {
        credentials: { kind: 'login', email: 'ci@example.com', password: 'p@ss w"rd' },
      }),
      { logger, runner: buildingRunner(dir, fakeImage(4096, '1.2.7')) },
    );
    expect(authorization).toBe('Bearer SessionTok');
    expect(logger.secrets).toContain('SessionTok');
  });
});

describe('masking', () => {
  test('registers every secret and derived value before anything is logged', async () => {
    const dir = await project();
    const password = 'p@ss w"rd';
    const logger = new RecordingLogger();
    const order: string[] = [];
    const originalInfo = logger.info.bind(logger);
    logger.info = (message) => {
      order.push(`info:${logger.secrets.length}`);
      originalInfo(message);
    };
    nock(REGISTRY)
      .post('/v1/auth/login')
      .reply(200, { token: 'SessionTok' })
      .post('/v1/ota/device')
      .reply(201, {});
    await deploy(
      settings(dir, { credentials: { kind: 'login', email: 'ci@example.com', password } }),
      {
        logger,
        runner: buildingRunner(dir, fakeImage(4096, '1.2.7')),
      },
    );
    expect(logger.secrets).toEqual(
      expect.arrayContaining([
        DEVICE.token,
        `${DEVICE.id}${DEVICE.token}`,
        password,
        'p@ss w\\"rd',
        encodeURIComponent(password),
        'SessionTok',
      ]),
    );
    expect(order[0]).not.toBe('info:0');
  });

  test('no secret appears in the log of a deploy, nor in its errors', async () => {
    const dir = await project();
    const logger = new RecordingLogger();
    const { sleep } = recordingSleep();
    nock(REGISTRY)
      .post('/v1/ota/device')
      .reply(503, { message: 'Busy' })
      .post('/v1/ota/device')
      .reply(401, { message: 'Unauthorized' });
    const error = (await deploy(settings(dir), {
      logger,
      runner: buildingRunner(dir, fakeImage(4096, '1.2.7')),
      sleep,
    }).catch((e: unknown) => e)) as Error;
    expect(error.message).toMatch(/rejected the API token/);
    for (const text of [...logger.lines, error.message]) {
      expect(text).not.toContain('ApiKeyQ9');
      expect(text).not.toContain(DEVICE.token);
    }
    expect(logger.secrets).toEqual(expect.arrayContaining(['ApiKeyQ9', DEVICE.token]));
  });
});

describe('a dry run', () => {
  test('builds and checks, says what it would upload where, and sends nothing', async () => {
    const dir = await project();
    const image = fakeImage(40_000, '1.2.7', 'x-ESP32-sketch-md5');
    const runner = buildingRunner(dir, image);
    const logger = new RecordingLogger();
    // No interceptor and no network: any request at all would fail the deploy.
    const result = await deploy(
      settings(dir, {
        dryRun: true,
        credentials: { kind: 'login', email: 'ci@example.com', password: 'pw-Secret1' },
      }),
      { logger, runner },
    );

    expect(runner.runs.map((run) => run.args[0])).toEqual(['run']);
    const firmware = path.join(dir, '.pio/build/esp32dev/firmware.bin');
    const message = `Dry run: would upload ${firmware} (${image.length} bytes) as version 1.2.7 to device ${DEVICE.id} with POST ${REGISTRY}/v1/ota/device, after logging in with email and password. Nothing was sent to the registry.`;
    expect(result).toEqual({
      registryUrl: REGISTRY,
      target: { kind: 'device', id: DEVICE.id },
      version: '1.2.7',
      firmware,
      size: image.length,
      chip: 'esp32',
      sha256: sha256(image),
      md5: md5(image),
      status: 'dry-run',
      message,
      versionFound: true,
      otaClient: ['httpupdate'],
      triggered: undefined,
    });
    expect(logger.lines).toContain(message);
    expect(logger.lines).not.toContain('Logging in to the registry.');
    expect(logger.lines[0]).toMatch(/^ota-deploy \d+\.\d+\.\d+/);
  });

  test('still fails on what a real deploy would fail on before uploading', async () => {
    const dir = await project();
    await writeImage(dir, '.pio/build/esp32dev/firmware.bin', fakeImage(4096));
    await expect(
      deploy(settings(dir, { build: false, dryRun: true, verifyVersion: 'fail' }), {
        logger: new RecordingLogger(),
        runner: new FakeRunner(),
      }),
    ).rejects.toThrow(DeployError);
  });
});
