import type { Counting } from '../counting.js';

/** A device's place in the fleet summary (docs/api.md, `GET /v1/fleet/summary`). */
type FleetState = 'up-to-date' | 'pending' | 'failed' | 'silent' | 'unknown';

export interface FleetCounts {
  devices: number;
  states: Record<FleetState, number>;
  /** Devices per running version (null: not reported yet), most devices first. */
  versions: Array<{ version: string | null; devices: number }>;
}

/**
 * One pass over the owner's devices (or one group's), in SQLite: by the owner index (or the
 * group index), never loading the rows into JavaScript; in the CountingThread, off the event
 * loop (100-300 ms at 100,000 devices). The state rule, first match wins:
 * silent (no contact since `silentBefore`; never seen and created before it), unknown (no running
 * or served version), up-to-date (the same string), failed (pending, and the device's last MQTT
 * update response was 203, "failed or no update"), pending.
 */
const SUMMARY_SQL = `
  SELECT state, version, count(*) AS n FROM (
    SELECT CASE
             WHEN COALESCE(d.last_contact, d.created_at) < @silentBefore THEN 'silent'
             WHEN d.running_version IS NULL OR COALESCE(g.ota_version, d.ota_version) IS NULL
               THEN 'unknown'
             WHEN d.running_version = COALESCE(g.ota_version, d.ota_version) THEN 'up-to-date'
             WHEN d.update_response_code = 203 THEN 'failed'
             ELSE 'pending'
           END AS state,
           d.running_version AS version
    FROM devices d LEFT JOIN groups g ON g.id = d.group_id
    WHERE %WHERE%) AS classified
  GROUP BY state, version`;

type Row = { state: FleetState; version: string | null; n: number };

const OF_OWNER = SUMMARY_SQL.replace('%WHERE%', 'd.owner = @owner');
const OF_GROUP = SUMMARY_SQL.replace('%WHERE%', 'd.group_id = @group AND d.owner = @owner');

export class FleetSummaryStore {
  constructor(private readonly thread: Counting) {}

  /** Reads what was committed when asked: flush buffered writes first. */
  async counts(owner: string, group: string | null, silentBefore: string): Promise<FleetCounts> {
    const rows =
      group === null
        ? await this.thread.all<Row>(OF_OWNER, { owner, silentBefore })
        : await this.thread.all<Row>(OF_GROUP, { owner, group, silentBefore });
    const states: Record<FleetState, number> = {
      'up-to-date': 0,
      pending: 0,
      failed: 0,
      silent: 0,
      unknown: 0,
    };
    const versions = new Map<string | null, number>();
    let devices = 0;
    for (const { state, version, n } of rows) {
      states[state] += n;
      versions.set(version, (versions.get(version) ?? 0) + n);
      devices += n;
    }
    return {
      devices,
      states,
      versions: [...versions]
        .map(([version, count]) => ({ version, devices: count }))
        .sort(
          (a, b) => b.devices - a.devices || String(a.version).localeCompare(String(b.version)),
        ),
    };
  }
}
