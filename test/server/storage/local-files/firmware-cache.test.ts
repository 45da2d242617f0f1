import { describe, expect, test } from '@jest/globals';
import { FirmwareCache } from '../../../../server/storage/local-files/firmware-cache.js';

describe('the firmware cache', () => {
  const bytes = (size: number, fill: number) => Buffer.alloc(size, fill);

  test('concurrent first requests share one read', async () => {
    const cache = new FirmwareCache(1000, 500);
    let reads = 0;
    const load = async () => {
      reads++;
      await new Promise((resolve) => setTimeout(resolve, 10));
      return bytes(100, 1);
    };
    const all = await Promise.all(Array.from({ length: 20 }, () => cache.get('a', load)));
    expect(reads).toBe(1);
    expect(new Set(all).size).toBe(1);
    await cache.get('a', load);
    expect(reads).toBe(1);
  });

  test('stays under its byte bound, dropping the least recently used first', async () => {
    const cache = new FirmwareCache(300, 200);
    const reads: string[] = [];
    const get = (key: string) =>
      cache.get(key, async () => {
        reads.push(key);
        return bytes(100, key.charCodeAt(0));
      });
    await get('a');
    await get('b');
    await get('c');
    await get('a'); // a is now the most recent; b the least
    await get('d'); // evicts b
    await get('a');
    await get('c');
    await get('b'); // read again
    expect(reads).toEqual(['a', 'b', 'c', 'd', 'b']);
  });

  test('files over the entry bound are not held', async () => {
    const cache = new FirmwareCache(1000, 200);
    expect(cache.accepts(200)).toBe(true);
    expect(cache.accepts(201)).toBe(false);
    let reads = 0;
    const load = async () => {
      reads++;
      return bytes(300, 2);
    };
    await cache.get('big', load);
    await cache.get('big', load);
    expect(reads).toBe(2);
  });

  test('a failed read is not remembered', async () => {
    const cache = new FirmwareCache(1000, 500);
    await expect(cache.get('x', () => Promise.reject(new Error('ENOENT')))).rejects.toThrow(
      'ENOENT',
    );
    await expect(cache.get('x', async () => bytes(10, 3))).resolves.toHaveLength(10);
  });
});
