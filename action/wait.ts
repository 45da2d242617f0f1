import { DeployError } from './errors.js';
import type { Logger } from './logger.js';
import type { RegistryClient } from './registry-client.js';
import { sleep as realSleep, type Sleep } from './retry.js';
import type { DeployTarget } from './settings.js';

/** How the wait ended: the target took the version, it refused it, or time ran out. */
type WaitOutcome = 'verified' | 'failed' | 'timed-out';

/** What the fleet said, for the log, the job summary and the CLI's JSON. */
export interface FleetReport {
  outcome: WaitOutcome;
  version: string;
  target: { kind: DeployTarget['kind']; id: string };
  /** A group rollout's state (`running`, `halted`, `completed`...); absent for a device. */
  state?: string;
  /** e.g. "phase 2 of 3 (25%)". */
  phase?: string;
  verified: number;
  downloaded: number;
  failed: number;
  silent: number;
  failures: Array<{ device: string; reason: string }>;
  waitedMs: number;
}

export interface WaitOptions {
  client: RegistryClient;
  authToken: string;
  target: DeployTarget;
  version: string;
  waitMs: number;
  logger: Logger;
  sleep?: Sleep;
  now?: () => number;
  /** How often to ask the registry. */
  pollMs?: number;
  /** How often to log progress. */
  progressMs?: number;
}

const POLL_MS = 5000;
const PROGRESS_MS = 30_000;

/**
 * After the upload: asks the registry until the target verified the version (a device reports
 * it over MQTT or in its updater's headers; a group's rollout is `completed`), the rollout
 * halted or was aborted, or `waitMs` ran out. Progress goes to the log every 30 s. Network
 * trouble while waiting is logged and waited out, never fatal before the time is up.
 */
export async function waitForFleet(options: WaitOptions): Promise<FleetReport> {
  const { logger, target, version, waitMs } = options;
  const sleep = options.sleep ?? realSleep;
  const now = options.now ?? Date.now;
  const started = now();
  const since = new Date(started).toISOString();
  let lastProgress = started;
  let report: FleetReport | undefined;
  logger.info(
    `Waiting up to ${formatDuration(waitMs)} for ${target.kind} ${target.id} to verify ${version}.`,
  );
  for (;;) {
    try {
      report = await look(options, since, now() - started);
    } catch (error) {
      logger.warning(`Could not ask the registry for progress: ${(error as Error).message}`);
    }
    const elapsed = now() - started;
    if (report && report.outcome !== 'timed-out') return { ...report, waitedMs: elapsed };
    if (elapsed >= waitMs) {
      return { ...(report ?? emptyReport(options)), outcome: 'timed-out', waitedMs: elapsed };
    }
    if (report && now() - lastProgress >= (options.progressMs ?? PROGRESS_MS)) {
      lastProgress = now();
      logger.info(`${progressLine(report)}; ${formatDuration(waitMs - elapsed)} left.`);
    }
    await sleep(Math.min(options.pollMs ?? POLL_MS, Math.max(0, waitMs - elapsed)));
  }
}

