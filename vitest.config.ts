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
