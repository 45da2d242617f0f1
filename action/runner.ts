/** Runs programs (PlatformIO, pip). Behind an interface so tests can record instead of run. */
export interface CommandRunner {
  /** The absolute path of `tool` on PATH, or undefined. */
  which(tool: string): Promise<string | undefined>;
  /** Runs to completion with the output shown; resolves to the exit code. */
  run(command: string, args: readonly string[], options?: RunOptions): Promise<number>;
}

export interface RunOptions {
  /** Variables to set on top of the current environment. */
  env?: Readonly<Record<string, string>>;
}
