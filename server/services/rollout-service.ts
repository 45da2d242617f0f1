import { createHash } from 'node:crypto';
import { Messages, conflict, notFound } from '../errors.js';
import { OBJECT_ID } from '../../contract/ids.js';
import { newObjectId, nowIso } from '../ids.js';
import { logError } from '../log.js';
import type { Db } from '../storage/sqlite/database.js';
import type { GroupStore } from '../storage/sqlite/groups.js';
import type { Ota, OtaStore } from '../storage/sqlite/otas.js';
import type {
  Rollout,
  RolloutAdvance,
  RolloutDevice,
  RolloutState,
  RolloutStore,
} from '../storage/sqlite/rollouts.js';
import type { DeviceReportRow } from '../storage/sqlite/device-reports.js';
import type { DeviceReport } from './checkin-recorder.js';

/** What a rollout is started with (API.md "Staged rollouts"); routes/parsers/rollout-plan.ts fills the defaults. */
export interface RolloutPlan {
  phases: number[];
  haltAfterFailures: number;
  advance: RolloutAdvance;
  advanceAt: number;
}

/** `GET /v1/ota/group/{id}/rollout`. */
export interface RolloutView {
  version: string;
  previous_version: string;
  phases: number[];
  phase: number;
  percent: number;
  state: RolloutState;
  advance: RolloutAdvance;
  advance_at: number;
  halt_after_failures: number;
  devices: {
    in_phase: number;
    downloaded: number;
    verified: number;
    failed: number;
    silent: number;
  };
  failures: Array<{ device: string; reason: string; at: string }>;
  created_at: string;
  updated_at: string;
}

export type RolloutAction = 'advance' | 'pause' | 'resume' | 'abort';

/** What the rollout service needs of the rest of the registry (wired in context.ts). */
export interface RolloutPorts {
  /** Makes a kept version the group's served one, with the upload guards (OtaService.rollback). */
  serve(owner: string, groupId: string, version: string, force: boolean): void;
  /** Publishes the group's trigger (best effort: the returned promise never rejects). */
  trigger(owner: string, groupId: string): Promise<void>;
}

const OPEN: readonly RolloutState[] = ['running', 'paused', 'halted'];
const BUCKETS = 10_000;

/** A stable place for a station MAC in 0..9999: the same device is in every later phase. */
export function bucketOf(mac: string): number {
  return createHash('sha256').update(mac.toUpperCase()).digest().readUInt32BE(0) % BUCKETS;
}

/**
 * Staged rollouts of a group's version (API.md "Staged rollouts", docs/rollouts.md): which
 * version a group download serves to which device, what devices report back, when a rollout
 * advances, halts or completes. Every fact is in the database (rollouts, rollout_devices), and
 * every change of a rollout's state happens in an IMMEDIATE transaction that reads the state
 * again, so processes of `serve --workers N` never advance or halt one twice.
 */
export class RolloutService {
  private readonly records = new Map<string, Ota>();

  constructor(
    private readonly db: Db,
    private readonly store: RolloutStore,
    private readonly groups: GroupStore,
    private readonly otas: OtaStore,
    private readonly ports: RolloutPorts,
  ) {}

  /**
   * Checked before an upload (or a rollback) to a group: no rollout may be open, as the upload
   * would change what it serves, unless it is the rollout's own version again (a re-run of the
   * job that started it: the upload then answers 200 for the same bytes, 409 for others). One
   * that asks for a rollout needs a version served now to keep serving.
   */
  beforeUpload(
    owner: string,
    groupId: string,
    version: string | null,
    startsRollout: boolean,
  ): void {
    // Another owner's group or a bad id: the upload answers that itself, as for any upload.
    if (!OBJECT_ID.test(groupId) || this.groups.byId(groupId)?.owner !== owner) return;
    const open = this.store.openOf(groupId);
    if (open && open.version !== version) throw conflict(Messages.rolloutRunning);
    if (startsRollout && this.otas.currentOf('group', groupId) === undefined) {
      throw conflict(Messages.rolloutNoPrevious);
    }
  }

  /**
   * Whether an upload with `rollout` that did not deploy anything new (`deployed` false: the
   * same version with the same bytes) belongs to the group's latest rollout of that version,
   * which it then follows instead of starting another.
   */
  follows(groupId: string, version: string, deployed: boolean): boolean {
    return !deployed && this.store.latestOf(groupId)?.version === version;
  }

