// Bundles the Action (action/main.ts) into dist/index.js, which the runner starts with
// `node dist/index.js` and nothing else installed, and the `ota-deploy` CLI (action/cli.ts)
// into dist/cli.js, which runs the same way: `node dist/cli.js` from a clone or a release, no
// `npm install`. The output must be byte-identical for the same sources: CI rebuilds both and
// fails when the committed dist/ differs.
import { build } from 'esbuild';
import { chmod, readFile } from 'node:fs/promises';
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

/** The package's version, built in: `ota-deploy -V` and the Action's log print it. */
const { version } = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));

const bundles = [
  { entry: 'action/main.ts', outfile: 'dist/index.js' },
  { entry: 'action/cli.ts', outfile: 'dist/cli.js' }, // keeps cli.ts's #!/usr/bin/env node
];

for (const { entry, outfile } of bundles) {
  await build({
    absWorkingDir: root, // keeps the paths in the bundle's comments relative and stable
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    define: { OTA_DEPLOY_VERSION: JSON.stringify(version) },
    plugins: [withoutHttpClient],
    legalComments: 'eof',
    logLevel: 'warning',
  });

  // A bundled CommonJS module that calls require() gets esbuild's __require shim, which throws
  // at run time in an ES module. Fail here instead; the fix is a createRequire banner.
  const bundle = await readFile(new URL(`../${outfile}`, import.meta.url), 'utf8');
  // (`function __require()` is the name of esbuild's own wrapper for bundled CommonJS modules.)
  if (/(?<!function )__require\(/.test(bundle)) {
    console.error(
      `${outfile} calls require(): add a createRequire banner to scripts/build-action.js`,
    );
    process.exit(1);
  }
}
// `ota-deploy` is the package's bin: a global install links to dist/cli.js and runs it directly.
await chmod(new URL('../dist/cli.js', import.meta.url), 0o755);
