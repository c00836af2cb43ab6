#!/usr/bin/env node
// Runs the compiled agent (npm run build); see agent/src/main.ts.
await import('../dist/agent/src/main.js');
