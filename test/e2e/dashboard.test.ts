/**
 * The operator's dashboard in a real browser (Debian's Chromium through playwright-core) against
 * a real `ota-registry serve` process whose database holds 100,000 devices. The dashboard is
 * driven by its accessible names (API.md, "The dashboard"): labels, roles, button names.
 */
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { chipLabel } from '../../contract/chips.js';
import { Messages } from '../../server/errors.js';
import { artifactPath, describeInBrowser, launchChromium } from '../support/browser.js';
import { generateEspImage } from '../support/esp-image-generator.js';
import {
  cliJson,
  killAllRegistries,
  spawnRegistry,
  type RegistryProcess,
} from '../support/registry-process.js';
import { tempDataDir } from '../support/registry.js';
import { seedDevices } from '../support/seed-devices.js';

const EMAIL = 'operator@example.com';
const PASSWORD = 'correct horse battery staple';
const SEEDED = 100_000;
/** Page scripts (a string: this program's types have no DOM). */
const FITS_WIDTH = 'document.documentElement.scrollWidth <= innerWidth';
/** Builds a File in the page and drops it on the drop zone, with dragover first as a real drag does. */
const DROP_FILE = `({ base64, name }) => {
  const binary = atob(base64);
  const data = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) data[i] = binary.charCodeAt(i);
  const dataTransfer = new DataTransfer();
  dataTransfer.items.add(new File([data], name, { type: 'application/octet-stream' }));
  const zone = document.querySelector('.drop-zone');
  for (const type of ['dragenter', 'dragover', 'drop'])
    zone.dispatchEvent(new DragEvent(type, { dataTransfer, bubbles: true, cancelable: true }));
}`;
const LONG_NAME = `greenhouse-north-wing-irrigation-controller-${'x'.repeat(50)}-end`;

let browser: Browser;
let registry: RegistryProcess;
let apiKey: string;

async function api<T = Record<string, unknown>>(
  method: string,
  path: string,
  json?: unknown,
): Promise<{ status: number; body: T }> {
  const response = await fetch(`${registry.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${apiKey}`,
      ...(json !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(json !== undefined ? { body: JSON.stringify(json) } : {}),
  });
  return { status: response.status, body: (await response.json().catch(() => null)) as T };
}

async function addDevice(name: string, chip?: string): Promise<{ _id: string; token: string }> {
  const { status, body } = await api<{ _id: string; token: string }>('POST', '/v1/devices', {
    name,
    ...(chip ? { chip } : {}),
  });
  expect(status).toBe(201);
  return body;
}

/** A new browser (no cookies), signed in through the form. */
async function signedIn(options: { viewport?: { width: number; height: number } } = {}): Promise<{
  context: BrowserContext;
  page: Page;
}> {
  const context = await browser.newContext({
    viewport: options.viewport ?? { width: 1280, height: 900 },
  });
  const page = await context.newPage();
  await page.goto(registry.url);
  await page.getByLabel('Email').fill(EMAIL);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Devices' }).waitFor();
  return { context, page };
}

/** Drops a file on the upload form's drop zone, as a file dragged from the desktop arrives. */
async function dropFile(page: Page, bytes: Buffer, name: string): Promise<void> {
  const args = JSON.stringify({ base64: bytes.toString('base64'), name });
  await page.evaluate(`(${DROP_FILE})(${args})`);
}

