import * as core from '@actions/core';
import type { FleetReport } from './wait.js';
import { formatDuration } from './wait.js';

const HEADLINE: Record<FleetReport['outcome'], string> = {
  verified: 'verified',
  failed: 'failed',
  'timed-out': 'not verified in time',
};

/**
 * The job summary's fleet table: how many devices verified the version, downloaded it, failed
 * (each named with the reason) and said nothing, written whether the wait succeeded or not.
 */
export async function writeFleetSummary(report: FleetReport): Promise<void> {
  const cell = (data: string) => ({ data });
  const head = (data: string) => ({ data, header: true });
  const summary = core.summary
    .addHeading(
      `${escapeHtml(report.version)} on ${report.target.kind} <code>${report.target.id}</code>: ${HEADLINE[report.outcome]}`,
      3,
    )
    .addTable([
      ['Rollout', 'Verified', 'Downloaded', 'Failed', 'Silent', 'Waited'].map(head),
      [
        escapeHtml(report.state ? `${report.state}, ${report.phase}` : '-'),
        String(report.verified),
        String(report.downloaded),
        String(report.failed),
        String(report.silent),
        formatDuration(report.waitedMs),
      ].map(cell),
    ]);
  if (report.failures.length > 0) {
    summary.addTable([
      ['Failed device', 'Reason'].map(head),
      ...report.failures.map(({ device, reason }) => [
        cell(`<code>${escapeHtml(device)}</code>`),
        cell(escapeHtml(reason)),
      ]),
    ]);
  }
  await summary.write();
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
}
