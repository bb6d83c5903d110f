import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          // A safety net, not a speed check: on a loaded 2-core machine a seeded swarm test can take >5 s.
          testTimeout: 30_000,
          include: ['src/**/*.test.ts', 'worker/**/*.test.ts', 'bench/**/*.test.ts'],
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
