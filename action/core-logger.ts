import * as core from '@actions/core';
import type { Logger } from './logger.js';

/** The Action's logger: the runner masks what setSecret registers in every later line. */
export class CoreLogger implements Logger {
  private readonly masked = new Set<string>();

  info(message: string): void {
    core.info(message);
  }

  warning(message: string): void {
    core.warning(message);
  }

  debug(message: string): void {
    core.debug(message);
  }

  setSecret(value: string): void {
    if (value === '' || this.masked.has(value)) return;
    this.masked.add(value);
    core.setSecret(value);
  }
}
