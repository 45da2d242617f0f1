/** A bad option: the user must change the workflow or the command line. CLI exit code 2. */
export class SettingsError extends Error {
  override name = 'SettingsError';
}

/** The deploy itself failed (build, firmware, registry). CLI exit code 1. */
export class DeployError extends Error {
  override name = 'DeployError';
}

/** The registry answered with an error status; `message` already says what to do. */
export class RegistryError extends DeployError {
  override name = 'RegistryError';

  constructor(
    message: string,
    /** The HTTP status, e.g. 404. */
    readonly status: number,
    /** The registry's own `message`, when it sent one. */
    readonly registryMessage: string | undefined,
  ) {
    super(message);
  }
}