  /**
   * Starts a rollout of a kept version. `previousVersion`: what devices outside the phase keep
   * getting; by default the version the group serves now (or, when that is the rolled-out
   * version, the one served before it). The rolled-out version becomes the group's served one.
   */
  start(
    owner: string,
    groupId: string,
    version: string,
    plan: RolloutPlan,
    options: { previousVersion?: string; trigger?: boolean } = {},
  ): Rollout {
    this.owned(owner, groupId);
    const rollout = this.db
      .transaction((): Rollout => {
        if (this.store.openOf(groupId)) throw conflict(Messages.rolloutRunning);
        const target = this.otas.byVersion('group', groupId, version);
        if (!target) throw notFound(Messages.versionNotKept(version));
        const previous = options.previousVersion
          ? this.otas.byVersion('group', groupId, options.previousVersion)
          : this.otas.history('group', groupId).find((kept) => kept.id !== target.id);
        if (!previous || previous.id === target.id) throw conflict(Messages.rolloutNoPrevious);
        if (this.otas.currentOf('group', groupId)?.id !== target.id) {
          this.ports.serve(owner, groupId, version, false);
        }
        const now = nowIso();
        const created: Rollout = {
          id: newObjectId(),
          groupId,
          owner,
          otaId: target.id,
          version: target.version,
          previousOtaId: previous.id,
          previousVersion: previous.version,
          ...plan,
          phase: 0,
          state: 'running',
          createdAt: now,
          updatedAt: now,
        };
        this.store.insert(created);
        // Devices whose MAC the registry knows are counted from the start.
        for (const member of this.store.membersWithMac(groupId)) {
          this.store.addDevice(created.id, member.mac, member.id, bucketOf(member.mac));
        }
        return created;
      })
      .immediate();
    if (options.trigger ?? true) void this.ports.trigger(owner, groupId);
    return rollout;
  }

  /** The group's most recent rollout, with its counts and failures. */
  view(owner: string, groupId: string): RolloutView {
    this.owned(owner, groupId);
    const rollout = this.store.latestOf(groupId);
    if (!rollout) throw notFound(Messages.noRollout);
    return this.viewOf(rollout);
  }

  /** `advance`, `pause`, `resume`, `abort`. */
  act(owner: string, groupId: string, action: RolloutAction): RolloutView {
    this.owned(owner, groupId);
    let triggers = false;
    const rollout = this.db
      .transaction((): Rollout => {
        const open = this.store.openOf(groupId);
        if (!open) {
          const last = this.store.latestOf(groupId);
          if (!last) throw notFound(Messages.noRollout);
          throw conflict(Messages.rolloutNotIn(action, last.state));
        }
        const allowed: Record<RolloutAction, readonly RolloutState[]> = {
          advance: ['running', 'paused'],
          pause: ['running'],
          resume: ['paused', 'halted'],
          abort: OPEN,
        };
        if (!allowed[action].includes(open.state)) {
          throw conflict(Messages.rolloutNotIn(action, open.state));
        }
        let next: Rollout;
        if (action === 'advance') {
          const last = open.phase === open.phases.length - 1;
          next = last
            ? { ...open, state: 'completed' }
            : { ...open, phase: open.phase + 1, state: 'running' };
          triggers = !last;
        } else if (action === 'pause') {
          next = { ...open, state: 'paused' };
        } else if (action === 'resume') {
          next = { ...open, state: 'running' };
          triggers = true;
        } else {
          // Every device gets the previous version again, from latest and download alike.
          this.ports.serve(owner, groupId, open.previousVersion, true);
          next = { ...open, state: 'aborted' };
          triggers = true;
        }
        next.updatedAt = nowIso();
        this.store.update(next);
        return next;
      })
      .immediate();
    if (triggers) void this.ports.trigger(owner, groupId);
    return this.viewOf(rollout);
  }

