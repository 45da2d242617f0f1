import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { md5 } from '../support/hashes.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateEspImage } from '../support/esp-image-generator.js';
import { deployTo, esp32UpdaterHeaders } from '../support/fleet.js';
import { debianBinary } from '../support/debian.js';
import { rawHttp10 } from '../support/http10.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';
import {
  SITE,
  adaptConfig,
  selfSignedCertificate,
  siteRequest,
  startProxy,
  startTap,
  type ProxyProcess,
} from '../support/tls-proxy.js';
import { freePort } from '../support/serve-process.js';

interface Front {
  proxy: ProxyProcess;
  https: string;
  http: string;
}

type StartFront = (
  binary: string,
  dir: string,
  upstreamPort: number,
  cert: { cert: string; key: string },
) => Promise<Front>;

/** deploy/nginx/ota-registry.conf inside a minimal main configuration of the test's own. */
const nginxFront: StartFront = async (binary, dir, upstreamPort, cert) => {
  const [httpsPort, httpPort] = [await freePort(), await freePort()];
  const site = adaptConfig('deploy/nginx/ota-registry.conf', [
    { from: 'server 127.0.0.1:3080;', to: `server 127.0.0.1:${upstreamPort};` },
    { from: 'listen 443 ssl;', to: `listen 127.0.0.1:${httpsPort} ssl;` },
    { from: 'listen [::]:443 ssl;', to: '' },
    { from: 'listen 80;', to: `listen 127.0.0.1:${httpPort};` },
    { from: 'listen [::]:80;', to: '' },
    { from: '/etc/ssl/ota-registry/fullchain.pem', to: cert.cert },
    { from: '/etc/ssl/ota-registry/privkey.pem', to: cert.key },
  ]);
  fs.writeFileSync(path.join(dir, 'ota-registry.conf'), site);
  const conf = path.join(dir, 'nginx.conf');
  fs.writeFileSync(
    conf,
    `# Written by test/deploy/tls-proxies.test.ts
${process.getuid?.() === 0 ? 'user root;' : ''}
daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  include ${dir}/ota-registry.conf;
}
`,
  );
  const args = ['-p', `${dir}/`, '-c', conf, '-e', path.join(dir, 'error.log')];
  const proxy = await startProxy(binary, args, { PATH: process.env.PATH }, httpsPort, 'SIGTERM');
  return { proxy, https: `https://127.0.0.1:${httpsPort}`, http: `http://127.0.0.1:${httpPort}` };
};

/** deploy/caddy/Caddyfile with the test's certificate, ports and storage. */
const caddyFront: StartFront = async (binary, dir, upstreamPort, cert) => {
  const [httpsPort, httpPort] = [await freePort(), await freePort()];
  const global = `{
\tdefault_bind 127.0.0.1
\tadmin off
\thttp_port ${httpPort}
\thttps_port ${httpsPort}
\tskip_install_trust
\tstorage file_system ${dir}/storage
}
`;
  const site = adaptConfig('deploy/caddy/Caddyfile', [
    { from: 'reverse_proxy 127.0.0.1:3080 {', to: `reverse_proxy 127.0.0.1:${upstreamPort} {` },
    { from: `\n${SITE} {\n`, to: `\n${SITE} {\n\ttls ${cert.cert} ${cert.key}\n` },
  ]);
  const file = path.join(dir, 'Caddyfile');
  fs.writeFileSync(file, global + site);
  const env = {
    PATH: process.env.PATH,
    HOME: dir,
    XDG_DATA_HOME: path.join(dir, 'data'),
    XDG_CONFIG_HOME: path.join(dir, 'config'),
  };
  const args = ['run', '--config', file, '--adapter', 'caddyfile'];
  const proxy = await startProxy(binary, args, env, httpsPort, 'SIGTERM');
  return { proxy, https: `https://127.0.0.1:${httpsPort}`, http: `http://127.0.0.1:${httpPort}` };
};

