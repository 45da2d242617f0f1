// tsc writes plain files; `npx ota-registry` and `npx ota-deploy` (and a global install) run the
// package's bins directly, so they need the executable bit. Run after every compile.
import { chmodSync, readFileSync } from 'node:fs';
import { URL } from 'node:url';

const { bin } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
for (const file of Object.values(bin)) chmodSync(new URL(`../${file}`, import.meta.url), 0o755);
