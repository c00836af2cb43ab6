// A small real PKI for deploy tests, made with the openssl command line the way an operator would: a root,
// an intermediate it signs, and leaves the intermediate signs (ECDSA P-256 by default, RSA on request).
// A leaf comes back as the DeployMaterial a deploy takes, plus its fingerprint for comparisons.
import { execFileSync } from 'node:child_process';
import { X509Certificate, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DeployMaterial } from '../../agent/src/deploy/deploy-target.js';

export interface TestPki {
  dir: string;
  rootPem: string;
  intermediatePem: string;
}

export interface IssuedLeaf extends DeployMaterial {
  fingerprint256: string;
}

type KeyKind = 'ec' | 'rsa';

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: 'pipe' });
}

function keyArgs(kind: KeyKind): string[] {
  return kind === 'ec' ? ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'] : ['-newkey', 'rsa:2048'];
}

async function signed(pki: { dir: string }, stem: string, subject: string, issuer: string, extensions: string, kind: KeyKind, days: number): Promise<void> {
  const at = (suffix: string) => join(pki.dir, `${stem}.${suffix}`);
  await writeFile(at('ext'), extensions);
  openssl(['req', '-new', ...keyArgs(kind), '-nodes', '-subj', subject, '-keyout', at('key'), '-out', at('csr')]);
  openssl(['x509', '-req', '-in', at('csr'), '-CA', join(pki.dir, `${issuer}.crt`), '-CAkey', join(pki.dir, `${issuer}.key`),
    '-set_serial', `0x${randomBytes(8).toString('hex')}`, '-days', String(days), '-extfile', at('ext'), '-out', at('crt')]);
}

export async function makePki(dir: string): Promise<TestPki> {
  await mkdir(dir, { recursive: true });
  openssl(['req', '-x509', ...keyArgs('ec'), '-nodes', '-days', '60', '-subj', '/CN=certflow Test Root',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
    '-keyout', join(dir, 'root.key'), '-out', join(dir, 'root.crt')]);
  await signed({ dir }, 'intermediate', '/CN=certflow Test Intermediate', 'root',
    'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n', 'ec', 60);
  return { dir, rootPem: await readFile(join(dir, 'root.crt'), 'utf8'), intermediatePem: await readFile(join(dir, 'intermediate.crt'), 'utf8') };
}

let leaves = 0;

/** A server certificate for `names` from the intermediate; `days` may be negative-free only (openssl needs ≥ 1). */
export async function issueLeaf(pki: TestPki, names: string[], options: { key?: KeyKind; days?: number } = {}): Promise<IssuedLeaf> {
  const stem = `leaf-${++leaves}-${randomBytes(3).toString('hex')}`;
  const san = names.map((n) => (/^[\d.]+$/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
  await signed(pki, stem, `/CN=${names[0]}`, 'intermediate',
    `basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=${san}\n`,
    options.key ?? 'ec', options.days ?? 30);
  const certificatePem = await readFile(join(pki.dir, `${stem}.crt`), 'utf8');
  return {
    certificatePem,
    chainPem: pki.intermediatePem,
    keyPem: await readFile(join(pki.dir, `${stem}.key`), 'utf8'),
    fingerprint256: new X509Certificate(certificatePem).fingerprint256,
  };
}

/** Signs a CSR made elsewhere (an agent's key store holds its key) with the intermediate, for `names`. */
export async function signCsr(pki: TestPki, csrPem: string, names: string[], days = 30): Promise<Omit<IssuedLeaf, 'keyPem'>> {
  const stem = `csr-${++leaves}-${randomBytes(3).toString('hex')}`;
  const at = (suffix: string) => join(pki.dir, `${stem}.${suffix}`);
  const san = names.map((n) => (/^[\d.]+$/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
  await writeFile(at('csr'), csrPem);
  await writeFile(at('ext'), `basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=${san}\n`);
  openssl(['x509', '-req', '-in', at('csr'), '-CA', join(pki.dir, 'intermediate.crt'), '-CAkey', join(pki.dir, 'intermediate.key'),
    '-set_serial', `0x${randomBytes(8).toString('hex')}`, '-days', String(days), '-extfile', at('ext'), '-out', at('crt')]);
  const certificatePem = await readFile(at('crt'), 'utf8');
  return { certificatePem, chainPem: pki.intermediatePem, fingerprint256: new X509Certificate(certificatePem).fingerprint256 };
}
