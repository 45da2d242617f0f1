import type { Db } from './database.js';

export type RolloutState = 'running' | 'paused' | 'halted' | 'completed' | 'aborted';
export type RolloutAdvance = 'manual' | 'auto';

/** One staged rollout of a group's version (services/rollout-service.ts). */
export interface Rollout {
  id: string;
  groupId: string;
  owner: string;
  /** The record served to the devices in the phase, and its version. */
  otaId: string;
  version: string;
  /** The record served to everyone else (and to everyone after an abort). */
  previousOtaId: string;
  previousVersion: string;
  /** Rising percentages ending at 100. */
  phases: number[];
  /** Index into phases. */
  phase: number;
  state: RolloutState;
  haltAfterFailures: number;
  advance: RolloutAdvance;
  advanceAt: number;
  createdAt: string;
  updatedAt: string;
}

/** What one device (by station MAC) did during a rollout. */
export interface RolloutDevice {
  mac: string;
  deviceId: string | null;
  bucket: number;
  downloadedAt: string | null;
  verifiedAt: string | null;
  failedAt: string | null;
  reason: string | null;
}

export interface RolloutCounts {
  /** Devices with a row: known members at the start, and every MAC that asked since. */
  seen: number;
  inPhase: number;
  verifiedInPhase: number;
  /** Devices of the phase that downloaded, verified or failed. */
  activeInPhase: number;
  downloaded: number;
  verified: number;
  failed: number;
}

interface RolloutRow {
  id: string;
  group_id: string;
  owner: string;
  ota_id: string;
  version: string;
  previous_ota_id: string;
  previous_version: string;
  phases: string;
  phase: number;
  state: RolloutState;
  halt_after_failures: number;
  advance: RolloutAdvance;
  advance_at: number;
  created_at: string;
  updated_at: string;
}

interface DeviceRow {
  mac: string;
  device_id: string | null;
  bucket: number;
  downloaded_at: string | null;
  verified_at: string | null;
  failed_at: string | null;
  reason: string | null;
}

