import { defineConfig } from 'vitest/config';

// Two projects: `unit` is the default suite (fixtures only, fast); `slow` holds the work that
// generates fresh safe primes or runs the largest shapes (`npm run test:slow`).
export default defineConfig({
  test: {
    pool: 'forks',
    // Vitest defaults to cores − 1 workers: one on the 2-core machines CI runs on. The suites are
    // CPU-bound big-integer work, so use every core.
    maxWorkers: 2,
    projects: [
      {
        test: {
          name: 'unit',
          include: ['tests/**/*.test.ts'],
          exclude: ['tests/slow/**'],
          testTimeout: 60_000,
          pool: 'forks',
        },
      },
      {
        test: {
          name: 'slow',
          include: ['tests/slow/**/*.test.ts'],
          testTimeout: 600_000,
          pool: 'forks',
        },
      },
    ],
  },
});
