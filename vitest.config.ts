import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts', 'worker/**/*.test.ts'],
          exclude: ['src/sim/**/*.sim.test.ts'],
          environment: 'node',
          // record-memory.test.ts measures retained heap, which needs a full GC first.
          execArgv: ['--expose-gc'],
        },
      },
      {
        test: {
          name: 'sim',
          include: ['src/sim/**/*.sim.test.ts'],
          environment: 'node',
          testTimeout: 120_000,
        },
      },
    ],
  },
});
