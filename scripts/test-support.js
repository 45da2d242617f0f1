// The tests' own helpers (test/support: the ESP image generator, the stand-in PlatformIO), for
// the scripts that need them outside Jest: bundled on the fly with esbuild, so that nothing is
// written to disk and the TypeScript sources stay the only copy.
import { build } from 'esbuild';
import { Buffer } from 'node:buffer';
import { fileURLToPath, URL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** `{ generateEspImage, createPioProject, installFakePio }` from test/support. */
export async function loadTestSupport() {
  const bundle = await build({
    stdin: {
      contents: [
        "export { generateEspImage } from './test/support/esp-image-generator.ts';",
        "export { createPioProject, installFakePio } from './test/support/fake-pio.ts';",
      ].join('\n'),
      resolveDir: root,
      loader: 'ts',
    },
    bundle: true,
    write: false,
    platform: 'node',
    format: 'esm',
    logLevel: 'warning',
  });
  const source = Buffer.from(bundle.outputFiles[0].text).toString('base64');
  return import(`data:text/javascript;base64,${source}`);
}

/**
 * A valid ESP32 application image of `size` bytes that carries `version` (as a build with
 * FIRMWARE_VERSION would) and IoTaaP OS's OTA client marks, so every check passes.
 */
export async function sampleImage(version, size = 64 * 1024) {
  const { generateEspImage } = await loadTestSupport();
  return generateEspImage({
    chip: 'esp32',
    size,
    seed: 1,
    embedString: `${version}\0/v1/ota/device/latest/`,
  });
}
