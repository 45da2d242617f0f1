import type { Logger } from './logger.js';

export interface ConsoleLoggerOptions {
  /** Where lines go; the CLI keeps stdout for its result. */
  write: (line: string) => void;
  verbose?: boolean;
}

/**
 * The CLI's logger. No runner masks its output, so it replaces every registered secret with
 * `***` itself, longest first so that a secret containing another is hidden whole.
 */
export class ConsoleLogger implements Logger {
  private secrets: string[] = [];

  constructor(private readonly options: ConsoleLoggerOptions) {}

  info(message: string): void {
    this.options.write(this.mask(message));
  }

  warning(message: string): void {
    this.options.write(`warning: ${this.mask(message)}`);
  }

  debug(message: string): void {
    if (this.options.verbose) this.options.write(`debug: ${this.mask(message)}`);
  }

  setSecret(value: string): void {
    if (value === '' || this.secrets.includes(value)) return;
    this.secrets = [...this.secrets, value].sort((a, b) => b.length - a.length);
  }

  mask(text: string): string {
    let masked = text;
    for (const secret of this.secrets) masked = masked.split(secret).join('***');
    return masked;
  }
}