  /**
   * The group download's choice (called by OtaService.openDownload after the token matched):
   * the rolled-out version for a device in the phase, the previous one for everyone else. Also
   * records what the request tells: the device runs the new version (verified), it runs another
   * one after downloading the new (failed), or it is about to download it (`counts`: a GET that
   * will get the bytes, not a HEAD). Without an open rollout: `current`, no query beyond one.
   */
  selectDownload(groupId: string, current: Ota, report: DeviceReport, counts: boolean): Ota {
    const rollout = this.store.openOf(groupId);
    if (!rollout) return current;
    const next = current.id === rollout.otaId ? current : this.record(rollout.otaId);
    const previous = this.record(rollout.previousOtaId);
    if (!next || !previous) return current;
    const offer = this.decide(rollout, next, previous, report, counts);
    return offer ? next : previous;
  }

  /**
   * MQTT reports, in the recorder's flush transaction: `status` with the new version verifies,
   * with another version after a reboot that followed the download fails; `203` after the
   * download fails. Only for a device of the account that the topic names, whose MAC is known.
   */
  recordReport(row: DeviceReportRow): void {
    const member = this.store.member(row.deviceId, row.mqttUser);
    if (!member?.groupId || !member.mac) return;
    const rollout = this.store.openOf(member.groupId);
    if (!rollout) return;
    const mac = member.mac;
    const device = this.ensureDevice(rollout, mac, row.deviceId);
    if (device.verifiedAt || device.failedAt) return;
    const { status, response } = row;
    if (status?.version === rollout.version) {
      this.mark(rollout, mac, { verifiedAt: status.at });
    } else if (
      status?.version &&
      device.downloadedAt &&
      status.uptime !== null &&
      // It booted after the download: what it runs now is what the update left it with.
      Date.parse(status.at) - status.uptime * 1000 > Date.parse(device.downloadedAt)
    ) {
      this.mark(rollout, mac, {
        failedAt: status.at,
        reason: `downloaded ${rollout.version}, then reported ${status.version} after a reboot (rolled back)`,
      });
    } else if (response?.code === 203 && device.downloadedAt) {
      this.mark(rollout, mac, {
        failedAt: response.at,
        reason: `answered 203 (update failed) after downloading ${rollout.version}`,
      });
    }
  }

  /**
   * A firmware record by id, kept in memory: what serving needs of it (version, bytes, hashes)
   * never changes for an id, and group downloads during a rollout ask for the same two.
   */
  private record(id: string): Ota | undefined {
    let ota = this.records.get(id);
    if (!ota) {
      ota = this.otas.byId(id);
      if (!ota) return undefined;
      if (this.records.size >= 256) this.records.clear();
      this.records.set(id, ota);
    }
    return ota;
  }

  private decide(
    rollout: Rollout,
    next: Ota,
    previous: Ota,
    report: DeviceReport,
    counts: boolean,
  ): boolean {
    const percent = rollout.phases[rollout.phase];
    const { mac } = report;
    // A device that cannot be identified is out until the last phase.
    if (mac === undefined) return rollout.state === 'running' && percent === 100;
    const runsNew =
      report.md5 === next.md5.toLowerCase() ||
      (report.md5 === undefined && report.version === rollout.version);
    const says = report.md5 !== undefined || report.version !== undefined;
    let device = this.ensureDevice(rollout, mac, null);
    const now = nowIso();
    if (runsNew) {
      if (!device.verifiedAt) this.mark(rollout, mac, { verifiedAt: now });
      // It gets 304 for the bytes it runs (never a downgrade, even after a failure on the way).
      return true;
    }
    // (A HEAD is not the updater's request: it tells nothing about a reboot.)
    if (counts && says && device.downloadedAt && !device.verifiedAt && !device.failedAt) {
      const running =
        report.md5 === previous.md5.toLowerCase()
          ? previous.version
          : (report.version ?? `firmware with MD5 ${report.md5}`);
      device = this.mark(rollout, mac, {
        failedAt: now,
        reason: `downloaded ${rollout.version}, then reported ${running} (rolled back, or it never booted it)`,
      });
    }
    // A device that failed is not offered the version again (it would loop: download, roll back).
    if (device.failedAt) return false;
    const { state } = rollout;
    const inPhase = device.bucket < percent * (BUCKETS / 100);
    // Halted or paused: only devices that already took it keep it (never a downgrade for them).
    const offer = state === 'running' ? inPhase : device.downloadedAt !== null;
    if (offer && counts && !device.downloadedAt) this.mark(rollout, mac, { downloadedAt: now });
    return offer;
  }

