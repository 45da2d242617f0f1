import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Set by the bundler (scripts/build-action.js) in dist/index.js and dist/cli.js. */
declare const OTA_DEPLOY_VERSION: string | undefined;

/**
 * This package's version (package.json's), which `ota-registry --version`, `ota-deploy -V` and
 * the Action's log print. The bundles have it built in; the compiled files (build/) find the
 * package.json above them, wherever the package is installed.
 */
export function packageVersion(): string {
  if (typeof OTA_DEPLOY_VERSION === 'string') return OTA_DEPLOY_VERSION;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: unknown;
        version?: unknown;
      };
      if (manifest.name === 'ota-deploy' && typeof manifest.version === 'string') {
        return manifest.version;
      }
    } catch {
      // No package.json here (or not ours): look one level up.
    }
    const parent = dirname(dir);
    if (parent === dir) return 'unknown';
    dir = parent;
  }
}
