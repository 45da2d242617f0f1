import { afterAll, afterEach, beforeEach, describe, expect, jest, test } from '@jest/globals';
import nock from 'nock';
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { ConsoleLogger } from '../../action/console-logger.js';
import { CoreLogger } from '../../action/core-logger.js';
import { deploy } from '../../action/deploy.js';
import { captureStdout } from '../support/stdout.js';
import { FakeRunner, fakeImage, tempDir, writeImage } from './fakes.js';

const REGISTRY = 'https://registry.test';
let stdout: string[];

beforeEach(() => {
  stdout = captureStdout();
  nock.disableNetConnect();
});

afterEach(() => {
  jest.restoreAllMocks();
  nock.cleanAll();
  nock.enableNetConnect();
});
// nock patches node:http for the whole Jest worker: later test files must get it back.
afterAll(() => nock.restore());

describe('the Action', () => {
  test('asks the runner to mask every secret and derived value before printing them', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'platformio.ini'), '[env:esp32dev]\n');
    await writeImage(dir, '.pio/build/esp32dev/firmware.bin', fakeImage(4096, '1.2.7'));
    const password = 'S3cret "pass"/word';
    nock(REGISTRY)
      .post('/v1/auth/login')
      .reply(200, { token: 'SessionToken123' })
      .post('/v1/ota/device')
      .reply(403, { message: 'Device token is not valid' });

    const error = (await deploy(
      {
        registryUrl: REGISTRY,
        credentials: { kind: 'login', email: 'ci@example.com', password },
        target: { kind: 'device', id: '5e1b57808711f904f5df4bad', token: 'DeviceTok99' },
        version: '1.2.7',
        projectDir: dir,
        build: false,
        installPlatformio: false,
        injectVersion: true,
        verifyVersion: 'warn',
        verifyOtaClient: 'off',
        retries: 0,
      },
      { logger: new CoreLogger(), runner: new FakeRunner() },
    ).catch((e: unknown) => e)) as Error;

    expect(error.message).toMatch(/device token was rejected/);
    const masks = stdout
      .filter((line) => line.startsWith('::add-mask::'))
      .map((line) => unescapeCommand(line.slice(12, -1)));
    expect(masks).toEqual(
      expect.arrayContaining([
        'DeviceTok99',
        '5e1b57808711f904f5df4badDeviceTok99',
        password,
        'S3cret \\"pass\\"/word',
        encodeURIComponent(password),
        'SessionToken123',
      ]),
    );
    const printed = stdout.filter((line) => !line.startsWith('::add-mask::')).join('');
    for (const secret of ['DeviceTok99', 'S3cret', 'SessionToken123']) {
      expect(printed).not.toContain(secret);
      expect(error.message).not.toContain(secret);
    }
  });
});

/** Workflow commands escape %, CR and LF in their data. */
function unescapeCommand(data: string): string {
  return data.replace(/%0D/g, '\r').replace(/%0A/g, '\n').replace(/%25/g, '%');
}

describe('the CLI logger', () => {
  test('masks secrets itself, the longest first', () => {
    const lines: string[] = [];
    const logger = new ConsoleLogger({ write: (line) => lines.push(line), verbose: true });
    logger.setSecret('abc');
    logger.setSecret('abcdef');
    logger.setSecret('');
    logger.info('token abcdef and abc, twice abc');
    logger.warning('abcdefabc');
    logger.debug('x abc');
    expect(lines).toEqual(['token *** and ***, twice ***', 'warning: ******', 'debug: x ***']);
  });

  test('prints debug lines only when verbose', () => {
    const lines: string[] = [];
    new ConsoleLogger({ write: (line) => lines.push(line) }).debug('hidden');
    expect(lines).toEqual([]);
  });
});