/** The same checks for each TLS front the self-hosting kit ships. */
function frontSuite(name: string, binary: string | undefined, start: StartFront): void {
  (binary ? describe : describe.skip)(`${name} in front of the registry (deploy/${name})`, () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `ota-${name}-`));
    const firmware = generateEspImage({ seed: 81, size: 640 * 1024 });
    let registry: TestRegistry;
    let tap: Awaited<ReturnType<typeof startTap>>;
    let front: Front;
    let ca: Buffer;
    let apiKey: string;
    let device: { id: string; token: string };

    beforeAll(async () => {
      registry = await startRegistry();
      apiKey = await registry.addUser();
      device = await registry.addDevice(apiKey);
      expect((await deployTo(registry, apiKey, 'device', device, '1.0.0', firmware)).status).toBe(
        201,
      );
      tap = await startTap(registry.url);
      const cert = selfSignedCertificate(dir);
      ca = fs.readFileSync(cert.cert);
      front = await start(binary!, dir, tap.port, cert);
    });

    afterAll(async () => {
      await front?.proxy.stop();
      await tap?.close();
      await registry?.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    const downloadPath = () => `/v1/ota/device/download/${device.id}${device.token}`;

    test('an HTTP/1.0 updater download over TLS gets the exact bytes, Content-Length and x-MD5', async () => {
      const headers = esp32UpdaterHeaders({ md5: md5(Buffer.from('what the device runs')) });
      const res = await rawHttp10(front.https, downloadPath(), headers, {
        ca,
        servername: SITE,
      });
      expect(res.status).toBe(200);
      expect(res.headers['content-length']).toBe(String(firmware.length));
      expect(res.headers['transfer-encoding']).toBeUndefined();
      expect(res.headers['x-md5']).toBe(md5(firmware));
      expect(res.body.equals(firmware)).toBe(true);
    });

    test('plain HTTP: device URLs are proxied (devices follow no redirect), the rest redirected', async () => {
      const res = await rawHttp10(front.http, downloadPath(), { Host: SITE });
      expect(res.status).toBe(200);
      expect(res.headers['content-length']).toBe(String(firmware.length));
      expect(res.headers['x-md5']).toBe(md5(firmware));
      expect(res.body.equals(firmware)).toBe(true);
      const latest = await siteRequest(front.http, `/v1/ota/device/latest/${device.id}`, { ca });
      expect([latest.status, latest.body.toString()]).toEqual([200, '{"ver":"1.0.0"}']);
      const api = await siteRequest(front.http, '/v1/devices', { ca });
      expect(api.status).toBe(301);
      expect(api.headers.location).toBe(`https://${SITE}/v1/devices`);
    });

    test('latest is not cached: an upload through the proxy shows on the next poll', async () => {
      const poll = async () => {
        const res = await siteRequest(front.https, `/v1/ota/device/latest/${device.id}`, { ca });
        expect(res.headers['cache-control']).toBe('no-store');
        return res.body.toString();
      };
      expect(await poll()).toBe('{"ver":"1.0.0"}');
      expect(await poll()).toBe('{"ver":"1.0.0"}');

      const form = new FormData();
      form.set('device', device.id);
      form.set('token', device.token);
      form.set('version', '1.0.1');
      form.set('firmware', new Blob([generateEspImage({ seed: 82 })]), 'firmware.bin');
      const multipart = new Request('http://localhost/', { method: 'POST', body: form });
      const uploaded = await siteRequest(front.https, '/v1/ota/device', {
        ca,
        method: 'POST',
        headers: {
          Authorization: `Bearer ${apiKey}`,
          'Content-Type': multipart.headers.get('content-type')!,
        },
        body: Buffer.from(await multipart.arrayBuffer()),
      });
      expect(uploaded.status).toBe(201);
      expect(await poll()).toBe('{"ver":"1.0.1"}');
    });

    test('X-Forwarded-For reaches the registry as the address the proxy saw, not a forged one', async () => {
      tap.forwardedFor.length = 0;
      const res = await siteRequest(front.https, `/v1/ota/device/latest/${device.id}`, {
        ca,
        headers: { 'X-Forwarded-For': '203.0.113.9' },
      });
      expect(res.status).toBe(200);
      expect(tap.forwardedFor).toEqual(['127.0.0.1']);
    });
  });
}

frontSuite('nginx', debianBinary('nginx', ['/usr/sbin/nginx', '/usr/bin/nginx']), nginxFront);
frontSuite('caddy', debianBinary('caddy', ['/usr/bin/caddy', '/usr/local/bin/caddy']), caddyFront);
