import { createHash } from 'node:crypto';
import { EspImageValidator, InvalidImageError, type EspImageInfo } from './esp-image.js';
import { OtaClientScanner, type OtaClient } from './ota-client.js';

/** What one pass over a firmware file found. */
export interface FirmwareFacts {
  size: number;
  sha256: string;
  md5: string;
  /** The parsed image, or why it is not a valid ESP application image (the registry's words). */
  image: EspImageInfo | { error: string };
  /** The OTA clients whose marks the bytes carry (ota-client.ts); [] for none. */
  otaClient: OtaClient[];
}

/**
 * One streamed pass over a firmware file, as the registry receives an upload and as the Action
 * reads the build's output before sending it: size, SHA-256, MD5, the ESP image check and the
 * OTA client marks, chunk by chunk, so neither side holds the file in memory and both judge it by the same rules.
 */
export class FirmwareInspector {
  private size = 0;
  private readonly sha256 = createHash('sha256');
  private readonly md5 = createHash('md5');
  private readonly validator = new EspImageValidator();
  private readonly clients = new OtaClientScanner();
  private imageError: string | undefined;

  update(chunk: Buffer): void {
    this.size += chunk.length;
    this.sha256.update(chunk);
    this.md5.update(chunk);
    this.clients.update(chunk);
    if (this.imageError === undefined) {
      try {
        this.validator.update(chunk);
      } catch (err) {
        this.imageError = imageErrorMessage(err);
      }
    }
  }

  /** Call once, after the last chunk. */
  finish(): FirmwareFacts {
    let image: FirmwareFacts['image'] = { error: this.imageError ?? '' };
    if (this.imageError === undefined) {
      try {
        image = this.validator.finish();
      } catch (err) {
        image = { error: imageErrorMessage(err) };
      }
    }
    return {
      size: this.size,
      sha256: this.sha256.digest('hex'),
      md5: this.md5.digest('hex'),
      image,
      otaClient: this.clients.clients(),
    };
  }
}

function imageErrorMessage(err: unknown): string {
  if (err instanceof InvalidImageError) return err.message;
  throw err;
}
