// Trust on first contact, done safely: before enrolling, the agent fetches the certificate chain the
// gateway presents and accepts the CA only if its SHA-256 fingerprint equals the pin the operator gave
// (printed by `certflowctl tokens create`). From then on the saved CA is the only trust anchor.
import { connect, type PeerCertificate, type DetailedPeerCertificate } from 'node:tls';
import { X509Certificate } from 'node:crypto';

export class CaPinMismatchError extends Error {
  override name = 'CaPinMismatchError';
}

export async function fetchPinnedCa(host: string, port: number, pin: string, signal?: AbortSignal): Promise<string> {
  const wanted = pin.replace(/^sha256:/i, '').toLowerCase();
  const chain = await presentedChain(host, port, signal);
  const server = chain[0] ? new X509Certificate(chain[0]) : null;
  for (const der of chain) {
    const cert = new X509Certificate(der);
    if (cert.fingerprint256.replaceAll(':', '').toLowerCase() !== wanted) continue;
    if (server && server !== cert && !server.verify(cert.publicKey)) break;
    return cert.toString();
  }
  throw new CaPinMismatchError(`the controller at ${host}:${port} did not present a CA matching the pin ${pin}; ` +
    'check the controller address and the pin printed with the enrolment token');
}

function presentedChain(host: string, port: number, signal?: AbortSignal): Promise<Buffer[]> {
  return new Promise((resolve, reject) => {
    // Verification is off on purpose for this one connection: nothing is sent, and the pin decides trust.
    const socket = connect({ host, port, rejectUnauthorized: false, ALPNProtocols: ['h2'], servername: isIpLike(host) ? undefined : host });
    signal?.addEventListener('abort', () => socket.destroy(new Error('aborted')), { once: true });
    socket.setTimeout(10_000, () => socket.destroy(new Error(`timed out connecting to ${host}:${port}`)));
    socket.once('secureConnect', () => {
      const chain: Buffer[] = [];
      let cert: PeerCertificate | DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
      const seen = new Set<string>();
      while (cert && cert.raw && !seen.has(cert.fingerprint256)) {
        seen.add(cert.fingerprint256);
        chain.push(cert.raw);
        cert = (cert as DetailedPeerCertificate).issuerCertificate;
      }
      socket.destroy();
      resolve(chain);
    });
    socket.once('error', reject);
  });
}

function isIpLike(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':');
}
