import { engineOf } from '../sql.js';
import type { Db } from './database.js';

/** One device's latest check-in, as the recorder writes it. */
export interface CheckinRow {
  deviceId: string;
  at: string;
  /** False when the request said nothing about the running firmware: keep what is known. */
  reported: boolean;
  runningVersion: string | null;
  runningMd5: string | null;
  mac: string | null;
  freeSpace: number | null;
  sdkVersion: string | null;
}

type CheckinParams = Omit<CheckinRow, 'reported'> & { reported: number };

/** The reads and the one write behind check-ins (services/checkin-recorder.ts). */
export class CheckinStore {
  private readonly versionByMd5Stmt;
  private readonly deviceByGroupMacStmt;
  private readonly updateStmt;
  private readonly setMacStmt;
  /** PostgreSQL: a whole batch in one statement (see updateAll). */
  private readonly updateBatchStmt;

  /** True when updateAll writes a batch at once (PostgreSQL), not row after row. */
  get batched(): boolean {
    return this.updateBatchStmt !== null;
  }

  constructor(db: Db) {
    // A device may run a version it got from its own uploads or from its group's.
    this.versionByMd5Stmt = db.prepare<{ deviceId: string; md5: string }, { version: string }>(
      `SELECT o.version FROM devices d JOIN otas o
         ON (o.target_kind = 'device' AND o.target_id = d.id)
         OR (o.target_kind = 'group' AND o.target_id = d.group_id)
       WHERE d.id = @deviceId AND o.md5 = @md5
       ORDER BY o.last_updated DESC LIMIT 1`,
    );
    this.deviceByGroupMacStmt = db.prepare<[string, string], { id: string }>(
      'SELECT id FROM devices WHERE group_id = ? AND mac = ? ORDER BY last_contact DESC NULLS LAST LIMIT 1',
    );
    this.updateStmt = db.prepare<CheckinParams>(
      `UPDATE devices SET
         last_contact = @at,
         running_version = CASE WHEN @reported = 1 THEN @runningVersion ELSE running_version END,
         running_md5 = CASE WHEN @reported = 1 THEN @runningMd5 ELSE running_md5 END,
         running_version_source = CASE WHEN @reported = 1 THEN 'download' ELSE running_version_source END,
         free_space = COALESCE(@freeSpace, free_space),
         sdk_version = COALESCE(@sdkVersion, sdk_version)
       WHERE id = @deviceId`,
    );
    // mac is indexed (group check-ins find devices by it), and assigning it rewrites the index
    // entry even when the value is the same: a third of a check-in's cost (1000 check-ins at
    // 100k devices: 15 ms with it, 10 ms without). A device's MAC hardly ever changes.
    this.setMacStmt = db.prepare<{ deviceId: string; mac: string }>(
      'UPDATE devices SET mac = @mac WHERE id = @deviceId AND mac IS DISTINCT FROM @mac',
    );
    this.updateBatchStmt =
      engineOf(db) === 'postgres'
        ? db.prepare<unknown[][]>(
            `UPDATE devices AS d SET
               last_contact = v.at,
               running_version = CASE WHEN v.reported = 1 THEN v.running_version ELSE d.running_version END,
               running_md5 = CASE WHEN v.reported = 1 THEN v.running_md5 ELSE d.running_md5 END,
               running_version_source = CASE WHEN v.reported = 1 THEN 'download' ELSE d.running_version_source END,
               free_space = COALESCE(v.free_space, d.free_space),
               sdk_version = COALESCE(v.sdk_version, d.sdk_version),
               mac = COALESCE(v.mac, d.mac)
             FROM unnest(?::text[], ?::text[], ?::int[], ?::text[], ?::text[], ?::text[], ?::bigint[], ?::text[])
               AS v(id, at, reported, running_version, running_md5, mac, free_space, sdk_version)
             WHERE d.id = v.id`,
          )
        : null;
  }

  /** The kept version (of the device or its group) whose bytes have this MD5, if any. */
  versionByMd5(deviceId: string, md5: string): string | undefined {
    return this.versionByMd5Stmt.get({ deviceId, md5 })?.version;
  }

  /** The member of a group that last reported this station MAC, if any. */
  deviceByGroupMac(groupId: string, mac: string): string | undefined {
    return this.deviceByGroupMacStmt.get(groupId, mac)?.id;
  }

  update(row: CheckinRow): void {
    this.updateStmt.run({ ...row, reported: row.reported ? 1 : 0 });
    if (row.mac !== null) this.setMacStmt.run({ deviceId: row.deviceId, mac: row.mac });
  }

  /**
   * Writes a flush's check-ins, in order (inside the caller's transaction). SQLite: a statement
   * per row, each a few microseconds. PostgreSQL: every statement is a round trip that holds the
   * event loop (postgres/pg-database.ts), and a busy second has thousands of check-ins, so the
   * rows go as arrays, 5000 to a statement; a device listed twice is merged first, as the
   * statements one after another would leave it.
   */
  updateAll(rows: CheckinRow[]): void {
    // SQLite writes row after row through update() (services/checkin-recorder.ts).
    if (!this.updateBatchStmt) throw new Error('updateAll is for batched stores (PostgreSQL)');
    const merged = new Map<string, CheckinRow>();
    for (const row of rows) {
      const earlier = merged.get(row.deviceId);
      merged.set(row.deviceId, earlier ? mergeCheckins(earlier, row) : row);
    }
    const all = [...merged.values()];
    for (let start = 0; start < all.length; start += BATCH) {
      const batch = all.slice(start, start + BATCH);
      this.updateBatchStmt.run(
        batch.map((r) => r.deviceId),
        batch.map((r) => r.at),
        batch.map((r) => (r.reported ? 1 : 0)),
        batch.map((r) => r.runningVersion),
        batch.map((r) => r.runningMd5),
        batch.map((r) => r.mac),
        batch.map((r) => r.freeSpace),
        batch.map((r) => r.sdkVersion),
      );
    }
  }
}

const BATCH = 5000;

/** What `later` written after `earlier` leaves (see the statements above). */
function mergeCheckins(earlier: CheckinRow, later: CheckinRow): CheckinRow {
  const running = later.reported ? later : earlier;
  return {
    deviceId: later.deviceId,
    at: later.at,
    reported: earlier.reported || later.reported,
    runningVersion: running.runningVersion,
    runningMd5: running.runningMd5,
    mac: later.mac ?? earlier.mac,
    freeSpace: later.freeSpace ?? earlier.freeSpace,
    sdkVersion: later.sdkVersion ?? earlier.sdkVersion,
  };
}
