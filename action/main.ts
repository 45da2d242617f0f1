import * as core from '@actions/core';
import { CoreLogger } from './core-logger.js';
import { deploy } from './deploy.js';
import { ExecRunner } from './exec-runner.js';
import { getInputs } from './input-helper.js';
import { setOutputs, writeFailureSummary, writeSummary } from './outputs.js';
import type { DeploySettings } from './settings.js';
import { writeFleetSummary } from './wait-summary.js';

/** The Action: inputs → settings → build → check → upload → outputs and summary. */
async function run(): Promise<void> {
  let settings: DeploySettings | undefined;
  try {
    settings = await getInputs();
    const result = await deploy(settings, {
      logger: new CoreLogger(),
      runner: new ExecRunner(),
      onFleetReport: writeFleetSummary,
    });
    setOutputs(result);
    await writeSummary(result);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (settings !== undefined) {
      await writeFailureSummary({
        registryUrl: settings.registryUrl,
        target: { kind: settings.target.kind, id: settings.target.id },
        version: settings.version,
        error: message,
      }).catch(() => undefined);
    }
    core.setFailed(message);
  }
}

void run();