  private ensureDevice(rollout: Rollout, mac: string, deviceId: string | null): RolloutDevice {
    const known = this.store.device(rollout.id, mac);
    if (known && (known.deviceId !== null || deviceId === null)) return known;
    this.store.addDevice(
      rollout.id,
      mac,
      deviceId ?? this.store.memberByMac(rollout.groupId, mac) ?? null,
      bucketOf(mac),
    );
    return this.store.device(rollout.id, mac)!;
  }

  /**
   * Records a device's fact and, in the same transaction, what follows for the rollout: a halt
   * at the failure threshold, or the next phase (or completion) when enough of the phase is
   * verified. Returns the device as it is now.
   */
  private mark(
    rollout: Rollout,
    mac: string,
    facts: { downloadedAt?: string; verifiedAt?: string; failedAt?: string; reason?: string },
  ): RolloutDevice {
    let triggers = false;
    const device = this.db
      .transaction((): RolloutDevice => {
        this.store.mark(rollout.id, mac, facts);
        if (facts.downloadedAt === undefined) triggers = this.evaluate(rollout.groupId);
        return this.store.device(rollout.id, mac)!;
      })
      .immediate();
    if (triggers) void this.ports.trigger(rollout.owner, rollout.groupId);
    return device;
  }

  /** Halts, advances or completes the group's open rollout when its counts say so. */
  private evaluate(groupId: string): boolean {
    const rollout = this.store.openOf(groupId);
    if (!rollout || rollout.state !== 'running') return false;
    const tally = this.tally(rollout);
    const updatedAt = nowIso();
    if (tally.failed >= rollout.haltAfterFailures) {
      this.store.update({ ...rollout, state: 'halted', updatedAt });
      return false;
    }
    const last = rollout.phase === rollout.phases.length - 1;
    if (!last && rollout.advance === 'manual') return false;
    // In the last phase a manual rollout completes when every device took it.
    const needed = last && rollout.advance === 'manual' ? 100 : rollout.advanceAt;
    if (tally.inPhase === 0 || tally.verifiedInPhase * 100 < needed * tally.inPhase) return false;
    this.store.update(
      last
        ? { ...rollout, state: 'completed', updatedAt }
        : { ...rollout, phase: rollout.phase + 1, updatedAt },
    );
    return !last;
  }

  /**
   * The phase's devices: those seen (rows) whose bucket is under the phase's percentage, plus
   * the same share of the group's members not seen yet (their MAC is unknown until they ask),
   * so a phase does not count as done after its first few devices.
   */
  private tally(rollout: Rollout) {
    const percent = rollout.phases[rollout.phase];
    const counts = this.store.counts(rollout.id, percent * (BUCKETS / 100));
    const unseen = Math.max(0, this.store.memberCount(rollout.groupId) - counts.seen);
    return { ...counts, inPhase: counts.inPhase + Math.round((unseen * percent) / 100) };
  }

  private viewOf(rollout: Rollout): RolloutView {
    const tally = this.tally(rollout);
    return {
      version: rollout.version,
      previous_version: rollout.previousVersion,
      phases: rollout.phases,
      phase: rollout.phase,
      percent: rollout.phases[rollout.phase],
      state: rollout.state,
      advance: rollout.advance,
      advance_at: rollout.advanceAt,
      halt_after_failures: rollout.haltAfterFailures,
      devices: {
        in_phase: tally.inPhase,
        downloaded: tally.downloaded,
        verified: tally.verified,
        failed: tally.failed,
        silent: Math.max(0, tally.inPhase - tally.activeInPhase),
      },
      failures: this.store.failures(rollout.id).map((device) => ({
        device: device.deviceId ?? device.mac,
        reason: device.reason ?? 'failed',
        at: device.failedAt!,
      })),
      created_at: rollout.createdAt,
      updated_at: rollout.updatedAt,
    };
  }

  private owned(owner: string, groupId: string): void {
    const group = OBJECT_ID.test(groupId) ? this.groups.byId(groupId) : undefined;
    if (!group || group.owner !== owner) throw notFound(Messages.noSuchGroup);
  }
}

/** Logs a trigger that could not be sent; rollouts go on without it (devices also poll). */
export function logTriggerFailure(groupId: string, err: unknown): void {
  logError(`rollout trigger for group ${groupId} failed`, err);
}
