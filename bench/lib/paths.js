// @ts-check
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root; the bench runs the production build found under it. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The registry's CLI as `npm run build:server` emits it. */
export { REGISTRY_CLI as REGISTRY_MAIN } from '../../test/support/serve-process.js';

/** The Action bundle another build step makes (`npm run build`). */
export const ACTION_BUNDLE = path.join(ROOT, 'dist/index.js');

export const RESULTS_DIR = path.join(ROOT, 'bench/results');
