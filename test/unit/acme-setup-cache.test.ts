// openAcmeSetup opens and parses a CA's config and sealed secrets once, and again whenever either changed:
// a changed config, secrets sealed again (even with the same values) or removed are read at once.
import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSecretBox } from '../../controller/src/crypto/master-key.js';
import { acmeSecretsName } from '../../controller/src/issuers/acme/acme-config.js';
import { AcmeSetupError, openAcmeSetup } from '../../controller/src/issuers/acme/acme-store.js';

const box = createSecretBox(randomBytes(32));
const ca = (config: Record<string, unknown>) => ({ id: 'ca-1', name: 'eab-ca', config });
const seal = (value: unknown) => box.seal(acmeSecretsName('eab-ca'), Buffer.from(JSON.stringify(value)));
const config = { directoryUrl: 'https://acme.example.test/dir', eabKeyId: 'kid-1', challenge: { type: 'http-01' } };

describe('openAcmeSetup', () => {
  it('reuses the opened setup while config and sealed bytes are the same, and reads any change at once', () => {
    const sealed = seal({ eabHmacKey: 'key-one' });
    const first = openAcmeSetup(box, ca(config), sealed);
    expect(first.secrets.eabHmacKey).toBe('key-one');
    expect(openAcmeSetup(box, ca(structuredClone(config)), Buffer.from(sealed))).toBe(first);

    const rotated = openAcmeSetup(box, ca(config), seal({ eabHmacKey: 'key-two' }));
    expect(rotated.secrets.eabHmacKey).toBe('key-two');
    const resealed = openAcmeSetup(box, ca(config), seal({ eabHmacKey: 'key-two' }));
    expect(resealed).not.toBe(rotated);

    const changed = openAcmeSetup(box, ca({ ...config, maxConcurrentOrders: 3 }), seal({ eabHmacKey: 'key-two' }));
    expect(changed.config.maxConcurrentOrders).toBe(3);
    // Secrets removed: the EAB key id is left without its key, which the setup check refuses.
    expect(() => openAcmeSetup(box, ca(config), null)).toThrow(AcmeSetupError);
  });

  it('is kept per master key and CA: another key cannot open what this one sealed', () => {
    const sealed = seal({ eabHmacKey: 'key-one' });
    const id = randomUUID();
    expect(openAcmeSetup(box, { ...ca(config), id }, sealed).secrets.eabHmacKey).toBe('key-one');
    expect(() => openAcmeSetup(createSecretBox(randomBytes(32)), { ...ca(config), id }, sealed)).toThrow();
  });
});