describeInBrowser('dashboard', () => {
  let owner: string;

  beforeAll(async () => {
    // First: without a browser (CI=true) the file fails at once, not after seeding.
    browser = await launchChromium();
    const dataDir = tempDataDir();
    const user = await cliJson<{ id: string; apiKey: string }>(
      ['user', 'add', EMAIL, '--password-stdin', '--data', dataDir],
      `${PASSWORD}\n`,
    );
    owner = user.id;
    apiKey = user.apiKey;
    // An MQTT user, so that a trigger gets as far as the broker (none is configured: 503).
    await cliJson(['user', 'set', EMAIL, '--mqtt-user', 'operator', '--data', dataDir]);
    const started = Date.now();
    seedDevices(dataDir, owner, SEEDED);
    console.log(`seeded ${SEEDED} devices in ${Date.now() - started} ms`);
    registry = await spawnRegistry(dataDir, ['--no-request-log']);
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    registry?.child.kill('SIGTERM');
    await registry?.exited;
    killAllRegistries();
  });

  test('serves the page with a strict Content-Security-Policy and no inline script', async () => {
    const response = await fetch(`${registry.url}/`);
    expect(response.status).toBe(200);
    const csp = response.headers.get('content-security-policy')!;
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('cache-control')).toBe('no-cache');
    const html = await response.text();
    expect(html).not.toMatch(/<script>|<style>| on\w+=/);
    const script = /src="(\/assets\/main-\w+\.js)"/.exec(html)![1];
    const asset = await fetch(`${registry.url}${script}`);
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
  });

  test('sign in: a wrong password is shown, the right one (by keyboard) opens the devices', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const violations: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
    });
    await page.goto(registry.url);
    await page.getByLabel('Email').fill(EMAIL);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toBe(Messages.loginWrong);
    await page.screenshot({ path: artifactPath('dashboard-sign-in') });

    // Keyboard only: focus moves from the password to the button, Enter submits.
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByLabel('Password').press('Enter');
    await page.getByRole('heading', { name: 'Devices' }).waitFor();
    // The session is in an HttpOnly cookie: nothing for page scripts to read or keep.
    const cookies = await context.cookies();
    expect(cookies).toEqual([
      expect.objectContaining({ name: 'ota_session', httpOnly: true, sameSite: 'Strict' }),
    ]);
    await expect(page.evaluate('document.cookie')).resolves.toBe('');
    await expect(page.evaluate('localStorage.length + sessionStorage.length')).resolves.toBe(0);
    expect(violations).toEqual([]);
    await context.close();
  });

  test('finds one device among 100,000 by search, and pages through them', async () => {
    const device = await addDevice('boiler-room-7f3a');
    const { context, page } = await signedIn();
    await expect(
      page.getByRole('status').filter({ hasText: /of / }).first().textContent(),
    ).resolves.toBe(`1–25 of ${(SEEDED + 1).toLocaleString('en-US')}`);
    await page.getByRole('rowheader', { name: /sensor-100000/ }).waitFor();
    await page.screenshot({ path: artifactPath('dashboard-devices') });
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByText(`26–50 of ${(SEEDED + 1).toLocaleString('en-US')}`).waitFor();

    const started = Date.now();
    await page.getByLabel('Search').fill('boiler-room');
    const row = page.getByRole('row').filter({ hasText: 'boiler-room-7f3a' });
    await row.waitFor();
    await page.getByText('1–1 of 1').waitFor();
    const inBrowser = Date.now() - started;
    // The API's own answer time for the same search, from the browser (cookie session).
    const timing = await page.evaluate(async () => {
      const t0 = performance.now();
      const response = await fetch('/v1/devices?search_value=boiler-room&limit=25');
      await response.json();
      const t1 = performance.now();
      await (await fetch('/v1/devices?search_value=sensor-09&limit=25&offset=500')).json();
      return { rare: t1 - t0, common: performance.now() - t1 };
    });
    console.log(
      `search among ${SEEDED} devices: page shows the row ${inBrowser} ms after typing (250 ms of it typing pause); ` +
        `GET /v1/devices rare match ${timing.rare.toFixed(0)} ms, common match page 21 ${timing.common.toFixed(0)} ms`,
    );
    expect(timing.rare).toBeLessThan(5000); // loose: the machine is shared; bench numbers are in docs/dashboard.md
    const cells = await row.getByRole('cell').allTextContents();
    expect(cells).toEqual(['–', '–', '–', '–', 'Unknown', 'never']);
    await page.screenshot({ path: artifactPath('dashboard-devices-search') });
    // A new device's token, shown once with a copy button; the device is listed at once.
    await page.getByText('Add a device').click();
    await page.getByLabel('Name').fill('porch-light');
    await page.getByRole('button', { name: 'Add device' }).click();
    const newToken = await page.getByRole('textbox', { name: 'New token' }).inputValue();
    expect(newToken).toMatch(/^[A-Za-z0-9]{16}$/);
    await page.getByRole('rowheader', { name: /porch-light/ }).waitFor();
    await page.getByLabel('Search').fill('boiler-room');
    await row.waitFor();
    // A seeded device that answered 203 to its update (test/support/seed-devices.ts): Failed, in words.
    await page.getByLabel('Search').fill('sensor-099994');
    const failed = page.getByRole('row').filter({ hasText: 'sensor-099994' });
    await failed.filter({ hasText: 'Failed' }).waitFor();
    await page.getByLabel('Search').fill('boiler-room');
    await row.waitFor();
    await row.getByRole('link', { name: 'boiler-room-7f3a' }).click();
    await page.getByRole('heading', { name: 'boiler-room-7f3a' }).waitFor();
    expect(page.url()).toContain(device._id);
    await context.close();
  });

  test('uploads a firmware by drag and drop and sees the version change; a refused one shows the registry message', async () => {
    const device = await addDevice('drag-drop-target', 'esp32');
    const { context, page } = await signedIn();
    await page.goto(`${registry.url}/#/upload?device=${device._id}`);
    await page.getByRole('heading', { name: 'Upload firmware' }).waitFor();
    expect(await page.getByLabel('Device ID').inputValue()).toBe(device._id);

    await dropFile(
      page,
      generateEspImage({ chip: 'esp32', size: 32 * 1024, seed: 1 }),
      'firmware.bin',
    );
    await page.getByText('firmware.bin, 32.0 KiB').waitFor();
    await page.getByLabel('Version').fill('1.4.0');
    await page.getByRole('button', { name: 'Upload' }).click();
    await expect(
      page.getByRole('status').filter({ hasText: 'Firmware' }).textContent(),
    ).resolves.toBe(`${Messages.firmwareDeployed}: version 1.4.0.`);
    await page.screenshot({ path: artifactPath('dashboard-upload') });
    await page.getByRole('link', { name: 'Open the device' }).click();
    await page.getByRole('heading', { name: 'drag-drop-target' }).waitFor();
    await expect(page.locator('dl.facts dd.version').first().textContent()).resolves.toBe('1.4.0');

    // Refused: an image for another chip. The registry's words, verbatim.
    await page.goto(`${registry.url}/#/upload?device=${device._id}`);
    await page.getByLabel('Firmware').setInputFiles({
      name: 'wrong-chip.bin',
      mimeType: 'application/octet-stream',
      buffer: generateEspImage({ chip: 'esp32s3', size: 32 * 1024, seed: 2 }),
    });
    await page.getByLabel('Version').fill('1.5.0');
    await page.getByRole('button', { name: 'Upload' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toBe(
      Messages.chipMismatch('device', chipLabel('esp32'), chipLabel('esp32s3')),
    );
    // Not an ESP image at all.
    await page.getByLabel('Firmware').setInputFiles({
      name: 'notes.txt',
      mimeType: 'text/plain',
      buffer: Buffer.from('hello, this is not firmware\n'.repeat(20)),
    });
    await page.getByRole('button', { name: 'Upload' }).click();
    await expect(page.getByRole('alert').textContent()).resolves.toMatch(/ESP|image/);
    await page.screenshot({ path: artifactPath('dashboard-upload-refused') });
    const served = await api('GET', `/v1/devices/${device._id}`);
    expect(served.body.version).toBe('1.4.0');
    await context.close();
  });

  test('rolls back from the history, triggers (and shows why not), rotates a token once', async () => {
    const device = await addDevice(LONG_NAME, 'esp32');
    for (const [version, seed] of [
      ['2.0.0', 3],
      ['2.1.0', 4],
    ] as const) {
      const form = new FormData();
      form.append('version', version);
      form.append(
        'firmware',
        new Blob([generateEspImage({ chip: 'esp32', seed })]),
        'firmware.bin',
      );
      const response = await fetch(`${registry.url}/v1/ota/device/${device._id}/firmware`, {
        method: 'POST',
        headers: { authorization: `Bearer ${apiKey}` },
        body: form,
      });
      expect(response.status).toBe(201);
    }
    const { context, page } = await signedIn();
    page.on('dialog', (dialog) => void dialog.accept());
    await page.goto(`${registry.url}/#/devices/${device._id}`);
    await page.getByRole('heading', { name: LONG_NAME }).waitFor();
    const history = page.getByRole('table', { name: 'History' });
    await history
      .getByRole('row')
      .filter({ hasText: '2.1.0' })
      .filter({ hasText: 'Serving' })
      .waitFor();
    await history
      .getByRole('row')
      .filter({ hasText: '2.0.0' })
      .getByRole('button', { name: 'Roll back' })
      .click();
    await page.getByText(Messages.rolledBack('2.0.0')).waitFor();
    await history
      .getByRole('row')
      .filter({ hasText: '2.0.0' })
      .filter({ hasText: 'Serving' })
      .waitFor();
    expect((await api('GET', `/v1/devices/${device._id}`)).body.version).toBe('2.0.0');

    // No broker configured: the trigger endpoint's 503, as the registry words it.
    await page.getByRole('button', { name: 'Trigger update' }).click();
    await page.getByRole('alert').filter({ hasText: Messages.mqttUnavailable }).waitFor();

    await page.getByRole('button', { name: 'Rotate token' }).click();
    const token = await page.getByRole('textbox', { name: 'New token' }).inputValue();
    expect(token).toMatch(/^[A-Za-z0-9]{16}$/);
    await page.getByRole('button', { name: 'Copy' }).click();
    await page.getByText(/^Copied\./).waitFor();
    // The long name wraps: the page never scrolls sideways.
    expect(await page.evaluate(FITS_WIDTH)).toBe(true);
    await page.screenshot({ path: artifactPath('dashboard-device'), fullPage: true });
    const old = await fetch(`${registry.url}/v1/ota/device/download/${device._id}${device.token}`);
    expect(old.status).toBe(404);
    const fresh = await fetch(`${registry.url}/v1/ota/device/download/${device._id}${token}`);
    expect(fresh.status).toBe(200);
    // Shown once: after a reload the token is gone from the page.
    await page.reload();
    await page.getByRole('heading', { name: LONG_NAME }).waitFor();
    expect(await page.getByRole('textbox', { name: 'New token' }).count()).toBe(0);
    await context.close();
  });

  test("a group's members, served version and rollout (or No rollout), and the fleet at a glance", async () => {
    const { body: group } = await api('POST', '/v1/groups', {
      name: 'lobby-displays',
      chip: 'esp32',
    });
    const members = [
      await addDevice('lobby-left', 'esp32'),
      await addDevice('lobby-right', 'esp32'),
    ];
    for (const member of members) {
      expect((await api('PUT', `/v1/devices/${member._id}`, { group: group._id })).status).toBe(
        200,
      );
    }
    const { context, page } = await signedIn();
    // Upload to the group from the form, picking the group.
    await page.goto(`${registry.url}/#/upload?group=${group._id}`);
    await page.getByLabel('Firmware').setInputFiles({
      name: 'lobby.bin',
      mimeType: 'application/octet-stream',
      buffer: generateEspImage({ chip: 'esp32', seed: 5 }),
    });
    await page.getByLabel('Version').fill('3.0.0');
    // Rollout phases are offered only by a registry that has rollouts.
    const hasRollouts =
      (await api('GET', `/v1/ota/group/${group._id}/rollout`)).body.message !== 'Not found';
    const phases = page.getByLabel('Rollout phases (optional)');
    if (hasRollouts) await phases.waitFor();
    else expect(await phases.count()).toBe(0);
    await page.getByRole('button', { name: 'Upload' }).click();
    await page.getByRole('status').filter({ hasText: 'version 3.0.0' }).waitFor();

    await page.getByRole('link', { name: 'Groups' }).click();
    const row = page.getByRole('row').filter({ hasText: 'lobby-displays' });
    await row.filter({ hasText: '3.0.0' }).waitFor();
    await row.getByRole('link', { name: 'lobby-displays' }).click();
    await page.getByRole('heading', { name: 'Group lobby-displays' }).waitFor();
    const rollout = await api('GET', `/v1/ota/group/${group._id}/rollout`);
    if (rollout.status === 404) await page.getByText('No rollout').waitFor();
    else await page.getByRole('heading', { name: 'Rollout' }).waitFor();
    await page.getByRole('rowheader', { name: 'lobby-left' }).waitFor();
    await page.getByRole('rowheader', { name: 'lobby-right' }).waitFor();
    // A member's trigger: the registry says to trigger the group.
    await page.getByRole('link', { name: 'lobby-left' }).click();
    await page.getByRole('button', { name: 'Trigger update' }).click();
    await page.getByRole('alert').filter({ hasText: Messages.deviceInGroupTrigger }).waitFor();
    await page.goto(`${registry.url}/#/groups/${group._id}`);
    await page.getByRole('heading', { name: 'Group lobby-displays' }).waitFor();
    await page.getByRole('rowheader', { name: 'lobby-right' }).waitFor();
    await page.getByRole('table', { name: 'History' }).waitFor();
    if (rollout.status === 404) await page.getByText('No rollout').waitFor();
    await page.screenshot({ path: artifactPath('dashboard-group'), fullPage: true });

    await page.getByRole('link', { name: 'Fleet' }).click();
    const legend = page.getByRole('list', { name: 'Devices by state' });
    await legend.getByText('Silent').waitFor();
    const summary = (
      await api<{ devices: number; states: Record<string, number> }>('GET', '/v1/fleet/summary')
    ).body;
    expect(summary.devices).toBeGreaterThan(SEEDED);
    await expect(legend.textContent()).resolves.toContain(
      `Silent ${summary.states.silent.toLocaleString('en-US')}`,
    );
    await page.screenshot({ path: artifactPath('dashboard-fleet') });
    await page.getByLabel('Show').selectOption({ label: 'Group lobby-displays' });
    await legend.getByText('Unknown 2').waitFor();
    await context.close();
  });

  test('fits a phone: no sideways scrolling, navigation by keyboard', async () => {
    const { context, page } = await signedIn({ viewport: { width: 375, height: 740 } });
    expect(await page.evaluate(FITS_WIDTH)).toBe(true);
    await page.getByRole('link', { name: 'Fleet' }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Fleet at a glance' }).waitFor();
    await page.getByRole('list', { name: 'Devices by state' }).waitFor();
    expect(await page.evaluate(FITS_WIDTH)).toBe(true);
    await page.screenshot({ path: artifactPath('dashboard-phone') });
    await context.close();
  });

  test('sign out: the cookie is gone and the API refuses the old session', async () => {
    const { context, page } = await signedIn();
    const [cookie] = await context.cookies();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    expect(await context.cookies()).toEqual([]);
    const refused = await page.evaluate(async () => (await fetch('/v1/devices')).status);
    expect(refused).toBe(401);
    // The old cookie value, replayed by hand, is refused too: the session itself ended.
    const replay = await fetch(`${registry.url}/v1/account`, {
      headers: { cookie: `ota_session=${cookie.value}` },
    });
    expect(replay.status).toBe(401);
    await context.close();
  });
});
