import * as core from '@actions/core';
import type { DeployResult } from './deploy.js';
import { otaClientList } from './messages.js';

/** The outputs declared in action.yml. */
export function setOutputs(result: DeployResult): void {
  core.setOutput('version', result.version);
  core.setOutput('firmware', result.firmware);
  core.setOutput('size', String(result.size));
  core.setOutput('sha256', result.sha256);
  core.setOutput('md5', result.md5);
  core.setOutput('status', result.status);
  core.setOutput('triggered', String(result.triggered === true));
}

/** What the summary can say about a run that failed, when the settings were readable. */
export interface FailedRun {
  registryUrl: string;
  target: DeployResult['target'];
  version: string;
  error: string;
}

const RESULT_TEXT: Record<DeployResult['status'], string> = {
  deployed: 'Deployed',
  'already-deployed': 'Already deployed (same bytes; nothing changed)',
  'dry-run': 'Dry run: built and checked, nothing uploaded',
};

const HEADING: Record<DeployResult['status'], string> = {
  deployed: 'deployed',
  'already-deployed': 'already deployed',
  'dry-run': 'ready (dry run, not uploaded)',
};

function header(kind: DeployResult['target']['kind']) {
  const target = kind === 'group' ? 'Group' : 'Device';
  return [target, 'Version', 'Size', 'SHA-256', 'OTA client', 'Registry', 'Result'].map((data) => ({
    data,
    header: true,
  }));
}

/** The job summary: device, version, size, SHA-256, OTA client, registry, result. Never a secret. */
export async function writeSummary(result: DeployResult): Promise<void> {
  let outcome = escapeHtml(RESULT_TEXT[result.status]);
  if (result.triggered) {
    outcome += '<br>Devices told to update now (MQTT trigger)';
  } else if (result.triggerError !== undefined) {
    outcome += `<br>Not triggered: ${escapeHtml(result.triggerError)}`;
  }
  if (result.versionFound === false) {
    outcome += `<br>Warning: "${escapeHtml(result.version)}" was not found inside the image`;
  }
  if (result.otaClient?.length === 0) {
    outcome +=
      '<br>Warning: the image carries no OTA client; devices that install it cannot be updated over the air again';
  }
  await core.summary
    .addHeading(`Firmware ${escapeHtml(result.version)} ${HEADING[result.status]}`, 3)
    .addTable([
      header(result.target.kind),
      [
        code(result.target.id),
        code(result.version),
        `${result.size} bytes`,
        code(result.sha256),
        otaClientList(result.otaClient, code),
        code(result.registryUrl),
        outcome,
      ].map((data) => ({ data })),
    ])
    .write();
}

export async function writeFailureSummary(run: FailedRun): Promise<void> {
  await core.summary
    .addHeading(`Firmware ${escapeHtml(run.version)} not deployed`, 3)
    .addTable([
      header(run.target.kind),
      [
        code(run.target.id),
        code(run.version),
        '',
        '',
        '',
        code(run.registryUrl),
        `Failed: ${escapeHtml(run.error)}`,
      ].map((data) => ({ data })),
    ])
    .write();
}

function code(value: string): string {
  return `<code>${escapeHtml(value)}</code>`;
}

function escapeHtml(value: string): string {
  return value.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
}
