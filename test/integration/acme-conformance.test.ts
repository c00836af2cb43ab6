// The ACME issuer passes the shared issuer conformance suite against a real Pebble, validating every
// order with dns-01 through the exec hook (which sets the records on pebble-challtestsrv).
import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createSecretBox } from '../../controller/src/crypto/master-key.js';
import { KEY_TYPES } from '../../controller/src/db/entities/certificate-authority.js';
import { createOrm, migrate, type Orm } from '../../controller/src/db/orm.js';
import { saveAcmeCa } from '../../controller/src/issuers/acme/acme-store.js';
import { loadIssuer } from '../../controller/src/issuers/issuer-registry.js';
import { describeIssuerConformance } from '../support/issuer-conformance.js';
import { startPebble, type RunningPebble } from '../support/pebble.js';
import { createTestDatabase, type TestDatabase } from '../support/postgres.js';

const HOOK = fileURLToPath(new URL('../support/challtestsrv-dns-hook.mjs', import.meta.url));

let db: TestDatabase;
let orm: Orm;
let pebble: RunningPebble;

describeIssuerConformance('ACME (Pebble, dns-01 exec hook)', async () => {
  [db, pebble] = await Promise.all([createTestDatabase(), startPebble()]);
  orm = await createOrm(db.url);
  await orm.connect();
  await migrate(orm);
  const box = createSecretBox(randomBytes(32));
  await saveAcmeCa(orm.em.fork(), box, {
    name: 'pebble',
    config: {
      directoryUrl: pebble.directoryUrl,
      trustPem: pebble.tlsTrustPem,
      contact: ['mailto:pki@example.com'],
      challenge: { type: 'dns-01', provider: { kind: 'exec', command: [process.execPath, HOOK, pebble.challtestsrvUrl] } },
    },
    policy: { allowedDomains: ['acme.test'], maxValidityDays: 3650, keyTypes: [...KEY_TYPES] },
  });
  return {
    issuer: await loadIssuer(orm.em.fork(), box, 'pebble'),
    rootsPem: await pebble.rootsPem(),
    allowedName: () => `h${randomUUID().slice(0, 8)}.acme.test`,
    forbiddenName: 'www.elsewhere.test',
    keyTypes: ['ecdsa-p256', 'ecdsa-p384', 'rsa-2048'],
  };
}, async () => {
  await orm?.close();
  await Promise.all([db?.drop(), pebble?.stop()]);
});
