// One vitest run for every workspace: unit tests sit beside the code, cross-package tests in test/.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{server,edge-agent,firmware-bundler,web-console}/src/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default', ['junit', { outputFile: 'test-output/junit.xml' }]],
  },
});
