import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Messages } from '../../errors.js';
import { REMOVED_DIR, REMOVED_GRACE_MS, fsyncFile } from '../local-files/firmware-files.js';

/** A backup that cannot be made as asked (no registry there, a target in use): a bad argument. */
export class BackupError extends Error {
  override name = 'BackupError';
}

export interface BackupSummary {
  /** Where the backup is: a data directory a registry can be started on. */
  dir: string;
  /** Firmware versions the backed-up records name (each one a file in the backup). */
  versions: number;
  /** Their bytes. */
  bytes: number;
  /** Of those versions, how many the server removed while the backup ran (copied from `removed/`). */
  removedMeanwhile: number;
}

interface StoredFile {
  path: string;
  size: number;
  sha256: string;
}

/**
 * Copies the registry in `dataDir` (a server may be running on it) into `target`, a new or empty
 * directory, as a data directory of its own: `registry.db` and every firmware file its records
 * name, nothing else (no `tmp/`, no `removed/`, no file no record names).
 *
 * Consistent while uploads run, in one pass and without pausing the server: the database is
 * copied with SQLite's online backup in one step, i.e. one read transaction (a snapshot; WAL
 * lets the server keep reading and writing meanwhile). Every record in the snapshot names a file
 * that was fsynced before the record was written. An upload or a delete after the snapshot may
 * remove such a file (history pruning), but the server moves removed files to `removed/` and
 * keeps them there for an hour (REMOVED_GRACE_MS): a file missing from its place, or holding
 * other bytes (the version uploaded again after it was pruned), is copied from there. Each file
 * is checked against its record's SHA-256.
 *
 * `registry.db` appears last, renamed from `registry.db.partial`: a directory without it is an
 * unfinished backup. Files are 0600 and directories 0700, like the data directory's own.
 */
export async function backupRegistry(dataDir: string, target: string): Promise<BackupSummary> {
  const source = path.join(dataDir, 'registry.db');
  if (!fs.existsSync(source)) {
    throw new BackupError(Messages.backupNoRegistry(dataDir));
  }
  prepareTarget(target);
  const db = new Database(source, { fileMustExist: true });
  const partial = path.join(target, 'registry.db.partial');
  const started = Date.now();
  try {
    db.pragma('busy_timeout = 5000');
    // The first step (0 pages) opens the backup; the second copies every page at once.
    await db.backup(partial, { progress: () => 0x7fffffff });
  } finally {
    db.close();
  }
  const files = namedFiles(partial);
  let removedMeanwhile = 0;
  for (const file of files) {
    if (await copyChecked(path.join(dataDir, file.path), target, file)) continue;
    if (!(await copyRemoved(dataDir, target, file))) {
      const late =
        Date.now() - started > REMOVED_GRACE_MS
          ? ' (the backup took over an hour: the server deleted it meanwhile)'
          : '';
      throw new Error(
        `a firmware file the registry's records name is missing or differs from its record in ` +
          `${dataDir}: ${file.path}${late}; the backup is incomplete`,
      );
    }
    removedMeanwhile++;
  }
  fs.chmodSync(partial, 0o600);
  fsyncFile(partial);
  fs.renameSync(partial, path.join(target, 'registry.db'));
  return {
    dir: target,
    versions: files.length,
    bytes: files.reduce((sum, file) => sum + file.size, 0),
    removedMeanwhile,
  };
}

/** A named file the server removed after the snapshot: copied from `removed/`, newest first. */
async function copyRemoved(dataDir: string, target: string, file: StoredFile): Promise<boolean> {
  const removed = path.join(dataDir, REMOVED_DIR);
  const batches = fs.existsSync(removed) ? fs.readdirSync(removed).sort().reverse() : [];
  for (const batch of batches) {
    if (await copyChecked(path.join(removed, batch, file.path), target, file)) return true;
  }
  return false;
}

function prepareTarget(target: string): void {
  if (fs.existsSync(target)) {
    if (!fs.statSync(target).isDirectory())
      throw new BackupError(Messages.backupTargetNotDirectory(target));
    if (fs.readdirSync(target).length > 0) {
      throw new BackupError(Messages.backupTargetNotEmpty(target));
    }
  }
  fs.mkdirSync(target, { recursive: true, mode: 0o700 });
}

/**
 * The firmware files the copied database's records name. The copy becomes a plain database
 * file (no WAL beside it) and is checked before anything is copied for it.
 */
function namedFiles(copy: string): StoredFile[] {
  const db = new Database(copy, { fileMustExist: true });
  try {
    db.pragma('journal_mode = DELETE');
    const check = db.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw new Error(`the copied database fails its check: ${check}`);
    return db.prepare<[], StoredFile>('SELECT path, size, sha256 FROM otas ORDER BY path').all();
  } finally {
    db.close();
  }
}

/** Copies one file, hashing it on the way; false when it is gone or is not what its record says. */
async function copyChecked(from: string, target: string, file: StoredFile): Promise<boolean> {
  if (!/^ota\/(device|group)\/[0-9a-f]{24}\/[^/]+\/firmware\.bin$/.test(file.path)) {
    throw new Error(`a record names an unexpected storage key: ${file.path}`);
  }
  const to = path.join(target, file.path);
  fs.mkdirSync(path.dirname(to), { recursive: true, mode: 0o700 });
  const hash = createHash('sha256');
  try {
    const stream = fs.createReadStream(from);
    stream.on('data', (chunk) => hash.update(chunk));
    await pipeline(stream, fs.createWriteStream(to, { mode: 0o600 }));
    fsyncFile(to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    fs.rmSync(to, { force: true });
    return false;
  }
  if (hash.digest('hex') !== file.sha256) {
    fs.rmSync(to, { force: true });
    return false;
  }
  return true;
}
