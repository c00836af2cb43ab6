// Generates the TypeScript types of the agent <-> controller contract from proto/**/*.proto into
// proto/generated/. The generated files are committed (so typecheck needs no build step) and never edited
// by hand: change the .proto and run `npm run gen:proto`.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const outDir = `${root}proto/generated`;
rmSync(outDir, { recursive: true, force: true });
execFileSync(
  `${root}node_modules/.bin/proto-loader-gen-types`,
  [
    '--grpcLib=@grpc/grpc-js', '--longs=String', '--enums=String', '--defaults', '--oneofs',
    '--includeComments', '--importFileExtension=.js', `--includeDirs=${root}proto`, `--outDir=${outDir}`,
    'certflow/agent/v1/agent.proto',
  ],
  { stdio: 'inherit', cwd: `${root}proto` },
);

// The generator writes the .proto's absolute path into each file; keep it relative so the output does not
// depend on where the checkout lives.
for (const entry of readdirSync(outDir, { recursive: true, withFileTypes: true })) {
  if (!entry.isFile()) continue;
  const file = `${entry.parentPath ?? entry.path}/${entry.name}`;
  const text = readFileSync(file, 'utf8');
  writeFileSync(file, text.replaceAll(`Original file: ${root}`, 'Original file: '));
}
