// Builds the dashboard (web/, Preact) into dist/web/: index.html and assets/<name>-<hash>.js|css.
// The registry serves them at / (server/routes/dashboard.ts). Same sources, same bytes: CI
// rebuilds and fails when the committed dist/ differs, so nothing here may depend on the time,
// the machine or the path of the checkout.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
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
  entryNames: '[name]',
  write: false,
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2020',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  tsconfig: 'web/tsconfig.json',
  legalComments: 'none',
  logLevel: 'warning',
});

// Named by their content's hash (not esbuild's [hash], which also hashes the input paths, so a
// checkout elsewhere or a symlinked node_modules would rename identical bytes).
const names = [];
for (const file of result.outputFiles) {
  const ext = path.extname(file.path);
  const hash = createHash('sha256').update(file.contents).digest('hex').slice(0, 12);
  const name = `${path.basename(file.path, ext)}-${hash}${ext}`;
  await writeFile(path.join(out, 'assets', name), file.contents);
  names.push({ name, bytes: file.contents.length });
}
const script = names.find(({ name }) => name.endsWith('.js'))?.name;
const style = names.find(({ name }) => name.endsWith('.css'))?.name;
if (!script || !style) throw new Error('build-web: expected one .js and one .css output');

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
const sizes = names.map(({ name, bytes }) => `${name} ${(bytes / 1024).toFixed(1)} KiB`).join(', ');
console.log(`dist/web: ${sizes}`);
