// Bundles the Action (action/main.ts) into dist/index.js, which the runner starts with
// `node dist/index.js` and nothing else installed. The output must be byte-identical for the
// same sources: CI rebuilds it and fails when the committed dist/ differs.
import { build } from 'esbuild';
import { readFile } from 'node:fs/promises';
import { fileURLToPath, URL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * @actions/core imports @actions/http-client (and through it undici, 90% of the bundle) only
 * for core.getIDToken(), the OIDC token request, which this Action never makes. Replacing it
 * with a module that throws if it is ever used keeps dist/ around 100 kB and startup fast.
 */
const withoutHttpClient = {
  name: 'without-http-client',
  setup(build) {
    build.onResolve({ filter: /^@actions\/http-client(\/.*)?$/ }, (args) => ({
      path: args.path,
      namespace: 'without-http-client',
    }));
    build.onLoad({ filter: /.*/, namespace: 'without-http-client' }, () => ({
      contents: [
        'const unavailable = () => {',
        "  throw new Error('@actions/http-client is not bundled: ota-deploy does not request OIDC tokens');",
        '};',
        'export class HttpClient { constructor() { unavailable(); } }',
        'export class BearerCredentialHandler { constructor() { unavailable(); } }',
      ].join('\n'),
      loader: 'js',
    }));
  },
};

await build({
  absWorkingDir: root, // keeps the paths in the bundle's comments relative and stable
  entryPoints: ['action/main.ts'],
  outfile: 'dist/index.js',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  plugins: [withoutHttpClient],
  legalComments: 'eof',
  logLevel: 'warning',
});

// A bundled CommonJS module that calls require() gets esbuild's __require shim, which throws at
// run time in an ES module. Fail here instead; the fix is a createRequire banner.
const bundle = await readFile(new URL('../dist/index.js', import.meta.url), 'utf8');
// (`function __require()` is the name of esbuild's own wrapper for bundled CommonJS modules.)
if (/(?<!function )__require\(/.test(bundle)) {
  console.error(
    'dist/index.js calls require(): add a createRequire banner to scripts/build-action.js',
  );
  process.exit(1);
}
