import { nowIso } from '../ids.js';
import type { FleetCounts, FleetSummaryStore } from '../storage/sqlite/fleet-summary.js';
import type { CheckinRecorder } from './checkin-recorder.js';
import type { DeviceReportRecorder } from './device-reports.js';
import type { GroupService } from './group-service.js';

export interface FleetSummary extends FleetCounts {
  /** The group summarized, or null for all the owner's devices. */
  group: string | null;
  /** The setting that makes a device silent, in seconds. */
  silentAfterSeconds: number;
}

/** The dashboard's "fleet at a glance": devices by running version and by state. */
export class FleetService {
  constructor(
    private readonly store: FleetSummaryStore,
    private readonly groups: GroupService,
    private readonly checkins: CheckinRecorder,
    private readonly reports: DeviceReportRecorder,
    private readonly silentAfterSeconds: number,
  ) {}

  /** The owner's devices, or one of the owner's groups' (404 for another owner's group). */
  async summary(
    owner: string,
    group: string | null,
    now: number = Date.now(),
  ): Promise<FleetSummary> {
    if (group !== null) this.groups.get(owner, group);
    // Contacts and MQTT reports wait in memory for a batch write: count what devices said
    // (committed here, before the question goes to the counting thread's connection).
    this.checkins.flush();
    this.reports.flush();
    const silentBefore = nowIso(now - this.silentAfterSeconds * 1000);
    return {
      group,
      silentAfterSeconds: this.silentAfterSeconds,
      ...(await this.store.counts(owner, group, silentBefore)),
    };
  }
}
