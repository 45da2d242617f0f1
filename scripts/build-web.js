// Builds the dashboard (web/, Preact) into dist/web/: index.html and assets/<name>-<hash>.js|css.
// The registry serves them at / (server/routes/dashboard.ts). Same sources, same bytes: CI
// rebuilds and fails when the committed dist/ differs, so nothing here may depend on the time,
// the machine or the path of the checkout.
import { build } from 'esbuild';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, URL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = path.join(root, 'dist/web');

// Old hashed files would linger (and be served) after a change: start empty.
await rm(out, { recursive: true, force: true });
await mkdir(path.join(out, 'assets'), { recursive: true });

const result = await build({
  absWorkingDir: root,
  entryPoints: ['web/main.tsx'],
  outdir: 'dist/web/assets',
  entryNames: '[name]-[hash]',
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2020',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  tsconfig: 'web/tsconfig.json',
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
});

const outputs = Object.keys(result.metafile.outputs).map((file) => path.basename(file));
const script = outputs.find((name) => name.endsWith('.js'));
const style = outputs.find((name) => name.endsWith('.css'));
if (!script || !style) throw new Error(`build-web: expected a .js and a .css, got ${outputs}`);

// No inline script or style: the Content-Security-Policy allows 'self' only.
const html = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>ota-deploy registry</title>
    <link rel="stylesheet" href="/assets/${style}" />
    <script type="module" src="/assets/${script}"></script>
  </head>
  <body>
    <div id="app"></div>
    <noscript>The dashboard needs JavaScript. The API works without it: see docs/api.md.</noscript>
  </body>
</html>
`;
await writeFile(path.join(out, 'index.html'), html);
const sizes = Object.entries(result.metafile.outputs)
  .map(([file, { bytes }]) => `${path.basename(file)} ${(bytes / 1024).toFixed(1)} KiB`)
  .join(', ');
console.log(`dist/web: ${sizes}`);
