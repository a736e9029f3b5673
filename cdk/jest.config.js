module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    // Type checking is `tsc --noEmit`'s job (scripts/test-cdk); with isolatedModules in
    // tsconfig.json, ts-jest only transpiles.
    '^.+\\.tsx?$': 'ts-jest',
  },
  // One synth of the stack takes a few seconds; a 2-core machine runs two workers at most.
  testTimeout: 60000,
};
