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

/** The reads and the one write behind check-ins (services/checkin-recorder.ts). */
export class CheckinStore {
  private readonly versionByMd5Stmt;
  private readonly deviceByGroupMacStmt;
  private readonly updateStmt;

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
      'SELECT id FROM devices WHERE group_id = ? AND mac = ? ORDER BY last_contact DESC LIMIT 1',
    );
    this.updateStmt = db.prepare(
      `UPDATE devices SET
         last_contact = @at,
         running_version = CASE WHEN @reported THEN @runningVersion ELSE running_version END,
         running_md5 = CASE WHEN @reported THEN @runningMd5 ELSE running_md5 END,
         mac = COALESCE(@mac, mac),
         free_space = COALESCE(@freeSpace, free_space),
         sdk_version = COALESCE(@sdkVersion, sdk_version)
       WHERE id = @deviceId`,
    );
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
  }
}
