import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { FirmwareCache } from './firmware-cache.js';
import { UploadSpool } from './upload-spool.js';
import { PRIVATE_DIR } from '../file-modes.js';
import { firmwareKey, type FirmwareBody, type FirmwareStore } from '../firmware-store.js';

/** Up to 64 MiB of hot images in memory, none over 16 MiB (a release is a handful of files). */
const CACHE = { maxBytes: 64 * 1024 * 1024, maxEntryBytes: 16 * 1024 * 1024 };

/**
 * How long a removed firmware file stays in `removed/` before it is deleted: a backup that took
 * its database snapshot before the removal still finds the file there (storage/sqlite/backup.ts).
 */
export const REMOVED_GRACE_MS = 60 * 60 * 1000;

/**
 * Firmware bytes on the local disk (the default engine), addressed by storage key
 * (`ota/device/<device-id>/<version>/firmware.bin`, the `path` the API shows).
 *
 * Uploads are written to `tmp/` inside the same data directory (so the final rename is on one
 * file system, hence atomic) and become visible only through `commit`. A crash at any moment
 * leaves either the old state or the new one: at worst a temporary file (removed at the next
 * start) or a committed file that no record points to yet (overwritten by the next upload of
 * that version, since records are written after the rename).
 */
/** The data directory's folder of removed firmware files (see FirmwareFiles.remove). */
export const REMOVED_DIR = 'removed';

export class FirmwareFiles implements FirmwareStore {
  readonly kind = 'local-files';
  readonly description: string;
  /** Removed files, each under `<removal time in ms>-<random>/<its storage key>`. */
  readonly removedDir: string;
  private readonly spool: UploadSpool;
  private readonly cache = new FirmwareCache(CACHE.maxBytes, CACHE.maxEntryBytes);

  constructor(private readonly dataDir: string) {
    this.spool = new UploadSpool(dataDir);
    this.removedDir = path.join(dataDir, REMOVED_DIR);
    this.description = `files in ${dataDir}`;
  }

  static keyFor(kind: 'device' | 'group', targetId: string, version: string): string {
    return firmwareKey(kind, targetId, version);
  }

  newTempPath(): string {
    return this.spool.newTempPath();
  }

  /**
   * Removes what earlier runs left in tmp/ (uploads cut short by a crash) and removed files past
   * their grace period; returns how many temporary files there were.
   */
  removeLeftoverTempFiles(): number {
    const removed = this.spool.removeLeftoverTempFiles();
    this.sweepRemoved();
    return removed;
  }

  /** The fsynced file in tmp/ is already durable on this disk: the rename in `commit` publishes it. */
  async stage(): Promise<void> {}

  /** Removes the file in tmp/ unless `commit` renamed it. */
  settle(tempPath: string): Promise<void> {
    return this.spool.discard(tempPath);
  }

  /** Files go with their records (`remove`, `removeTarget`, then removed/): nothing to sweep. */
  async sweep(): Promise<number> {
    return 0;
  }

  close(): void {}

  /**
   * Moves a finished temporary file (already fsynced) to its key, durably: the directory entry
   * is fsynced too, so once this returns a record may point at the file.
   */
  commit(tempPath: string, key: string): void {
    const target = this.resolve(key);
    fs.mkdirSync(path.dirname(target), { recursive: true, mode: PRIVATE_DIR });
    fs.renameSync(tempPath, target);
    fsyncDirectory(path.dirname(target));
  }

  /** Opens a committed file for reading; the open handle survives a later removal. */
  open(key: string): Promise<fs.promises.FileHandle> {
    return fs.promises.open(this.resolve(key), 'r');
  }

  /**
   * The bytes to serve for a committed file: from the in-memory cache when its size allows
   * (read once, by SHA-256), else an open file for the caller to stream and close.
   */
  async body(key: string, sha256: string, size: number): Promise<FirmwareBody> {
    if (!this.cache.accepts(size)) return this.open(key);
    return this.cache.get(sha256, () => fs.promises.readFile(this.resolve(key)));
  }

  /**
   * Removes a committed file once no record names it. It is moved to `removed/` rather than
   * deleted, for REMOVED_GRACE_MS (a backup in progress may still copy it), and is deleted by a
   * later removal or start once that time has passed.
   */
  remove(key: string): void {
    const target = this.resolve(key);
    this.moveToRemoved(target);
    // Drop the now-empty version directory; leave it if anything else is in it.
    try {
      fs.rmdirSync(path.dirname(target));
    } catch {
      // not empty, or already gone
    }
  }

  /** Removes every file of one device or group (when it is deleted), as `remove` does. */
  removeTarget(kind: 'device' | 'group', targetId: string): void {
    this.moveToRemoved(this.resolve(`ota/${kind}/${targetId}`));
  }

  private moveToRemoved(target: string): void {
    const batch = `${Date.now()}-${randomBytes(4).toString('hex')}`;
    const to = path.join(this.removedDir, batch, path.relative(this.dataDir, target));
    fs.mkdirSync(path.dirname(to), { recursive: true, mode: PRIVATE_DIR });
    try {
      fs.renameSync(target, to);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      fs.rmSync(path.join(this.removedDir, batch), { recursive: true, force: true });
    }
    this.sweepRemoved();
  }

  /** Deletes removed files past their grace period. */
  private sweepRemoved(now = Date.now()): void {
    let batches: string[];
    try {
      batches = fs.readdirSync(this.removedDir);
    } catch {
      return;
    }
    for (const batch of batches) {
      const removedAt = Number.parseInt(batch, 10);
      if (removedAt > now - REMOVED_GRACE_MS && removedAt <= now) continue;
      fs.rmSync(path.join(this.removedDir, batch), { recursive: true, force: true });
    }
  }

  /** Maps a key to a path, refusing anything that would leave the data directory. */
  private resolve(key: string): string {
    const target = path.resolve(this.dataDir, key);
    if (!target.startsWith(path.resolve(this.dataDir, 'ota') + path.sep)) {
      throw new Error(`storage key outside the data directory: ${key}`);
    }
    return target;
  }
}

export function fsyncFile(file: string): void {
  const fd = fs.openSync(file, 'r+');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function fsyncDirectory(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
