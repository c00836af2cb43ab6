// Loads the agent CA from Postgres, creating it at first start. Two replicas starting at once may both
// create one; the insert ignores conflicts and both then use the row that won.
import type { EntityManager } from '@mikro-orm/postgresql';
import { Secret } from '../db/entities/secret.js';
import { createAgentCaMaterial, openAgentCa, type AgentCa, type StoredAgentCa } from './agent-ca.js';
import type { SecretBox } from './master-key.js';

const SECRET_NAME = 'agent-ca';

export async function loadOrCreateAgentCa(em: EntityManager, box: SecretBox): Promise<{ ca: AgentCa; created: boolean }> {
  let row = await em.findOne(Secret, { name: SECRET_NAME }, { disableIdentityMap: true });
  let created = false;
  if (!row) {
    const material = await createAgentCaMaterial();
    const sealed = box.seal(SECRET_NAME, Buffer.from(JSON.stringify(material)));
    const now = new Date();
    const inserted = await em.getConnection().execute(
      'insert into secrets (name, sealed, created_at, updated_at) values (?, ?, ?, ?) on conflict (name) do nothing',
      [SECRET_NAME, sealed, now, now], 'run');
    created = (inserted as { affectedRows?: number }).affectedRows === 1;
    row = await em.findOneOrFail(Secret, { name: SECRET_NAME }, { disableIdentityMap: true });
  }
  const stored = JSON.parse(box.open(SECRET_NAME, Buffer.from(row.sealed)).toString('utf8')) as StoredAgentCa;
  return { ca: await openAgentCa(stored), created };
}
