import { DeployError } from './errors.js';
import type { OtaClient } from '../contract/ota-client.js';
import { chipLabel, type Chip } from '../contract/chips.js';
import { inspectFirmware, locateFirmware, type FirmwareInfo } from './firmware.js';
import type { Logger } from './logger.js';
import * as messages from './messages.js';
import { PlatformIO } from './platformio.js';
import { packageVersion } from '../contract/package-version.js';
import { RegistryClient, uploadUrl, type DeployStatus } from './registry-client.js';
import type { Sleep } from './retry.js';
import type { CommandRunner } from './runner.js';
import type { Credentials, DeploySettings, DeployTarget } from './settings.js';
import { fleetFailure, progressLine, waitForFleet, type FleetReport } from './wait.js';

/** The side effects of a deploy, passed in so that tests can hand fakes. */
export interface DeployDeps {
  logger: Logger;
  runner: CommandRunner;
  sleep?: Sleep;
  /** Told what the fleet said after a wait, verified or not (the Action's job summary). */
  onFleetReport?: (report: FleetReport) => Promise<void>;
}

/** What a deploy did: the Action's outputs and summary, the CLI's result. */
export interface DeployResult {
  registryUrl: string;
  target: { kind: DeployTarget['kind']; id: string };
  version: string;
  firmware: string;
  size: number;
  /** The chip the image is built for, from its header. */
  chip: Chip;
  sha256: string;
  md5: string;
  /** `dry-run`: built and checked, nothing sent to the registry. */
  status: DeployStatus | 'dry-run';
  /** The registry's own words (a dry run's: where the upload would have gone). */
  message: string;
  /** Whether the version string was found in the image; undefined when not checked. */
  versionFound: boolean | undefined;
  /** The OTA clients the image carries ([] for none); undefined when not checked. */
  otaClient: OtaClient[] | undefined;
  /** Whether the registry told the devices to update now (MQTT); undefined when it did not say. */
  triggered: boolean | undefined;
  /** Why a due trigger could not be sent. */
  triggerError?: string;
  /** What the fleet said, when the deploy waited for it (`wait`). */
  fleet?: FleetReport;
}

/**
 * The whole deploy, shared by the Action and the CLI: build, find the image, check it, log
 * in if needed, upload. Secrets are registered with the logger before anything can print them.
 */
export async function deploy(settings: DeploySettings, deps: DeployDeps): Promise<DeployResult> {
  const { logger } = deps;
  maskSecrets(settings.credentials, settings.target, logger);
  logger.info(`ota-deploy ${packageVersion()}`);
  logger.debug(`Settings: ${describeSettings(settings)}`);
  logger.info(
    `Deploying version ${settings.version} to ${settings.target.kind} ${settings.target.id} at ${settings.registryUrl}.`,
  );

  if (settings.build) {
    const pio = new PlatformIO(deps.runner, logger);
    const command = await pio.locate(settings.installPlatformio);
    await pio.build(command, {
      projectDir: settings.projectDir,
      ...(settings.environment !== undefined ? { environment: settings.environment } : {}),
      ...(settings.injectVersion ? { injectVersion: settings.version } : {}),
    });
  }

  const file = await locateFirmware(
    {
      projectDir: settings.projectDir,
      ...(settings.environment !== undefined ? { environment: settings.environment } : {}),
      ...(settings.firmware !== undefined ? { firmware: settings.firmware } : {}),
    },
    logger,
  );
  const info = await inspectFirmware(file, settings.version);
  logger.info(
    `Firmware ${file}: ${info.size} bytes, ${chipLabel(info.chip)} image, SHA-256 ${info.sha256}.`,
  );

  let versionFound: boolean | undefined;
  if (settings.verifyVersion !== 'off') {
    versionFound = info.containsVersion;
    if (versionFound) {
      logger.info(`The image contains its version string "${settings.version}".`);
    } else if (settings.verifyVersion === 'fail') {
      throw new DeployError(messages.versionMissing(settings.version, file));
    } else {
      logger.warning(messages.versionMissing(settings.version, file));
    }
  }
  const otaClient = checkOtaClient(settings, info, logger);

  if (settings.dryRun) {
    const url = uploadUrl(settings.registryUrl, settings.target.kind);
    const message = messages.dryRun(settings, file, info.size, url);
    logger.info(message);
    return {
      ...describeImage(settings, file, info),
      status: 'dry-run',
      message,
      versionFound,
      otaClient,
      triggered: undefined,
    };
  }

  const client = new RegistryClient({
    registryUrl: settings.registryUrl,
    retries: settings.retries,
    logger,
    ...(deps.sleep ? { sleep: deps.sleep } : {}),
  });
  const authToken = await authenticate(client, settings.credentials, logger);

  logger.info(`Uploading ${info.size} bytes.`);
  const outcome = await client.upload(
    authToken,
    settings.target,
    settings.version,
    { path: file, size: info.size },
    {
      ...(settings.trigger !== undefined ? { trigger: settings.trigger } : {}),
      ...(settings.rollout !== undefined ? { rollout: settings.rollout } : {}),
    },
  );
  logger.info(
    outcome.status === 'deployed'
      ? `Deployed: the registry now offers ${settings.version} (${outcome.message}).`
      : `Already deployed: the registry has these exact bytes as ${settings.version} (${outcome.message}).`,
  );

  if (outcome.triggered) {
    logger.info(messages.triggered(settings.target.kind));
  } else if (outcome.triggerError !== undefined) {
    logger.warning(messages.triggerFailed(outcome.triggerError));
  }

  const fleet =
    settings.waitMs !== undefined
      ? await waitForFleet({
          client,
          authToken,
          target: settings.target,
          version: settings.version,
          waitMs: settings.waitMs,
          logger,
        })
      : undefined;
  if (fleet) {
    await deps.onFleetReport?.(fleet);
    if (fleet.outcome !== 'verified') throw fleetFailure(fleet);
    logger.info(`Verified: ${progressLine(fleet)}.`);
  }

  return {
    ...describeImage(settings, file, info),
    status: outcome.status,
    message: outcome.message,
    versionFound,
    otaClient,
    triggered: outcome.triggered,
    ...(outcome.triggerError !== undefined ? { triggerError: outcome.triggerError } : {}),
    ...(fleet ? { fleet } : {}),
  };
}

