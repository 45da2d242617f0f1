import { afterEach, describe, expect, test } from '@jest/globals';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  FirmwareFiles,
  REMOVED_DIR,
  REMOVED_GRACE_MS,
} from '../../../../server/storage/local-files/firmware-files.js';

/** Removal keeps a file in removed/ for its grace period (a backup may still copy it), then deletes it. */
describe('FirmwareFiles removal', () => {
  const dirs: string[] = [];
  afterEach(() =>
    dirs.splice(0).forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })),
  );

  const committed = (files: FirmwareFiles, key: string, text: string) => {
    const temp = files.newTempPath();
    fs.writeFileSync(temp, text);
    files.commit(temp, key);
  };
  const setup = () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ota-files-'));
    dirs.push(dataDir);
    return { dataDir, files: new FirmwareFiles(dataDir) };
  };
  const removedFiles = (dataDir: string) =>
    fs.existsSync(path.join(dataDir, REMOVED_DIR))
      ? (fs.readdirSync(path.join(dataDir, REMOVED_DIR), { recursive: true }) as string[])
          .filter((name) => name.endsWith('firmware.bin'))
          .map((name) => name.split(path.sep).slice(1).join('/'))
      : [];

  test('a removed version leaves its place at once and waits in removed/ under its key', () => {
    const { dataDir, files } = setup();
    const key = FirmwareFiles.keyFor('device', 'a'.repeat(24), '1.0.0');
    committed(files, key, 'one');
    files.remove(key);
    expect(fs.existsSync(path.join(dataDir, key))).toBe(false);
    expect(fs.existsSync(path.dirname(path.join(dataDir, key)))).toBe(false);
    expect(removedFiles(dataDir)).toEqual([key]);
  });

  test('a deleted target waits in removed/ too, every version of it', () => {
    const { dataDir, files } = setup();
    const keys = ['1.0.0', '1.0.1'].map((v) => FirmwareFiles.keyFor('group', 'b'.repeat(24), v));
    keys.forEach((key) => committed(files, key, key));
    files.removeTarget('group', 'b'.repeat(24));
    expect(fs.existsSync(path.join(dataDir, 'ota/group', 'b'.repeat(24)))).toBe(false);
    expect(removedFiles(dataDir).sort()).toEqual(keys);
  });

  test('past the grace period a later removal (or a start) deletes it', () => {
    const { dataDir, files } = setup();
    const old = FirmwareFiles.keyFor('device', 'c'.repeat(24), '1.0.0');
    const recent = FirmwareFiles.keyFor('device', 'c'.repeat(24), '1.0.1');
    committed(files, old, 'old');
    files.remove(old);
    // Age the first removal past the grace period.
    const [batch] = fs.readdirSync(path.join(dataDir, REMOVED_DIR));
    const aged = `${Date.now() - REMOVED_GRACE_MS - 1000}-aged`;
    fs.renameSync(path.join(dataDir, REMOVED_DIR, batch), path.join(dataDir, REMOVED_DIR, aged));
    committed(files, recent, 'recent');
    files.remove(recent);
    expect(removedFiles(dataDir)).toEqual([recent]);

    const agedAgain = `${Date.now() - REMOVED_GRACE_MS - 1000}-aged`;
    const [only] = fs.readdirSync(path.join(dataDir, REMOVED_DIR));
    fs.renameSync(
      path.join(dataDir, REMOVED_DIR, only),
      path.join(dataDir, REMOVED_DIR, agedAgain),
    );
    expect(files.removeLeftoverTempFiles()).toBe(0);
    expect(removedFiles(dataDir)).toEqual([]);
  });

  test('removing a key that is already gone is not an error and leaves nothing behind', () => {
    const { dataDir, files } = setup();
    files.remove(FirmwareFiles.keyFor('device', 'd'.repeat(24), '9.9.9'));
    expect(fs.readdirSync(path.join(dataDir, REMOVED_DIR))).toEqual([]);
  });
});
