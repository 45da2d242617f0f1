/**
 * Where progress goes. The Action writes through @actions/core (workflow commands, masking by
 * the runner); the CLI writes to the terminal and masks secrets itself.
 */
export interface Logger {
  info(message: string): void;
  warning(message: string): void;
  debug(message: string): void;
  /** Registers a value that must never be printed: a token, a password, anything made from one. */
  setSecret(value: string): void;
}
