import { afterEach, describe, expect, jest, test } from '@jest/globals';
import fs from 'node:fs';
import path from 'node:path';
import { openDatabase, type SqliteDb as Db } from '../../../../server/storage/sqlite/database.js';
import { startCheckpointer } from '../../../../server/storage/sqlite/checkpointer.js';
import { tempDataDir, waitFor } from '../../../support/registry.js';

const PAGE = 4096;

/** Commits about `pages` pages of new rows to the WAL. */
function writePages(db: Db, pages: number): void {
  const insert = db.prepare('INSERT INTO scratch (bytes) VALUES (?)');
  db.transaction(() => {
    for (let i = 0; i < pages; i++) insert.run(Buffer.alloc(PAGE - 200, i));
  })();
}

const walBytes = (dataDir: string) => fs.statSync(path.join(dataDir, 'registry.db-wal')).size;
const autocheckpoint = (db: Db) => db.pragma('wal_autocheckpoint', { simple: true });

/**
 * Whether every frame in the WAL has been copied to the database file, read from the WAL index
 * (the -shm file, https://sqlite.org/walformat.html: mxFrame at byte 16 of the header, nBackfill
 * at byte 96) without a connection of its own, which would checkpoint or hold a snapshot.
 */
function fullyCheckpointed(dataDir: string): boolean {
  const shm = fs.readFileSync(path.join(dataDir, 'registry.db-shm'));
  return shm.readUInt32LE(96) === shm.readUInt32LE(16);
}

describe('the WAL checkpoint thread', () => {
  const open: Db[] = [];
  afterEach(() => {
    for (const db of open.splice(0)) if (db.open) db.close();
    jest.restoreAllMocks();
  });

  function database(): { db: Db; dataDir: string } {
    const dataDir = tempDataDir();
    const db = openDatabase(dataDir);
    db.exec('CREATE TABLE scratch (bytes BLOB)');
    open.push(db);
    return { db, dataDir };
  }

  test('checkpoints off the event loop while the WAL grows, then ends and empties the WAL', async () => {
    const { db, dataDir } = database();
    const checkpointer = startCheckpointer(db, {
      intervalMs: 20,
      startAtBytes: 1000 * PAGE,
      idleChecks: 5,
    });
    expect(autocheckpoint(db)).toBe(0);

    // Each round writes 1500 pages. Without checkpoints the WAL would hold all of them (the
    // connection no longer checkpoints by itself); with the thread's, the WAL starts over once
    // a checkpoint has copied everything, so it never holds much more than one round. Each
    // round waits for the thread's checkpoint, however long a busy machine makes it take.
    for (let round = 0; round < 5; round++) {
      writePages(db, 1500);
      await waitFor(() => fullyCheckpointed(dataDir), `round ${round} to be checkpointed`, 10_000);
    }
    expect(walBytes(dataDir)).toBeLessThan(2 * 1500 * PAGE);
    // Nothing written for a while: the thread empties the WAL and ends.
    await waitFor(() => walBytes(dataDir) === 0, 'the WAL to be emptied', 10_000);

    // Writing again starts a thread again.
    writePages(db, 1500);
    await waitFor(() => walBytes(dataDir) === 0, 'the WAL to be emptied again', 10_000);

    await checkpointer.stop();
    db.close();
    // The rows are in the database file, as a reader that opens it afresh sees.
    const again = openDatabase(dataDir);
    open.push(again);
    expect(again.prepare('SELECT count(*) AS n FROM scratch').get()).toEqual({ n: 9000 });
  });

  test('if the thread fails, the connection checkpoints by itself again and says why', async () => {
    const errors = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    const { db, dataDir } = database();
    // The thread opens the file by name: gone, it cannot (the connection keeps its open handle).
    fs.rmSync(dataDir, { recursive: true, force: true });
    const checkpointer = startCheckpointer(db, { intervalMs: 20, startAtBytes: 0 });
    await waitFor(() => autocheckpoint(db) === 1000, 'inline checkpoints to come back', 10_000);
    expect(String(errors.mock.calls[0]?.[0])).toMatch(
      /WAL checkpoint thread failed: .*; checkpointing inline$/,
    );
    await checkpointer.stop();
  });
});