/** The part of the result that is known before anything is sent. */
function describeImage(settings: DeploySettings, file: string, info: FirmwareInfo) {
  return {
    registryUrl: settings.registryUrl,
    target: { kind: settings.target.kind, id: settings.target.id },
    version: settings.version,
    firmware: file,
    size: info.size,
    chip: info.chip,
    sha256: info.sha256,
    md5: info.md5,
  };
}

/**
 * A device that installs an image without its OTA client is never updated remotely again: say
 * which client the image carries, or warn (or stop, before anything is uploaded) when none.
 */
function checkOtaClient(
  settings: DeploySettings,
  info: FirmwareInfo,
  logger: Logger,
): OtaClient[] | undefined {
  if (settings.verifyOtaClient === 'off') return undefined;
  if (info.otaClient.length > 0) {
    logger.info(`The image carries an OTA client: ${info.otaClient.join(', ')}.`);
  } else if (settings.verifyOtaClient === 'fail') {
    throw new DeployError(messages.otaClientMissing(info.path));
  } else {
    logger.warning(messages.otaClientMissing(info.path));
  }
  return info.otaClient;
}

async function authenticate(
  client: RegistryClient,
  credentials: Credentials,
  logger: Logger,
): Promise<string> {
  if (credentials.kind === 'api-token') return credentials.apiToken;
  logger.info('Logging in to the registry.');
  const token = await client.login(credentials.email, credentials.password);
  // A session token is as good as the password for 30 days.
  logger.setSecret(token);
  return token;
}

/**
 * Registers every secret and every form of one that could be printed: the JSON-escaped and
 * URL-encoded password (they differ when it has special characters) and the device's download
 * path, which is the id and the token joined.
 */
function maskSecrets(credentials: Credentials, target: DeployTarget, logger: Logger): void {
  const secrets: string[] = [target.token, `${target.id}${target.token}`];
  if (credentials.kind === 'api-token') {
    secrets.push(credentials.apiToken);
  } else {
    const { password } = credentials;
    secrets.push(password, JSON.stringify(password).slice(1, -1), encodeURIComponent(password));
  }
  for (const secret of new Set(secrets)) logger.setSecret(secret);
}

/** The settings as --verbose prints them: every decision, no secret (only which kind of login). */
function describeSettings(settings: DeploySettings): string {
  const { credentials, target, ...rest } = settings;
  return JSON.stringify({
    ...rest,
    credentials: credentials.kind,
    target: { kind: target.kind, id: target.id },
  });
}
