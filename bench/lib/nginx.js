// @ts-check
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { freePort } from '../../test/support/serve-process.js';
import { waitForOk } from './net.js';
import { stopProcess } from '../../test/support/serve-process.js';

const CANDIDATES = ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/local/nginx/sbin/nginx'];

export const NGINX_INSTALL_HINT = [
  'nginx is not installed; the bench compares the registry with nginx serving the same bytes.',
  'Install it (Debian/Ubuntu):  sudo apt-get update && sudo apt-get install -y nginx',
  'or point to a binary with --nginx /path/to/nginx, or run without it: npm run bench -- --without-nginx',
].join('\n');

/**
 * The nginx binary to use: `explicit` if given, else `nginx` on PATH, else the usual sbin
 * locations (a non-root PATH often lacks /usr/sbin). Undefined when there is none.
 *
 * @param {string | undefined} explicit
 */
export function findNginx(explicit) {
  const candidates = explicit ? [explicit] : ['nginx', ...CANDIDATES];
  for (const candidate of candidates) {
    const probe = spawnSync(candidate, ['-v'], { encoding: 'utf8' });
    if (!probe.error && probe.status === 0) {
      return { binary: candidate, version: probe.stderr.trim().replace(/^nginx version: /, '') };
    }
  }
  return undefined;
}

/**
 * Starts nginx in the foreground (`daemon off`) as a child, with its own prefix and
 * configuration under `dir`, on a free loopback port. It answers the two device URLs the way a
 * hand-made static setup would: every `latest/<id>` with `latestJson` (same headers as the
 * registry), every `download/<id><token>` with `firmwareFile` (hard-linked, so the very same
 * bytes and page cache), plus the registry's download headers.
 *
 * @param {{ binary: string, dir: string, latestJson: string, firmwareFile: string, md5: string,
 *   accessLog: boolean, workers: string }} options
 */
export async function startNginx({
  binary,
  dir,
  latestJson,
  firmwareFile,
  md5,
  accessLog,
  workers,
}) {
  const root = path.join(dir, 'root');
  fs.mkdirSync(root, { recursive: true });
  fs.writeFileSync(path.join(root, 'latest.json'), latestJson);
  fs.linkSync(firmwareFile, path.join(root, 'firmware.bin'));
  const port = await freePort();
  const conf = path.join(dir, 'nginx.conf');
  fs.writeFileSync(conf, config({ dir, root, port, md5, accessLog, workers }));
  const child = spawn(binary, ['-p', dir, '-c', conf, '-e', path.join(dir, 'error.log')], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  let exited = false;
  child.once('exit', () => (exited = true));
  const url = `http://127.0.0.1:${port}`;
  await waitForOk(`${url}/v1/ota/device/latest/${'0'.repeat(24)}`, { stillRunning: () => !exited });
  return { url, pid: child.pid, stop: () => stopProcess(child, 'SIGQUIT') };
}

/**
 * @param {{ dir: string, root: string, port: number, md5: string, accessLog: boolean,
 *   workers: number | string }} options
 */
function config({ dir, root, port, md5, accessLog, workers }) {
  // Workers of a root master switch to "nobody", who cannot read a 0700 temp directory.
  const user = process.getuid?.() === 0 ? 'user root;' : '';
  return `# Written by bench/lib/nginx.js for one bench run.
${user}
daemon off;
worker_processes ${workers};
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log ${accessLog ? `${dir}/access.log` : 'off'};
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  sendfile on;
  tcp_nopush on;
  # As the registry: keep-alive 5 s, no cap on requests per connection.
  keepalive_timeout 5s;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:${port};
    root ${root};
    location /v1/ota/device/latest/ {
      default_type application/json;
      add_header Cache-Control no-store;
      rewrite ^ /latest.json break;
    }
    location /v1/ota/device/download/ {
      default_type application/octet-stream;
      add_header Content-Disposition 'attachment; filename="firmware.bin"';
      add_header x-MD5 ${md5};
      add_header Cache-Control no-cache;
      rewrite ^ /firmware.bin break;
    }
  }
}
`;
}
