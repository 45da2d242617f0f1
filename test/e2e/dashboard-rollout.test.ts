/**
 * The dashboard's rollout view in a real browser against a real registry process: a group's new
 * version uploaded from the form with rollout phases, a simulated fleet of stock updaters asking
 * the group's download URL, the rollout halting when one of them rolls back, then resumed and
 * advanced from its buttons.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { createHash } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { bucketOf } from '../../server/services/rollout-service.js';
import { artifactPath, describeInBrowser, launchChromium } from '../support/browser.js';
import { generateEspImage } from '../support/esp-image-generator.js';
import { esp32UpdaterHeaders } from '../support/fleet.js';
import {
  startRegistryProcess,
  killAllRegistries,
  type OperatedRegistry,
} from '../support/registry-process.js';

const EMAIL = 'rollouts@example.com';
const PASSWORD = 'a long enough password';
const v1 = generateEspImage({ seed: 101, size: 32 * 1024 });
const v2 = generateEspImage({ seed: 102, size: 32 * 1024 });
const md5 = (bytes: Buffer) => createHash('md5').update(bytes).digest('hex');

/** MACs the registry's hash puts in the first half (a 50% phase), found by trying. */
function macsInFirstHalf(count: number): string[] {
  const macs: string[] = [];
  for (let i = 0; macs.length < count; i++) {
    const mac = `24:0A:C4:01:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
    if (bucketOf(mac.toUpperCase()) < 5000) macs.push(mac.toUpperCase());
  }
  return macs;
}

describeInBrowser('dashboard: a rollout', () => {
  let browser: Browser;
  let registry: OperatedRegistry;
  let apiKey: string;
  let group: { id: string; token: string };

  beforeAll(async () => {
    browser = await launchChromium();
    registry = await startRegistryProcess(['--no-request-log']);
    ({ apiKey } = await registry.addUser(EMAIL, PASSWORD));
    group = await registry.addGroup(apiKey);
    const form = new FormData();
    form.append('version', '1.0.0');
    form.append('firmware', new Blob([v1]), 'firmware.bin');
    const first = await fetch(`${registry.url}/v1/ota/group/${group.id}/firmware`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}` },
      body: form,
    });
    expect(first.status).toBe(201);
  });

  afterAll(async () => {
    await browser?.close();
    await registry?.stop();
    killAllRegistries();
  });

  /** A stock updater of the group running `image`, asking the group's download URL. */
  const poll = async (image: Buffer, mac: string) =>
    (
      await fetch(`${registry.url}/v1/ota/group/download/${group.id}${group.token}`, {
        headers: esp32UpdaterHeaders({ md5: md5(image), mac }),
      })
    ).status;

  async function rolloutText(page: Page): Promise<string> {
    await page.reload();
    const section = page.getByRole('region', { name: 'Rollout' });
    await section.getByRole('term').first().waitFor();
    return (await section.textContent()) ?? '';
  }

  test('uploaded with phases, halted by a failure, resumed and advanced from the page', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(registry.url);
    await page.getByLabel('Email').fill(EMAIL);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Devices' }).waitFor();

    await page.goto(`${registry.url}/#/upload?group=${group.id}`);
    await page.getByLabel('Firmware').setInputFiles({
      name: 'firmware.bin',
      mimeType: 'application/octet-stream',
      buffer: v2,
    });
    await page.getByLabel('Version').fill('1.1.0');
    await page.getByLabel('Rollout phases (optional)').fill('50,100');
    await page.getByRole('button', { name: 'Upload' }).click();
    await page.getByRole('status').filter({ hasText: 'version 1.1.0' }).waitFor();

    await page.goto(`${registry.url}/#/groups/${group.id}`);
    let text = await rolloutText(page);
    expect(text).toContain('running');
    expect(text).toContain('phase 1 of 2 (50% of devices)');

    // The fleet: a and b are in the first half; both take 1.1.0, then b comes back on 1.0.0.
    const [a, b] = macsInFirstHalf(2);
    expect(await poll(v1, a)).toBe(200);
    expect(await poll(v1, b)).toBe(200);
    expect(await poll(v2, a)).toBe(304);
    expect(await poll(v1, b)).toBe(304);
    text = await rolloutText(page);
    expect(text).toContain('halted');
    expect(text).toMatch(/Verified\s*1/);
    expect(text).toMatch(/Failed\s*1/);
    expect(text).toContain(b);
    expect(text).toContain('then reported 1.0.0');
    await page.screenshot({ path: artifactPath('dashboard-rollout'), fullPage: true });

    await page.getByRole('button', { name: 'Resume' }).click();
    await page.getByText('running').first().waitFor();
    await page.getByRole('button', { name: 'Advance' }).click();
    await page.getByText('phase 2 of 2 (100% of devices)').waitFor();
    await context.close();
  });
});
