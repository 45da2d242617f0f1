import { describe, test } from '@jest/globals';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './registry.js';

/**
 * Real firmware images (../shared/fixtures/firmware). On a bare clone they may be missing and
 * their tests are skipped; under CI=true a missing directory fails the run instead, so CI never
 * passes without the tests that use real images.
 */
export const FIXTURE_DIR = path.resolve(REPO_ROOT, '../shared/fixtures/firmware');
const HAVE_FIXTURES = fs.existsSync(FIXTURE_DIR);

function failWithoutFixtures(name: string): void {
  describe(name, () => {
    test('has the real firmware fixtures', () => {
      throw new Error(`CI=true, but the fixture directory ${FIXTURE_DIR} is missing`);
    });
  });
}

export const describeIfFixtures: (name: string, fn: () => void) => void = HAVE_FIXTURES
  ? describe
  : process.env['CI'] === 'true'
    ? failWithoutFixtures
    : describe.skip;

export function fixtureNames(): string[] {
  return HAVE_FIXTURES
    ? fs
        .readdirSync(FIXTURE_DIR)
        .filter((name) => name.endsWith('.bin'))
        .sort()
    : [];
}

export function readFixture(name: string): Buffer {
  return fs.readFileSync(path.join(FIXTURE_DIR, name));
}
