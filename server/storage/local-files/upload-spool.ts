import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { PRIVATE_DIR } from '../file-modes.js';

/**
 * `tmp/` in the data directory, where uploads stream while they arrive, whichever engine then
 * keeps them: on the data directory's file system (so the local engine's final rename is
 * atomic), and local to each replica (so S3 gets complete, hashed bytes under their final name).
 */
export class UploadSpool {
  readonly tmpDir: string;

  constructor(dataDir: string) {
    this.tmpDir = path.join(dataDir, 'tmp');
    fs.mkdirSync(this.tmpDir, { recursive: true, mode: PRIVATE_DIR });
  }

  /** A fresh path in tmp/ for an upload in progress; create it with mode PRIVATE_FILE. */
  newTempPath(): string {
    return path.join(this.tmpDir, `${randomBytes(12).toString('hex')}.upload`);
  }

  /** Removes what earlier runs left in tmp/ (uploads cut short by a crash); returns how many. */
  removeLeftoverTempFiles(): number {
    let removed = 0;
    for (const name of fs.readdirSync(this.tmpDir)) {
      fs.rmSync(path.join(this.tmpDir, name), { force: true, recursive: true });
      removed++;
    }
    return removed;
  }

  /** Removes one upload's file, if it is still there (it was not renamed into place). */
  discard(tempPath: string): Promise<void> {
    return fs.promises.rm(tempPath, { force: true });
  }
}
