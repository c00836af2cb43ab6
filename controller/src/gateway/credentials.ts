// TLS for the agent gateway. The client certificate is requested but not required by TLS itself, so
// agents without one can call Enroll; every other call checks the presented certificate against the
// agent CA in code (peer-identity.ts). The certificate provider also lets the server certificate be
// replaced without a restart.
import * as grpc from '@grpc/grpc-js';
import type { experimental } from '@grpc/grpc-js';

type Provider = experimental.CertificateProvider;
type CaListener = Parameters<Provider['addCaCertificateListener']>[0];
type IdentityListener = Parameters<Provider['addIdentityCertificateListener']>[0];

class StaticCertificateProvider implements Provider {
  private caListeners = new Set<CaListener>();
  private identityListeners = new Set<IdentityListener>();
  constructor(private caPem: string, private identity: { certPem: string; keyPem: string }) {}

  addCaCertificateListener(listener: CaListener) {
    this.caListeners.add(listener);
    // Deliver after the current call: grpc-js registers its watcher only after adding the listener.
    setImmediate(() => listener({ caCertificate: Buffer.from(this.caPem) }));
  }
  removeCaCertificateListener(listener: CaListener) {
    this.caListeners.delete(listener);
  }
  addIdentityCertificateListener(listener: IdentityListener) {
    this.identityListeners.add(listener);
    setImmediate(() => listener({ certificate: Buffer.from(this.identity.certPem), privateKey: Buffer.from(this.identity.keyPem) }));
  }
  removeIdentityCertificateListener(listener: IdentityListener) {
    this.identityListeners.delete(listener);
  }
  replaceIdentity(identity: { certPem: string; keyPem: string }) {
    this.identity = identity;
    for (const listener of this.identityListeners) {
      listener({ certificate: Buffer.from(identity.certPem), privateKey: Buffer.from(identity.keyPem) });
    }
  }
}

export function gatewayCredentials(caPem: string, server: { certPem: string; keyPem: string }) {
  // The server sends its certificate followed by the CA, so an agent can pin the CA before enrolling.
  const provider = new StaticCertificateProvider(caPem, { certPem: server.certPem + caPem, keyPem: server.keyPem });
  const credentials = grpc.experimental.createCertificateProviderServerCredentials(provider, provider, false);
  return { credentials, provider };
}
