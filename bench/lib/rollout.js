import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { bucketOf } from '../../build/server/services/rollout-service.js';
import { drive } from './load.js';
import { uploadBody } from './multipart.js';
import { request } from './net.js';

/**
 * The rollout phase's set-up, through the registry's HTTP API: two groups that both keep 1.0.0
 * and serve 1.1.0, one of them with a rollout of 1.1.0 running in its first phase (1%). Returns
 * what group downloads need: the groups, the MD5s, and `macs` station MACs all outside that
 * phase (so the rolled-out group answers them 304 for 1.0.0, as the plain one answers 304 for
 * 1.1.0: the same answer, with and without the rollout's choice).
 *
 * @param {{ url: string }} registry
 * @param {{ apiKey: string, generate: (o: object) => Buffer, macs: number }} options
 */
export async function prepareRolloutGroups(registry, { apiKey, generate, macs }) {
  const json = (method, path, body) =>
    request(`${registry.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : Buffer.from(JSON.stringify(body)),
    }).then(({ status, body: answer }) => {
      if (status >= 300) throw new Error(`${method} ${path}: ${status} ${answer}`);
      return JSON.parse(answer.toString('utf8'));
    });
  const images = [generate({ size: 64 * 1024, seed: 6 }), generate({ size: 64 * 1024, seed: 7 })];
  const md5 = images.map((image) => createHash('md5').update(image).digest('hex'));
  const groups = [];
  for (const name of ['plain', 'staged']) {
    const created = await json('POST', '/v1/groups', { name });
    const group = { id: created._id, token: created.token };
    for (const [i, version] of ['1.0.0', '1.1.0'].entries()) {
      const { body, contentType } = uploadBody({
        kind: 'group',
        device: group.id,
        token: group.token,
        version,
        image: images[i],
      });
      const { status } = await request(`${registry.url}/v1/ota/group`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${apiKey}`,
          'content-type': contentType,
          'content-length': String(body.length),
        },
        body,
      });
      if (status !== 201) throw new Error(`group upload ${version}: ${status}`);
    }
    groups.push(group);
  }
  const [plain, staged] = groups;
  await json('POST', `/v1/ota/group/${staged.id}/rollout`, { version: '1.1.0', phases: [1, 100] });
  const outside = [];
  for (let i = 0; outside.length < macs; i++) {
    const mac = ['24', '0A', 'C4', (i >> 16) & 255, (i >> 8) & 255, i & 255]
      .map((b) => (typeof b === 'number' ? b.toString(16).padStart(2, '0') : b))
      .join(':')
      .toUpperCase();
    if (bucketOf(mac) >= 100) outside.push(mac);
  }
  return { plain, staged, previousMd5: md5[0], currentMd5: md5[1], macs: outside };
}

/**
 * Stock HTTPUpdate polls of a group's download URL (HTTP/1.1 keep-alive here, for load), each
 * request with a station MAC drawn from `macs` and the running sketch's `md5`.
 *
 * @param {string} url
 * @param {{ id: string, token: string }} group
 * @param {string} md5
 * @param {string[]} macs
 * @param {{ duration: number, connections?: number }} options
 */
export function pollGroupDownload(url, group, md5, macs, { duration, connections = 100 }) {
  const path = `/v1/ota/group/download/${group.id}${group.token}`;
  return drive({
    url,
    connections,
    duration,
    requests: [
      {
        method: 'GET',
        setupRequest: (req) => ({
          ...req,
          path,
          headers: {
            'user-agent': 'ESP32-http-Update',
            'x-ESP32-STA-MAC': macs[Math.floor(Math.random() * macs.length)],
            'x-ESP32-sketch-md5': md5,
            'x-ESP32-free-space': '1966080',
            'x-ESP32-mode': 'sketch',
          },
        }),
      },
    ],
  });
}
