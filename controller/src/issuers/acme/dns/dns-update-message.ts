// RFC 2136 DNS UPDATE messages signed with TSIG (RFC 8945), encoded by hand: only what dns-01 needs
// (add or delete one TXT value in one zone), and the check of the server's signed answer.
import { createHmac, timingSafeEqual } from 'node:crypto';

const TYPE_SOA = 6;
const TYPE_TXT = 16;
const TYPE_TSIG = 250;
const CLASS_IN = 1;
const CLASS_NONE = 254;
const CLASS_ANY = 255;
const OPCODE_UPDATE = 5;
const FUDGE_SECONDS = 300;

export const RCODE_NAMES: Record<number, string> = {
  0: 'NOERROR', 1: 'FORMERR', 2: 'SERVFAIL', 3: 'NXDOMAIN', 4: 'NOTIMP', 5: 'REFUSED', 6: 'YXDOMAIN', 7: 'YXRRSET',
  8: 'NXRRSET', 9: 'NOTAUTH', 10: 'NOTZONE', 16: 'BADSIG', 17: 'BADKEY', 18: 'BADTIME',
};

export interface TsigKey {
  name: string;
  algorithm: 'hmac-sha256' | 'hmac-sha384' | 'hmac-sha512';
  /** The shared secret, raw bytes. */
  secret: Buffer;
}

export interface TxtChange {
  action: 'add' | 'delete';
  name: string;
  value: string;
  ttl: number;
}

/** A domain name in wire form, lower-cased (TSIG wants canonical names; DNS compares names case-insensitively). */
export function encodeName(name: string): Buffer {
  const labels = name.toLowerCase().replace(/\.$/, '').split('.').filter((l) => l !== '');
  const parts: Buffer[] = [];
  for (const label of labels) {
    const bytes = Buffer.from(label, 'ascii');
    if (bytes.length > 63) throw new Error(`DNS label "${label}" is longer than 63 bytes`);
    parts.push(Buffer.from([bytes.length]), bytes);
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}
function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}
function u48(n: number): Buffer {
  const b = Buffer.alloc(6);
  b.writeUIntBE(n, 0, 6);
  return b;
}

function txtRdata(value: string): Buffer {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length > 255) throw new Error('TXT value longer than 255 bytes');
  return Buffer.concat([Buffer.from([bytes.length]), bytes]);
}

function hmacName(algorithm: TsigKey['algorithm']): string {
  return algorithm.replace('hmac-', '');
}

/** The TSIG variables (RFC 8945 4.3.3) of a message signed now. */
function tsigVariables(key: TsigKey, timeSigned: number): Buffer {
  return Buffer.concat([encodeName(key.name), u16(CLASS_ANY), u32(0), encodeName(key.algorithm), u48(timeSigned), u16(FUDGE_SECONDS), u16(0), u16(0)]);
}

export interface SignedUpdate {
  message: Buffer;
  id: number;
  /** The request's MAC: the answer's MAC covers it. */
  mac: Buffer;
}

export function buildUpdate(zone: string, changes: TxtChange[], key: TsigKey, id: number, now = Date.now()): SignedUpdate {
  const header = Buffer.concat([u16(id), u16(OPCODE_UPDATE << 11), u16(1), u16(0), u16(changes.length), u16(0)]);
  const zoneSection = Buffer.concat([encodeName(zone), u16(TYPE_SOA), u16(CLASS_IN)]);
  const updates = changes.map((c) => {
    const rdata = txtRdata(c.value);
    return Buffer.concat([encodeName(c.name), u16(TYPE_TXT), u16(c.action === 'add' ? CLASS_IN : CLASS_NONE),
      u32(c.action === 'add' ? c.ttl : 0), u16(rdata.length), rdata]);
  });
  const unsigned = Buffer.concat([header, zoneSection, ...updates]);
  const timeSigned = Math.floor(now / 1000);
  const mac = createHmac(hmacName(key.algorithm), key.secret).update(Buffer.concat([unsigned, tsigVariables(key, timeSigned)])).digest();
  const tsigRdata = Buffer.concat([encodeName(key.algorithm), u48(timeSigned), u16(FUDGE_SECONDS), u16(mac.length), mac, u16(id), u16(0), u16(0)]);
  const tsig = Buffer.concat([encodeName(key.name), u16(TYPE_TSIG), u16(CLASS_ANY), u32(0), u16(tsigRdata.length), tsigRdata]);
  const message = Buffer.concat([unsigned, tsig]);
  message.writeUInt16BE(1, 10); // ARCOUNT: the TSIG record
  return { message, id, mac };
}

