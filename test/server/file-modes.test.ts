import { describe, expect, test } from '@jest/globals';
import fs from 'node:fs';
import path from 'node:path';
import { generateEspImage } from '../support/esp-image-generator.js';
import { deployTo } from '../support/fleet.js';
import { startRegistry, tempDataDir } from '../support/registry.js';

/** Every entry under `dir` (itself included): its permission bits as `0755`-style text, and whether it is private. */
function modes(dir: string): Record<string, { mode: string; private: boolean }> {
  const found: Record<string, { mode: string; private: boolean }> = {};
  const walk = (at: string) => {
    const stat = fs.statSync(at);
    const mode = (stat.mode & 0o777).toString(8).padStart(4, '0');
    found[path.relative(dir, at) || '.'] = {
      mode,
      private: mode === (stat.isDirectory() ? '0700' : '0600'),
    };
    if (stat.isDirectory()) for (const name of fs.readdirSync(at)) walk(path.join(at, name));
  };
  walk(dir);
  return found;
}

function expectPrivate(found: ReturnType<typeof modes>): void {
  for (const [entry, { mode, private: isPrivate }] of Object.entries(found)) {
    expect({ entry, mode, isPrivate }).toEqual({ entry, mode, isPrivate: true });
  }
}

describe('file modes', () => {
  test('the database and firmware files are the registry user’s only (0600, directories 0700), also those an older version wrote', async () => {
    const dataDir = tempDataDir();
    const first = await startRegistry({}, dataDir);
    const apiKey = await first.addUser();
    const device = await first.addDevice(apiKey);
    await deployTo(first, apiKey, 'device', device, '1.0.0', generateEspImage({ seed: 81 }));
    const fresh = modes(dataDir);
    await first.close();
    expect(Object.keys(fresh)).toEqual(
      expect.arrayContaining([
        '.',
        'registry.db',
        'tmp',
        `ota/device/${device.id}/1.0.0/firmware.bin`,
      ]),
    );
    expectPrivate(fresh);

    // What an older registry left: world-readable files and directories.
    for (const entry of Object.keys(modes(dataDir))) {
      const at = path.join(dataDir, entry);
      fs.chmodSync(at, fs.statSync(at).isDirectory() ? 0o755 : 0o644);
    }
    const second = await startRegistry({}, dataDir);
    try {
      expectPrivate(modes(dataDir));
    } finally {
      await second.close();
    }
  });
});
