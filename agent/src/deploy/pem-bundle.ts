// The PEM files targets write, all made from one DeployMaterial: a leaf, its intermediates, its key. Each
// block is normalised (one trailing newline) so concatenations are always well-formed PEM.
import { X509Certificate } from 'node:crypto';

export interface PemBlock {
  label: string;
  pem: string;
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n[\s\S]*?\r?\n-----END \1-----/g;

export function pemBlocks(text: string): PemBlock[] {
  return [...text.matchAll(BLOCK)].map((m) => ({ label: m[1], pem: `${m[0].replace(/\r\n/g, '\n')}\n` }));
}

export function certificateBlocks(text: string): string[] {
  return pemBlocks(text).filter((b) => b.label === 'CERTIFICATE').map((b) => b.pem);
}

export function parseCertificates(text: string): X509Certificate[] {
  return certificateBlocks(text).map((pem) => new X509Certificate(pem));
}

export interface PemMaterial {
  certificatePem: string;
  chainPem: string;
  keyPem: string;
}

export function leafPem(material: PemMaterial): string {
  return certificateBlocks(material.certificatePem)[0] ?? '';
}

export function chainPem(material: PemMaterial): string {
  return certificateBlocks(material.chainPem).join('');
}

/** Leaf first, then the intermediates: what nginx's ssl_certificate and Apache ≥ 2.4.8 take. */
export function fullChainPem(material: PemMaterial): string {
  return leafPem(material) + chainPem(material);
}

export function keyPem(material: PemMaterial): string {
  const key = pemBlocks(material.keyPem).find((b) => b.label.endsWith('PRIVATE KEY'));
  return key?.pem ?? '';
}

/** Leaf, intermediates, key in one file: HAProxy's `crt` format. */
export function combinedPem(material: PemMaterial): string {
  return fullChainPem(material) + keyPem(material);
}
