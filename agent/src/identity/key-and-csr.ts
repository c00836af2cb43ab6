// The agent's own key pair and certificate request. The key is made here and only its public half goes
// to the controller, inside the CSR.
import { x509, ECDSA_P256, generateEcKeyPair, privateKeyPem } from '../../../proto/shared/x509.js';

export async function newKeyAndCsr(commonName: string): Promise<{ keyPem: string; csrPem: string }> {
  const keys = await generateEcKeyPair();
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: `CN=${commonName.replace(/[,+="\\<>;]/g, '_')}`,
    keys,
    signingAlgorithm: ECDSA_P256,
  });
  return { keyPem: await privateKeyPem(keys.privateKey), csrPem: csr.toString('pem') };
}
