import { describe } from '@jest/globals';
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { REPO_ROOT } from './registry.js';

/** Debian's Chromium (`apt-get install -y chromium`), as the brief and .ci/run install it. */
const CHROMIUM = '/usr/bin/chromium';

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
];

const HAVE_CHROMIUM = fs.existsSync(CHROMIUM);

/**
 * Browser tests: skipped, with the command that enables them, on a machine without Chromium;
 * never in CI (CI=true), where a missing browser fails them instead.
 */
export const describeInBrowser: (name: string, fn: () => void) => void =
  HAVE_CHROMIUM || process.env.CI === 'true'
    ? describe
    : (name, fn) => {
        console.warn(`${name}: skipped, no ${CHROMIUM}: run \`apt-get install -y chromium\``);
        describe.skip(name, fn);
      };

export function launchChromium(): Promise<Browser> {
  if (!HAVE_CHROMIUM) {
    throw new Error(
      `${CHROMIUM} is missing: run \`apt-get install -y chromium\` (CI never skips browser tests)`,
    );
  }
  return chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true });
}

/** Where screenshots go (gitignored): test-artifacts/<name>.png. */
export function artifactPath(name: string): string {
  const dir = path.join(REPO_ROOT, 'test-artifacts');
  fs.mkdirSync(dir, { recursive: true });
  return path.join(dir, `${name}.png`);
}
