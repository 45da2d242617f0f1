import type { UpdateState } from '../../services/device-service.js';
import type { Counting } from '../counting.js';

export type UpdateStateCounts = Record<UpdateState, number>;

/**
 * How many devices are in each update state, by the rule of `updateState()` in
 * services/device-service.ts (a test holds the two equal): unknown until the device reported a
 * version and has one to be served; up-to-date when they are the same string; else pending.
 */
const UPDATE_STATE_COUNTS_SQL = `
  SELECT CASE
           WHEN running_version IS NULL OR served IS NULL THEN 'unknown'
           WHEN running_version = served THEN 'up-to-date'
           ELSE 'pending'
         END AS state,
         count(*) AS n
  FROM (SELECT d.running_version, COALESCE(g.ota_version, d.ota_version) AS served
        FROM devices d LEFT JOIN groups g ON g.id = d.group_id) AS served_versions
  GROUP BY state`;

export interface UpdateStateCounterOptions {
  /** Counts younger than this are answered again without asking the database. */
  maxAgeMs?: number;
}

/**
 * Counts devices by update state for `ota_devices`, off the event loop: the count reads every
 * device row, so `thread` (a CountingThread, shared with the fleet summary) runs it, and a
 * result is reused for `maxAgeMs`, so several Prometheus servers scraping at once cost one
 * count.
 */
export class UpdateStateCounter {
  private inFlight: Promise<UpdateStateCounts> | undefined;
  private last: { at: number; counts: UpdateStateCounts } | undefined;
  private readonly maxAgeMs: number;

  constructor(
    private readonly thread: Counting,
    { maxAgeMs = 10_000 }: UpdateStateCounterOptions = {},
  ) {
    this.maxAgeMs = maxAgeMs;
  }

  /** Counts at most `maxAgeMs` old. */
  counts(): Promise<UpdateStateCounts> {
    if (this.last && Date.now() - this.last.at < this.maxAgeMs) {
      return Promise.resolve(this.last.counts);
    }
    this.inFlight ??= this.ask().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  private async ask(): Promise<UpdateStateCounts> {
    const rows = await this.thread.all<{ state: UpdateState; n: number }>(UPDATE_STATE_COUNTS_SQL);
    const counts: UpdateStateCounts = { 'up-to-date': 0, pending: 0, unknown: 0 };
    for (const { state, n } of rows) counts[state] = n;
    this.last = { at: Date.now(), counts };
    return counts;
  }
}
