import { describe, expect, test } from '@jest/globals';
import { DeployError } from '../../action/errors.js';
import { buildFlags, PlatformIO, versionFlag } from '../../action/platformio.js';
import { FakeRunner, RecordingLogger } from './fakes.js';

describe('the version flag', () => {
  test('is a C string literal with its quotes escaped for the build flag parser', () => {
    expect(versionFlag('1.2.7')).toBe('-DFIRMWARE_VERSION=\\"1.2.7\\"');
  });

  test('is appended to flags the user already set', () => {
    expect(buildFlags('-DDEBUG=1 -Os', '1.2.7')).toBe(
      '-DDEBUG=1 -Os -DFIRMWARE_VERSION=\\"1.2.7\\"',
    );
    expect(buildFlags(undefined, '1.2.7')).toBe('-DFIRMWARE_VERSION=\\"1.2.7\\"');
    expect(buildFlags('  ', '1.2.7')).toBe('-DFIRMWARE_VERSION=\\"1.2.7\\"');
  });
});

describe('locate', () => {
  test('uses pio from PATH', async () => {
    const runner = new FakeRunner({ pio: '/usr/local/bin/pio' });
    const pio = new PlatformIO(runner, new RecordingLogger(), {});
    await expect(pio.locate(true)).resolves.toEqual({ command: '/usr/local/bin/pio', args: [] });
    expect(runner.runs).toEqual([]);
  });

  test('accepts the long name platformio', async () => {
    const runner = new FakeRunner({ platformio: '/opt/bin/platformio' });
    await expect(new PlatformIO(runner, new RecordingLogger(), {}).locate(false)).resolves.toEqual({
      command: '/opt/bin/platformio',
      args: [],
    });
  });

  test('installs PlatformIO with pip when pio is missing', async () => {
    const runner = new FakeRunner({ python3: '/usr/bin/python3' }, (run) => {
      // pip puts the pio script on PATH, as it does in actions/setup-python's Python.
      if (run.args.includes('install')) runner.tools['pio'] = '/home/runner/.local/bin/pio';
      return 0;
    });
    const logger = new RecordingLogger();
    await expect(new PlatformIO(runner, logger, {}).locate(true)).resolves.toEqual({
      command: '/home/runner/.local/bin/pio',
      args: [],
    });
    expect(runner.runs.map((r) => [r.command, ...r.args])).toEqual([
      ['/usr/bin/python3', '-m', 'pip', 'install', '--upgrade', 'platformio'],
    ]);
    expect(logger.lines).toContain('PlatformIO (pio) is not on PATH; installing it with pip.');
  });

  test('runs it as a Python module when pip put no script on PATH', async () => {
    const runner = new FakeRunner({ python: '/usr/bin/python' });
    await expect(new PlatformIO(runner, new RecordingLogger(), {}).locate(true)).resolves.toEqual({
      command: '/usr/bin/python',
      args: ['-m', 'platformio'],
    });
  });

  test('does not install when told not to', async () => {
    const runner = new FakeRunner({ python3: '/usr/bin/python3' });
    await expect(new PlatformIO(runner, new RecordingLogger(), {}).locate(false)).rejects.toThrow(
      /PlatformIO \(pio\) is not on PATH\. Install it before this step/,
    );
    expect(runner.runs).toEqual([]);
  });

  test('says what to do when pip fails', async () => {
    const runner = new FakeRunner({ python3: '/usr/bin/python3' }, () => 1);
    await expect(new PlatformIO(runner, new RecordingLogger(), {}).locate(true)).rejects.toThrow(
      /pip install platformio failed \(exit code 1\).*actions\/setup-python/,
    );
  });

  test('says what to do without Python', async () => {
    await expect(
      new PlatformIO(new FakeRunner(), new RecordingLogger(), {}).locate(true),
    ).rejects.toThrow(/no Python to install it with: add actions\/setup-python/);
  });
});

describe('build', () => {
  test('runs pio run for the project and environment, with the version defined', async () => {
    const runner = new FakeRunner();
    const pio = new PlatformIO(runner, new RecordingLogger(), {
      PLATFORMIO_BUILD_FLAGS: '-DDEBUG=1',
    });
    await pio.build(
      { command: 'pio', args: [] },
      { projectDir: '/p', environment: 'esp32dev', injectVersion: '1.2.7' },
    );
    expect(runner.runs).toEqual([
      {
        command: 'pio',
        args: ['run', '-d', '/p', '-e', 'esp32dev'],
        options: { env: { PLATFORMIO_BUILD_FLAGS: '-DDEBUG=1 -DFIRMWARE_VERSION=\\"1.2.7\\"' } },
      },
    ]);
  });

  test('leaves the flags alone when not injecting, and builds the default envs without -e', async () => {
    const runner = new FakeRunner();
    await new PlatformIO(runner, new RecordingLogger(), {}).build(
      { command: 'python3', args: ['-m', 'platformio'] },
      { projectDir: '/p' },
    );
    expect(runner.runs).toEqual([
      { command: 'python3', args: ['-m', 'platformio', 'run', '-d', '/p'], options: { env: {} } },
    ]);
  });

  test('fails when the build fails', async () => {
    const runner = new FakeRunner({}, () => 2);
    await expect(
      new PlatformIO(runner, new RecordingLogger(), {}).build(
        { command: 'pio', args: [] },
        { projectDir: '/p' },
      ),
    ).rejects.toThrow(new DeployError('pio run failed (exit code 2); see the build output above.'));
  });
});
