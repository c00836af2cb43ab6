import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Benchmarks run with `npm run bench`, not as tests.
    exclude: ['test/bench/**', '**/node_modules/**', 'dist/**'],
    // Integration tests start servers, create databases and wait for renewals: give them time.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Test files run in parallel, each in its own child process (forks: tests spawn servers and
    // set process-wide state). The CI machine has 2 cores; more workers would only make the
    // timing-sensitive tests flaky.
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
    // Fails the run at once, with instructions, when Postgres or NATS is not reachable.
    globalSetup: 'test/support/global-setup.ts',
  },
});
