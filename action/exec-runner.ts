import * as exec from '@actions/exec';
import * as io from '@actions/io';
import type { Writable } from 'node:stream';
import type { CommandRunner, RunOptions } from './runner.js';

/** Runs commands with @actions/exec, which echoes each command line before its output. */
export class ExecRunner implements CommandRunner {
  /** `output`: where the commands' stdout goes (the CLI sends it to stderr). */
  constructor(private readonly output?: Writable) {}

  async which(tool: string): Promise<string | undefined> {
    const found = await io.which(tool, false);
    return found === '' ? undefined : found;
  }

  async run(command: string, args: readonly string[], options: RunOptions = {}): Promise<number> {
    const env: Record<string, string> = {};
    for (const [name, value] of Object.entries(process.env)) {
      if (value !== undefined) env[name] = value;
    }
    Object.assign(env, options.env);
    return exec.exec(command, [...args], {
      env,
      ignoreReturnCode: true,
      ...(this.output ? { outStream: this.output } : {}),
    });
  }
}
