// Pure judgements on what an endpoint served: does the chain reach a root, and does the leaf cover the
// name the client asked for.
import { X509Certificate } from 'node:crypto';
import { rootCertificates as tlsRoots } from 'node:tls';

let systemRoots: X509Certificate[] | null = null;

function knownRoots(): X509Certificate[] {
  systemRoots ??= tlsRoots.map((pem) => new X509Certificate(pem));
  return systemRoots;
}

/**
 * A served chain is complete when each certificate is issued by the next and the last one is either
 * self-signed (the root was sent) or issued by a root the verifier knows: the system store, or any
 * self-signed CA certificate in the inventory (`extraRoots`, for private PKIs).
 */
export function chainIsComplete(chainDer: Buffer[], extraRoots: X509Certificate[] = []): boolean {
  if (chainDer.length === 0) return false;
  const chain = chainDer.map((der) => new X509Certificate(der));
  for (let i = 0; i + 1 < chain.length; i++) {
    if (!chain[i].checkIssued(chain[i + 1])) return false;
  }
  const last = chain[chain.length - 1];
  if (last.checkIssued(last) && last.verify(last.publicKey)) return true;
  return [...knownRoots(), ...extraRoots].some((root) => last.checkIssued(root) && last.verify(root.publicKey));
}

/** RFC 6125 matching, as browsers do it: exact DNS names, or a wildcard for exactly one left-most label. */
export function nameIsCovered(serverName: string, sans: string[]): boolean {
  const name = serverName.toLowerCase().replace(/\.$/, '');
  for (const san of sans) {
    if (san.startsWith('IP:') && san.slice(3) === name) return true;
    if (!san.startsWith('DNS:')) continue;
    const pattern = san.slice(4).toLowerCase().replace(/\.$/, '');
    if (pattern === name) return true;
    if (pattern.startsWith('*.')) {
      const dot = name.indexOf('.');
      if (dot > 0 && name.slice(dot + 1) === pattern.slice(2)) return true;
    }
  }
  return false;
}
