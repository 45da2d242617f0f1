import * as core from '@actions/core';
import type { Logger } from './logger.js';

/** The Action's logger: the runner masks what setSecret registers in every later line. */
export class CoreLogger implements Logger {
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
    if (value !== '') core.setSecret(value);
  }
}
