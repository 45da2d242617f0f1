// @ts-check
import { build } from 'esbuild';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from './paths.js';

const SOURCE = 'test/support/esp-image-generator.ts';
const OUTFILE = path.join(ROOT, 'build/bench/esp-image-generator.js');

/**
 * The tests' image generator, compiled on the fly with esbuild (already a devDependency, used
 * for dist/): the bench uses the very code the tests trust, without a second copy and without
 * adding test code to the production build. Takes a few milliseconds.
 *
 * @returns {Promise<(options?: { size?: number, seed?: number, chip?: string }) => Buffer>}
 */
export async function loadImageGenerator() {
  await build({
    absWorkingDir: ROOT,
    entryPoints: [SOURCE],
    outfile: OUTFILE,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'warning',
  });
  const module = await import(pathToFileURL(OUTFILE).href);
  return module.generateEspImage;
}
