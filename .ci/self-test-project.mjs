// The workspace for the workflow's `uses: ./` self-test (and test/e2e/install.test.ts, which
// runs the same steps): a PlatformIO project and a stand-in `pio` first on PATH that "builds" a
// valid ESP32 image carrying the version and an OTA client. PlatformIO itself is not needed for
// a dry run of the Action. The helpers are the tests' own (test/support), bundled on the fly.
//
// Usage: node .ci/self-test-project.mjs <dir> <version>
//   prints the project directory and the directory to put first on PATH, one per line.
import { build } from 'esbuild';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const [dir, version] = process.argv.slice(2);
if (!dir || !version) {
  console.error('usage: node .ci/self-test-project.mjs <dir> <version>');
  process.exit(2);
}
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
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
const { generateEspImage, createPioProject, installFakePio } = await import(
  `data:text/javascript;base64,${source}`
);

const project = path.resolve(dir, 'project');
await createPioProject(project, ['esp32dev']);
const image = generateEspImage({
  chip: 'esp32',
  size: 64 * 1024,
  seed: 1,
  embedString: `${version}\0/v1/ota/device/latest/`,
});
const pio = await installFakePio(path.resolve(dir, 'tools'), { image });
console.log(project);
console.log(pio.binDir);
