import { defineConfig } from 'vitest/config';

// One vitest run covers every layer so `npm test` ends with one summary:
// unit (no servers), configs (the ecosystems' own validators, offline) and e2e (live local stack).
export default defineConfig({
  test: {
    reporters: ['default'],
    projects: [
      {
        test: {
          name: 'unit',
          include: [
            'services/*/test/**/*.test.ts',
            'compose/local/test/**/*.test.ts',
            'test/unit/**/*.test.ts',
            'bench/test/**/*.test.ts',
          ],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'configs',
          include: ['test/configs/**/*.test.ts'],
          testTimeout: 600_000,
          hookTimeout: 1_800_000,
          globalSetup: ['test/configs/global-setup.ts'],
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 300_000,
          hookTimeout: 2_400_000,
          globalSetup: ['test/e2e/global-setup.ts'],
          fileParallelism: false,
          sequence: { concurrent: false },
        },
      },
    ],
  },
});
