import { jest } from '@jest/globals';

/**
 * What the code under test writes to stdout from now on (@actions/core's commands such as
 * ::add-mask::, the request log), kept instead of printed; `jest.restoreAllMocks()` ends it.
 */
export function captureStdout(): string[] {
  const written: string[] = [];
  jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  });
  return written;
}
