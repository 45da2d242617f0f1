import { describe, expect, test } from '@jest/globals';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { batchedLines } from '../../../server/log.js';
import { redactPath } from '../../../server/middleware/request-log.js';

describe('batchedLines', () => {
  test('writes the lines of one turn in one call, in order, each ending in a newline', async () => {
    const writes: string[] = [];
    const lines = batchedLines((text) => writes.push(text));
    lines.write('one');
    lines.write('two');
    expect(writes).toEqual([]);
    await nextTurn();
    expect(writes).toEqual(['one\ntwo\n']);
    lines.write('three');
    await nextTurn();
    expect(writes).toEqual(['one\ntwo\n', 'three\n']);
  });

  test('splits a large batch at line boundaries into writes of at most 4096 bytes', async () => {
    const writes: string[] = [];
    const lines = batchedLines((text) => writes.push(text));
    const line = 'x'.repeat(99);
    for (let i = 0; i < 100; i++) lines.write(line);
    await nextTurn();
    expect(writes.length).toBe(3);
    expect(writes.every((text) => text.length <= 4096 && text.endsWith('\n'))).toBe(true);
    expect(writes.join('')).toBe(`${line}\n`.repeat(100));
  });

  test('flush writes what is pending at once (on exit), and nothing twice', async () => {
    const writes: string[] = [];
    const lines = batchedLines((text) => writes.push(text));
    lines.write('last words');
    lines.flush();
    expect(writes).toEqual(['last words\n']);
    await nextTurn();
    expect(writes).toEqual(['last words\n']);
  });
});

describe('redactPath', () => {
  test.each([
    [
      '/v1/ota/device/download/5e1b57808711f904f5df4badSECRETTOKEN',
      '/v1/ota/device/download/5e1b57808711f904f5df4bad[redacted]',
    ],
    [
      '/v1/ota/device/latest/5e1b57808711f904f5df4bad',
      '/v1/ota/device/latest/5e1b57808711f904f5df4bad',
    ],
    ['/v1/devices?token=abc&limit=5', '/v1/devices?token=[redacted]&limit=5'],
  ])('%s', (url, logged) => {
    expect(redactPath(url)).toBe(logged);
  });
});