/** Offset just past the (possibly compressed) name at `offset`. */
function skipName(msg: Buffer, offset: number): number {
  for (;;) {
    const len = msg[offset];
    if (len === undefined) throw new Error('truncated DNS name');
    if ((len & 0xc0) === 0xc0) return offset + 2;
    if (len === 0) return offset + 1;
    offset += 1 + len;
  }
}

export interface UpdateAnswer {
  rcode: number;
  /** The TSIG error of the answer (BADSIG, BADKEY, BADTIME) when the server refused the signature. */
  tsigError: number;
  /** Whether the answer carried a TSIG record whose MAC verifies with the key. */
  signed: boolean;
}

/** Reads the server's answer to `request` and checks its TSIG (which covers the request's MAC). */
export function readUpdateAnswer(answer: Buffer, request: SignedUpdate, key: TsigKey): UpdateAnswer {
  if (answer.length < 12) throw new Error('DNS answer shorter than its header');
  if (answer.readUInt16BE(0) !== request.id) throw new Error('DNS answer for another message id');
  const rcode = answer.readUInt16BE(2) & 0x0f;
  const counts = [answer.readUInt16BE(4), answer.readUInt16BE(6), answer.readUInt16BE(8), answer.readUInt16BE(10)];
  let offset = 12;
  for (let i = 0; i < counts[0]; i++) offset = skipName(answer, offset) + 4;
  for (let i = 0; i < counts[1] + counts[2] + Math.max(0, counts[3] - 1); i++) {
    offset = skipName(answer, offset) + 8;
    offset += 2 + answer.readUInt16BE(offset);
  }
  if (counts[3] === 0) return { rcode, tsigError: 0, signed: false };
  const tsigStart = offset;
  offset = skipName(answer, offset);
  if (answer.readUInt16BE(offset) !== TYPE_TSIG) return { rcode, tsigError: 0, signed: false };
  offset += 10; // type, class, ttl, rdlength
  offset = skipName(answer, offset); // algorithm
  const timeSigned = answer.readUIntBE(offset, 6);
  const fudge = answer.readUInt16BE(offset + 6);
  const macSize = answer.readUInt16BE(offset + 8);
  const mac = answer.subarray(offset + 10, offset + 10 + macSize);
  offset += 10 + macSize + 2; // MAC, original id
  const tsigError = answer.readUInt16BE(offset);
  const otherLen = answer.readUInt16BE(offset + 2);
  const other = answer.subarray(offset + 4, offset + 4 + otherLen);
  if (macSize === 0) return { rcode, tsigError, signed: false };
  const body = Buffer.from(answer.subarray(0, tsigStart));
  body.writeUInt16BE(counts[3] - 1, 10);
  const variables = Buffer.concat([encodeName(key.name), u16(CLASS_ANY), u32(0), encodeName(key.algorithm), u48(timeSigned), u16(fudge),
    u16(tsigError), u16(otherLen), other]);
  const expected = createHmac(hmacName(key.algorithm), key.secret)
    .update(Buffer.concat([u16(request.mac.length), request.mac, body, variables])).digest();
  return { rcode, tsigError, signed: expected.length === mac.length && timingSafeEqual(expected, mac) };
}