/** One look at the registry; outcome `timed-out` means "not decided yet". */
async function look(options: WaitOptions, since: string, elapsed: number): Promise<FleetReport> {
  const { client, authToken, target, version } = options;
  const base = { version, target: { kind: target.kind, id: target.id }, waitedMs: elapsed };
  if (target.kind === 'group') {
    const { status, body } = await client.get(authToken, `/v1/ota/group/${target.id}/rollout`);
    if (status !== 200 || !isRollout(body)) {
      throw new Error(`the registry answered ${status} for the rollout`);
    }
    const outcome: WaitOutcome =
      body.state === 'completed'
        ? 'verified'
        : body.state === 'halted' || body.state === 'aborted'
          ? 'failed'
          : 'timed-out';
    return {
      ...base,
      outcome: body.version === version ? outcome : 'failed',
      state: body.version === version ? body.state : `replaced by ${body.version}`,
      phase: `phase ${body.phase + 1} of ${body.phases.length} (${body.phases[body.phase]}%)`,
      verified: body.devices.verified,
      downloaded: body.devices.downloaded,
      failed: body.devices.failed,
      silent: body.devices.silent ?? 0,
      failures: body.failures.map(({ device, reason }) => ({ device, reason })),
    };
  }
  const { status, body } = await client.get(authToken, `/v1/devices/${target.id}`);
  if (status !== 200 || !isDevice(body)) {
    throw new Error(`the registry answered ${status} for the device`);
  }
  const verified = body.running_version === version;
  const response = body.last_update_response;
  // IoTaaP OS answers 203 when the update failed (DEVICES.md).
  const refused = !verified && response?.code === 203 && response.at >= since;
  const heard = (body.last_contact ?? '') >= since;
  return {
    ...base,
    outcome: verified ? 'verified' : refused ? 'failed' : 'timed-out',
    verified: verified ? 1 : 0,
    downloaded: 0,
    failed: refused ? 1 : 0,
    silent: heard ? 0 : 1,
    failures: refused
      ? [
          {
            device: target.id,
            reason: `answered 203 (update failed); it runs ${body.running_version ?? 'an unknown version'}`,
          },
        ]
      : [],
  };
}

/** The error the job fails with: what happened, which devices failed and why, what to do. */
export function fleetFailure(report: FleetReport): DeployError {
  const named = report.failures
    .slice(0, 20)
    .map(({ device, reason }) => `${device}: ${reason}`)
    .join('; ');
  const more = report.failures.length > 20 ? ` (and ${report.failures.length - 20} more)` : '';
  const failures = named ? ` Failed devices: ${named}${more}.` : '';
  const what =
    report.outcome === 'timed-out'
      ? `${report.version} was not verified on ${report.target.kind} ${report.target.id} within ${formatDuration(report.waitedMs)}`
      : report.target.kind === 'group'
        ? `The rollout of ${report.version} to group ${report.target.id} is ${report.state}`
        : `Device ${report.target.id} did not take ${report.version}`;
  const recover =
    report.target.kind === 'group' && report.state === 'halted'
      ? ' Nobody new gets it until POST /v1/ota/group/<id>/rollout/resume; abort serves the previous version again (docs/rollouts.md).'
      : '';
  return new DeployError(`${what}: ${progressLine(report)}.${failures}${recover}`);
}

export function progressLine(report: FleetReport): string {
  const where = report.state ? `${report.state}, ${report.phase}: ` : '';
  return `${where}${report.verified} verified, ${report.downloaded} downloaded, ${report.failed} failed, ${report.silent} silent`;
}

function emptyReport(options: WaitOptions): FleetReport {
  return {
    outcome: 'timed-out',
    version: options.version,
    target: { kind: options.target.kind, id: options.target.id },
    verified: 0,
    downloaded: 0,
    failed: 0,
    silent: 0,
    failures: [],
    waitedMs: 0,
  };
}

export function formatDuration(ms: number): string {
  const total = Math.round(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return [h ? `${h}h` : '', m ? `${m}m` : '', s || (!h && !m) ? `${s}s` : ''].join('');
}

interface RolloutBody {
  version: string;
  phases: number[];
  phase: number;
  state: string;
  devices: { downloaded: number; verified: number; failed: number; silent?: number };
  failures: Array<{ device: string; reason: string }>;
}

function isRollout(body: unknown): body is RolloutBody {
  const b = body as Partial<RolloutBody> | null;
  return (
    typeof b === 'object' &&
    b !== null &&
    typeof b.state === 'string' &&
    Array.isArray(b.phases) &&
    typeof b.devices === 'object' &&
    Array.isArray(b.failures)
  );
}

interface DeviceBody {
  running_version: string | null;
  last_update_response: { code: number; at: string } | null;
  last_contact: string | null;
}

function isDevice(body: unknown): body is DeviceBody {
  return typeof body === 'object' && body !== null && 'running_version' in body;
}
