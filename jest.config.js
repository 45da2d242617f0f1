/**
 * Jest runs the TypeScript sources as native ES modules (the package is "type": "module"),
 * so `npm test` sets NODE_OPTIONS=--experimental-vm-modules. Type errors are the type
 * check's job (`npm run typecheck`); ts-jest only transpiles here, which keeps the suite fast.
 */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }],
  },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  testTimeout: 60000,
};
