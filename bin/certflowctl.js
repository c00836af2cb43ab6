#!/usr/bin/env node
// Runs the compiled admin CLI (npm run build); see controller/src/cli/main.ts.
await import('../dist/controller/src/cli/main.js');
