import { generateEspImage } from './esp-image-generator.js';

/** A "build" of firmware version `version`: the version string is compiled into the image. */
export const build = (version: string, extra: { projectName?: string } = {}) =>
  generateEspImage({
    appVersion: version,
    embedString: version,
    seed: [...version].reduce((sum, c) => sum * 31 + c.charCodeAt(0), 7) % 100_000,
    size: 16 * 1024,
    ...extra,
  });

/** Images whose project name says so crash at boot: ESP-IDF rolls back to the previous app. */
export const CRASHES = 'crashes-at-boot';

/** Whether a simulated device boots an image (see CRASHES). */
export const boots = (image: Buffer) =>
  !image.subarray(0x50, 0x70).toString('latin1').startsWith(CRASHES);
