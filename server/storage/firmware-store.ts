import type { Readable } from 'node:stream';

/** A firmware's bytes when they are not in memory: streamed (whole or one range), then closed. */
export interface FirmwareSource {
  /** The bytes from `start` to `end` (inclusive), the whole file without them. */
  createReadStream(range?: { start?: number; end?: number }): Readable;
  /** Releases what the source holds when it will not be streamed (streaming releases it). */
  close(): Promise<void>;
}

/** A served firmware's bytes: from memory when they are cached, else a source to stream. */
export type FirmwareBody = Buffer | FirmwareSource;

/**
 * Where firmware bytes live, whichever engine holds them (local-files/, s3/). Services see only
 * this; the records (otas.path) name the bytes by key, and every engine keys by the same
 * `firmwareKey`, so the API answers the same on every engine.
 *
 * An upload goes through these steps, and a crash (SIGKILL) at any point between them leaves
 * nothing half-written that is served:
 * 1. `newTempPath()`: the upload streams into a private file in the data directory's tmp/, hashed
 *    and validated on the way, and is fsynced (middleware/firmware-upload.ts).
 * 2. `stage()`: the complete bytes are stored where the engine keeps them, under no record yet
 *    (S3: the object named by its SHA-256; local files: nothing more to do).
 * 3. `commit()`, inside the database transaction that makes the upload current: the bytes are
 *    those of the key (local files: the rename).
 * 4. `settle()`, when the request ends (committed or not): the spooled file goes; S3 checks that
 *    the object is still there (see S3FirmwareStore.sweep) and stores it again if not.
 */
export interface FirmwareStore {
  /** Which engine holds the bytes: files in the data directory, or an S3-compatible bucket. */
  readonly kind: 'local-files' | 's3';
  /** For the start-up line: the data directory's files, or the bucket (never credentials). */
  readonly description: string;
  /** A fresh path in tmp/ for an upload in progress; create it with mode PRIVATE_FILE. */
  newTempPath(): string;
  /** Removes what earlier runs left in tmp/ (uploads cut short by a crash); returns how many. */
  removeLeftoverTempFiles(): number;
  /** Step 2: stores a complete, fsynced upload before any record names it. */
  stage(tempPath: string, sha256: string, size: number): Promise<void>;
  /** Step 3, synchronous, inside the deploy transaction: the staged bytes become `key`'s. */
  commit(tempPath: string, key: string): void;
  /** Step 4: the request is over; the spooled file goes (the committed bytes stay). */
  settle(tempPath: string, sha256: string, size: number): Promise<void>;
  /**
   * The bytes to serve for a committed key: from the in-memory cache when the size allows (read
   * once, by SHA-256), else a source for the caller to stream and close. Missing bytes reject
   * with an error whose `code` is `ENOENT`, whatever the engine.
   */
  body(key: string, sha256: string, size: number): Promise<FirmwareBody>;
  /** After the records that named `key` are gone (pruned history). */
  remove(key: string): void;
  /** After a device's or group's records are gone. */
  removeTarget(kind: 'device' | 'group', targetId: string): void;
  /**
   * Removes stored bytes that no record names any more and that are older than a grace period
   * (S3, whose objects records share); returns how many. The local engine removes files with
   * their records, so it has nothing to sweep.
   */
  sweep(): Promise<number>;
  /** Releases the engine's connections; the store is not used afterwards. */
  close(): void;
}

/** The storage key of a version's bytes: what otas.path holds and the API shows. */
export function firmwareKey(kind: 'device' | 'group', targetId: string, version: string): string {
  return `ota/${kind}/${targetId}/${version}/firmware.bin`;
}
