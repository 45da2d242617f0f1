// `npm run -s sample-firmware -- <file> [version]`: writes a valid ESP32 application image
// (not a program: it boots nothing) that carries the version (default 1.0.0) and an OTA
// client's marks, for trying the registry without a PlatformIO build of your own. The README's
// quick start uses it; test/e2e/readme.test.ts runs that.
import { writeFile } from 'node:fs/promises';
import { sampleImage } from './test-support.js';

const [file, version = '1.0.0'] = process.argv.slice(2);
if (!file) {
  console.error('usage: npm run -s sample-firmware -- <file> [version]');
  process.exit(2);
}
await writeFile(file, await sampleImage(version));
