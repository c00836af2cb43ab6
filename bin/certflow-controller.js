#!/usr/bin/env node
// Runs the compiled controller (npm run build); see controller/src/main.ts.
await import('../dist/controller/src/main.js');
