// The host's listening TCP sockets, read from /proc/net/tcp and /proc/net/tcp6 (Linux; the current network
// namespace). Reading /proc needs no privileges and no external tool, unlike ss or netstat. A socket bound to
// every address is reported on loopback, where the agent can reach it without leaving the host.
import { readFile } from 'node:fs/promises';
import { endianness } from 'node:os';
import { join } from 'node:path';
import { formatAddress } from './range-scan.js';

export interface ListeningSocket {
  address: string;
  port: number;
}

const LISTEN_STATE = '0A';

export async function listListeningTcpSockets(options: { procNetDir?: string } = {}): Promise<ListeningSocket[]> {
  const dir = options.procNetDir ?? '/proc/net';
  const [v4, v6] = await Promise.all([readIfPresent(join(dir, 'tcp')), readIfPresent(join(dir, 'tcp6'))]);
  const unique = new Map<string, ListeningSocket>();
  for (const socket of [...parseProcNetTcp(v4 ?? '', 4), ...parseProcNetTcp(v6 ?? '', 6)]) {
    unique.set(`${socket.address} ${socket.port}`, socket);
  }
  // Plain code-unit order, not locale order, so every host lists the same sockets the same way.
  return [...unique.values()].sort((a, b) => a.port - b.port || (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
}

/** The LISTEN rows of one /proc/net/tcp{,6} file; wildcard addresses already mapped to loopback. */
export function parseProcNetTcp(text: string, family: 4 | 6): ListeningSocket[] {
  const sockets: ListeningSocket[] = [];
  // The first line is the column header.
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    const local = fields[1];
    if (fields[3] !== LISTEN_STATE || local === undefined) continue;
    const [hexAddress, hexPort] = local.split(':');
    const port = parseInt(hexPort ?? '', 16);
    const address = family === 4 ? decodeIpv4(hexAddress ?? '') : decodeIpv6(hexAddress ?? '');
    if (address === null || !(port > 0)) continue;
    sockets.push({ address, port });
  }
  return sockets;
}

// The kernel prints each 32-bit word of the address as a host-order integer (%08X), so on little-endian
// machines every word's bytes are reversed relative to network order.
function wordBytes(hexWord: string): number[] {
  const bytes = [0, 2, 4, 6].map((i) => parseInt(hexWord.slice(i, i + 2), 16));
  return endianness() === 'LE' ? bytes.reverse() : bytes;
}

function decodeIpv4(hex: string): string | null {
  return /^[0-9A-Fa-f]{8}$/.test(hex) ? decodeIpv4Bytes(wordBytes(hex)) : null;
}

function decodeIpv6(hex: string): string | null {
  if (!/^[0-9A-Fa-f]{32}$/.test(hex)) return null;
  const bytes = [0, 8, 16, 24].flatMap((i) => wordBytes(hex.slice(i, i + 8)));
  // ::ffff:a.b.c.d is an IPv4 socket seen through the IPv6 API; probe it as the IPv4 address it is.
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) {
    return decodeIpv4Bytes(bytes.slice(12));
  }
  if (bytes.every((b) => b === 0)) return '::1';
  return formatAddress(bytes.reduce((value, byte) => (value << 8n) | BigInt(byte), 0n), 6);
}

function decodeIpv4Bytes(bytes: number[]): string {
  const address = bytes.join('.');
  return address === '0.0.0.0' ? '127.0.0.1' : address;
}

async function readIfPresent(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    // No /proc/net (not Linux) or no tcp6 (IPv6 disabled): nothing listens there, which is not an error.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}