const toRollout = (row: RolloutRow): Rollout => ({
  id: row.id,
  groupId: row.group_id,
  owner: row.owner,
  otaId: row.ota_id,
  version: row.version,
  previousOtaId: row.previous_ota_id,
  previousVersion: row.previous_version,
  phases: JSON.parse(row.phases) as number[],
  phase: row.phase,
  state: row.state,
  haltAfterFailures: row.halt_after_failures,
  advance: row.advance,
  advanceAt: row.advance_at,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

const toDevice = (row: DeviceRow): RolloutDevice => ({
  mac: row.mac,
  deviceId: row.device_id,
  bucket: row.bucket,
  downloadedAt: row.downloaded_at,
  verifiedAt: row.verified_at,
  failedAt: row.failed_at,
  reason: row.reason,
});

/** The rollout tables of migration 8: rollouts and rollout_devices. */
export class RolloutStore {
  private readonly insertStmt;
  private readonly openOfStmt;
  private readonly latestOfStmt;
  private readonly updateStmt;
  private readonly deviceStmt;
  private readonly insertDeviceStmt;
  private readonly markStmt;
  private readonly countsStmt;
  private readonly failuresStmt;
  private readonly devicesStmt;
  private readonly membersStmt;
  private readonly memberStmt;
  private readonly memberByMacStmt;
  private readonly memberCountStmt;

  constructor(db: Db) {
    this.insertStmt = db.prepare(
      `INSERT INTO rollouts (id, group_id, owner, ota_id, version, previous_ota_id, previous_version,
         phases, phase, state, halt_after_failures, advance, advance_at, created_at, updated_at)
       VALUES (@id, @groupId, @owner, @otaId, @version, @previousOtaId, @previousVersion,
         @phases, @phase, @state, @haltAfterFailures, @advance, @advanceAt, @createdAt, @updatedAt)`,
    );
    // The download path's question: one lookup in the partial index of open rollouts.
    this.openOfStmt = db.prepare<[string], RolloutRow>(
      `SELECT * FROM rollouts WHERE group_id = ? AND state IN ('running', 'paused', 'halted')`,
    );
    this.latestOfStmt = db.prepare<[string], RolloutRow>(
      'SELECT * FROM rollouts WHERE group_id = ? ORDER BY created_at DESC, rowid DESC LIMIT 1',
    );
    this.updateStmt = db.prepare(
      'UPDATE rollouts SET phase = @phase, state = @state, updated_at = @updatedAt WHERE id = @id',
    );
    this.deviceStmt = db.prepare<[string, string], DeviceRow>(
      'SELECT * FROM rollout_devices WHERE rollout_id = ? AND mac = ?',
    );
    this.insertDeviceStmt = db.prepare(
      `INSERT INTO rollout_devices (rollout_id, mac, device_id, bucket)
       VALUES (@rolloutId, @mac, @deviceId, @bucket)
       ON CONFLICT (rollout_id, mac) DO UPDATE SET device_id = COALESCE(excluded.device_id, rollout_devices.device_id)`,
    );
    this.markStmt = db.prepare(
      `UPDATE rollout_devices SET
         downloaded_at = COALESCE(downloaded_at, @downloadedAt),
         verified_at = COALESCE(verified_at, @verifiedAt),
         failed_at = COALESCE(failed_at, @failedAt),
         reason = COALESCE(reason, @reason)
       WHERE rollout_id = @rolloutId AND mac = @mac`,
    );
    this.countsStmt = db.prepare<{ rolloutId: string; limit: number }, RolloutCounts>(
      `SELECT count(*) AS seen, count(*) FILTER (WHERE bucket < @limit) AS inPhase,
         count(*) FILTER (WHERE bucket < @limit AND (downloaded_at IS NOT NULL
           OR verified_at IS NOT NULL OR failed_at IS NOT NULL)) AS activeInPhase,
         count(*) FILTER (WHERE bucket < @limit AND verified_at IS NOT NULL) AS verifiedInPhase,
         count(downloaded_at) AS downloaded, count(verified_at) AS verified,
         count(failed_at) AS failed
       FROM rollout_devices WHERE rollout_id = @rolloutId`,
    );
    this.failuresStmt = db.prepare<[string], DeviceRow>(
      'SELECT * FROM rollout_devices WHERE rollout_id = ? AND failed_at IS NOT NULL ORDER BY failed_at',
    );
    this.devicesStmt = db.prepare<[string], DeviceRow>(
      'SELECT * FROM rollout_devices WHERE rollout_id = ? ORDER BY bucket, mac',
    );
    this.membersStmt = db.prepare<[string], { id: string; mac: string }>(
      'SELECT id, mac FROM devices WHERE group_id = ? AND mac IS NOT NULL',
    );
    this.memberStmt = db.prepare<
      { deviceId: string; mqttUser: string },
      { groupId: string | null; mac: string | null }
    >(
      `SELECT group_id AS groupId, mac FROM devices
       WHERE id = @deviceId AND owner = (SELECT id FROM users WHERE mqtt_user = @mqttUser)`,
    );
    this.memberByMacStmt = db.prepare<[string, string], { id: string }>(
      'SELECT id FROM devices WHERE group_id = ? AND mac = ? ORDER BY last_contact DESC NULLS LAST LIMIT 1',
    );
    this.memberCountStmt = db.prepare<[string], { n: number }>(
      'SELECT count(*) AS n FROM devices WHERE group_id = ?',
    );
  }

  insert(rollout: Rollout): void {
    this.insertStmt.run({ ...rollout, phases: JSON.stringify(rollout.phases) });
  }

  /** The group's rollout that still decides what it serves (running, paused or halted). */
  openOf(groupId: string): Rollout | undefined {
    const row = this.openOfStmt.get(groupId);
    return row && toRollout(row);
  }

  /** The group's most recent rollout, in any state. */
  latestOf(groupId: string): Rollout | undefined {
    const row = this.latestOfStmt.get(groupId);
    return row && toRollout(row);
  }

  update(rollout: Pick<Rollout, 'id' | 'phase' | 'state' | 'updatedAt'>): void {
    this.updateStmt.run(rollout);
  }

  device(rolloutId: string, mac: string): RolloutDevice | undefined {
    const row = this.deviceStmt.get(rolloutId, mac);
    return row && toDevice(row);
  }

  /** Makes sure the device has a row (a known device id fills in a missing one). */
  addDevice(rolloutId: string, mac: string, deviceId: string | null, bucket: number): void {
    this.insertDeviceStmt.run({ rolloutId, mac, deviceId, bucket });
  }

  /** Records what happened; a time already set stays (the first one counts). */
  mark(
    rolloutId: string,
    mac: string,
    facts: { downloadedAt?: string; verifiedAt?: string; failedAt?: string; reason?: string },
  ): void {
    this.markStmt.run({
      rolloutId,
      mac,
      downloadedAt: facts.downloadedAt ?? null,
      verifiedAt: facts.verifiedAt ?? null,
      failedAt: facts.failedAt ?? null,
      reason: facts.reason ?? null,
    });
  }

  /** Counts for a phase whose devices are those with bucket < limit. */
  counts(rolloutId: string, limit: number): RolloutCounts {
    return this.countsStmt.get({ rolloutId, limit })!;
  }

  failures(rolloutId: string): RolloutDevice[] {
    return this.failuresStmt.all(rolloutId).map(toDevice);
  }

  devices(rolloutId: string): RolloutDevice[] {
    return this.devicesStmt.all(rolloutId).map(toDevice);
  }

  /** The group's devices whose station MAC the registry knows. */
  membersWithMac(groupId: string): Array<{ id: string; mac: string }> {
    return this.membersStmt.all(groupId);
  }

  /** A device's group and MAC, when it belongs to the account with this MQTT user. */
  member(
    deviceId: string,
    mqttUser: string,
  ): { groupId: string | null; mac: string | null } | undefined {
    return this.memberStmt.get({ deviceId, mqttUser });
  }

  /** The member of the group that reported this station MAC, if any. */
  memberByMac(groupId: string, mac: string): string | undefined {
    return this.memberByMacStmt.get(groupId, mac)?.id;
  }

  memberCount(groupId: string): number {
    return this.memberCountStmt.get(groupId)!.n;
  }
}
