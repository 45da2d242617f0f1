/**
 * Running documented commands as written: the fenced blocks of a Markdown file, in bash.
 * test/e2e/readme.test.ts and test/e2e/install.test.ts run what the README and docs/ tell
 * users to paste.
 */
import { spawn } from 'node:child_process';
import type { CliResult } from './registry-process.js';

/** The fenced blocks of `lang` between `<!-- name:start -->` and `<!-- name:end -->`. */
export function fencedBlocks(markdown: string, name: string, lang: string): string[] {
  const start = markdown.indexOf(`<!-- ${name}:start -->`);
  const end = markdown.indexOf(`<!-- ${name}:end -->`);
  if (start === -1 || end < start) throw new Error(`no ${name} markers`);
  const fence = new RegExp('^```' + lang + '\\n([\\s\\S]*?)^```$', 'gm');
  return [...markdown.slice(start, end).matchAll(fence)].map((match) => match[1] as string);
}

/** Runs a script in bash, as a terminal would, without Jest's NODE_OPTIONS or outer OTA_*. */
export function bash(
  script: string,
  options: { cwd: string; env?: Record<string, string>; input?: string },
): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^(OTA_|INPUT_|GITHUB_|CI_COMMIT_)/.test(name) && name !== 'NODE_OPTIONS') {
      env[name] = value;
    }
  }
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-euo', 'pipefail', '-c', script], {
      cwd: options.cwd,
      env: { ...env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    // A script that exits without reading its input must not fail the test with EPIPE.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}
