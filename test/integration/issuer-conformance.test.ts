// Every Issuer passes the same conformance suite (test/support/issuer-conformance.ts). Here: the built-in
// CA on a real Postgres, its policy narrowed so the suite has a name it must refuse. The ACME issuer adds
// its own describeIssuerConformance() call against Pebble.
import { randomBytes, randomUUID } from 'node:crypto';
import { createSecretBox } from '../../controller/src/crypto/master-key.js';
import { createOrm, migrate, type Orm } from '../../controller/src/db/orm.js';
import { KEY_TYPES } from '../../controller/src/db/entities/certificate-authority.js';
import { BUILTIN_CA_NAME, ensureBuiltinCa } from '../../controller/src/issuers/internal/internal-ca-store.js';
import { InternalIssuer } from '../../controller/src/issuers/internal/internal-issuer.js';
import { loadIssuer } from '../../controller/src/issuers/issuer-registry.js';
import { describeIssuerConformance } from '../support/issuer-conformance.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

let db: TestDatabase;
let orm: Orm;

describeIssuerConformance('built-in CA', async () => {
  db = await createTestDatabase();
  orm = await createOrm(db.url);
  await orm.connect();
  await migrate(orm);
  const box = createSecretBox(randomBytes(32));
  await ensureBuiltinCa(orm.em.fork(), box);
  // The default policy allows any name; an operator narrows it like this.
  await orm.em.getConnection().execute(
    `update certificate_authorities set policy = ?::jsonb where name = ?`,
    [JSON.stringify({ allowedDomains: ['conformance.test'], maxValidityDays: 90, keyTypes: [...KEY_TYPES] }), BUILTIN_CA_NAME]);
  const issuer = await loadIssuer(orm.em.fork(), box, BUILTIN_CA_NAME, { publicUrl: 'http://127.0.0.1:7080' });
  return {
    issuer,
    rootsPem: await (issuer as InternalIssuer).rootPem(),
    allowedName: () => `h${randomUUID().slice(0, 8)}.conformance.test`,
    forbiddenName: 'www.elsewhere.test',
    keyTypes: ['ecdsa-p256', 'ecdsa-p384', 'rsa-2048'],
    maxValidityDays: 90,
  };
}, async () => {
  await orm?.close();
  await db?.drop();
});
