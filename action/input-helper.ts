import * as core from '@actions/core';
import { githubVersionSource } from './github-context.js';
import { parseSettings, SETTING_NAMES, type DeploySettings, type RawSettings } from './settings.js';

const SECRET_INPUTS = ['api-token', 'password', 'device-token', 'group-token'] as const;

/**
 * The Action's inputs as validated settings. The only reader of core.getInput. Secrets are
 * masked before validation, so that no error message can show one.
 */
export async function getInputs(
  env: Readonly<Record<string, string | undefined>> = process.env,
  cwd: string = process.cwd(),
): Promise<DeploySettings> {
  const raw: RawSettings = {};
  for (const name of SETTING_NAMES) raw[name] = core.getInput(name);
  for (const name of SECRET_INPUTS) {
    const value = raw[name]?.trim();
    if (value) core.setSecret(value);
  }
  return parseSettings(raw, await githubVersionSource(env), cwd);
}
