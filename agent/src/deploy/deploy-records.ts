// What the controller was told about each deploy id, kept beside the deploy's journal
// (<stateDir>/deploy/<id>/result.json, 0600). A job the controller sends again (it never got the answer:
// the stream broke, the agent restarted) gets the same answer instead of a second deploy, and a deploy the
// agent finished or reverted at start is answered with what recovery did.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-write.js';
import { DeployJournal } from './deploy-journal.js';

const RECORD_FILE = 'result.json';

export async function saveDeployRecord(stateDir: string, deployId: string, record: object): Promise<void> {
  const dir = new DeployJournal(stateDir).dirOf(deployId);
  await writeFileAtomic(join(dir, RECORD_FILE), Buffer.from(JSON.stringify(record, null, 2)), { mode: 0o600 });
}

/** The stored answer for this deploy id, or null when there is none (never run, refused, or cut short). */
export async function loadDeployRecord<T extends object>(stateDir: string, deployId: string): Promise<T | null> {
  const dir = new DeployJournal(stateDir).dirOf(deployId);
  try {
    return JSON.parse(await readFile(join(dir, RECORD_FILE), 'utf8')) as T;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}
