// The workspace for the workflow's `uses: ./` self-test (test/e2e/install.test.ts runs the same
// steps): a PlatformIO project, and a stand-in `pio` first on PATH that "builds" a valid ESP32
// image carrying the version and an OTA client. A dry run of the Action needs no PlatformIO.
// Needs the devDependencies (npm ci): the helpers are the tests' own, bundled with esbuild.
//
// Usage: node .ci/self-test-project.js <dir> <version>
//   prints the project directory and the directory to put first on PATH, one per line.
import path from 'node:path';
import { loadTestSupport, sampleImage } from '../scripts/test-support.js';

const [dir, version] = process.argv.slice(2);
if (!dir || !version) {
  console.error('usage: node .ci/self-test-project.js <dir> <version>');
  process.exit(2);
}
const { createPioProject, installFakePio } = await loadTestSupport();
const project = path.resolve(dir, 'project');
await createPioProject(project, ['esp32dev']);
const pio = await installFakePio(path.resolve(dir, 'tools'), { image: await sampleImage(version) });
console.log(project);
console.log(pio.binDir);
