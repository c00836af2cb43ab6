// PKCS#7 / CMS SignedData "certs-only" files (.p7b, .p7c, what `openssl crl2pkcs7` and Windows' certificate
// export write): a ContentInfo whose SignedData carries a set of certificates and no signature. Every X.509
// certificate in the set is returned as the exact bytes stored; CRLs and signer information are ignored.
import { childrenOf, decodeOid, elementBytes, expectTag, MalformedBerError, readElement, TAG, type BerElement } from './ber.js';

export const SIGNED_DATA_OID = '1.2.840.113549.1.7.2';

export class MalformedPkcs7Error extends Error {
  override readonly name = 'MalformedPkcs7Error';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** True when the bytes start like a ContentInfo of SignedData, so other DER files are not mistaken for it. */
export function looksLikePkcs7(bytes: Buffer): boolean {
  try {
    const contentInfo = readElement(bytes, 0);
    const contentType = readElement(bytes, contentInfo.contentStart, contentInfo.contentEnd);
    return contentInfo.tag === TAG.sequence && contentType.tag === TAG.oid && decodeOid(bytes, contentType) === SIGNED_DATA_OID;
  } catch {
    return false;
  }
}

/** The DER of every certificate in a PKCS#7 SignedData, in the order stored. */
export function pkcs7Certificates(bytes: Buffer): Buffer[] {
  try {
    const contentInfo = expectTag(readElement(bytes, 0), TAG.sequence, 'ContentInfo');
    const [contentType, explicitContent] = childrenOf(bytes, contentInfo);
    if (decodeOid(bytes, expectTag(contentType, TAG.oid, 'content type')) !== SIGNED_DATA_OID) {
      throw new MalformedPkcs7Error('not SignedData');
    }
    const signedData = expectTag(childrenOf(bytes, expectTag(explicitContent, TAG.context0, 'content'))[0], TAG.sequence, 'SignedData');
    // version, digestAlgorithms, encapContentInfo, then the optional [0] IMPLICIT certificates.
    const certificateSet = childrenOf(bytes, signedData).slice(3).find((element) => element.tag === TAG.context0);
    if (certificateSet === undefined) return [];
    // Other CertificateChoices (attribute certificates, [0]-[3] tagged) are not X.509 certificates.
    return childrenOf(bytes, certificateSet)
      .filter((element: BerElement) => element.tag === TAG.sequence)
      .map((element) => elementBytes(bytes, element));
  } catch (err) {
    if (err instanceof MalformedPkcs7Error) throw err;
    if (err instanceof MalformedBerError) throw new MalformedPkcs7Error(err.message, { cause: err });
    throw err;
  }
}
