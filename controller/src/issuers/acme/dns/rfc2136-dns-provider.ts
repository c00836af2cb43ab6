// dns-01 through RFC 2136 dynamic update with TSIG, over TCP to the zone's primary (BIND, Knot,
// PowerDNS, Windows DNS with TSIG...). Adds the one TXT value, later deletes exactly that value, so other
// values at the same name (a wildcard and its base name) are left alone. An answer that is not NOERROR,
// or whose TSIG does not verify, fails the order.
import { randomInt } from 'node:crypto';
import { connect } from 'node:net';
import type { z } from 'zod';
import type { rfc2136DnsProviderSchema } from '../acme-config.js';
import type { DnsProvider } from './dns-provider.js';
import { DnsProviderError } from './exec-dns-provider.js';
import { buildUpdate, RCODE_NAMES, readUpdateAnswer, type TsigKey, type TxtChange } from './dns-update-message.js';

type Rfc2136Config = z.infer<typeof rfc2136DnsProviderSchema>;

export class Rfc2136DnsProvider implements DnsProvider {
  private readonly key: TsigKey;
  private readonly host: string;
  private readonly port: number;

  constructor(private readonly config: Rfc2136Config, tsigSecretBase64: string) {
    this.key = { name: config.tsigKeyName, algorithm: config.tsigAlgorithm, secret: Buffer.from(tsigSecretBase64, 'base64') };
    const at = config.server.lastIndexOf(':');
    this.host = config.server.slice(0, at).replace(/^\[|\]$/g, '');
    this.port = Number(config.server.slice(at + 1));
  }

  present(fqdn: string, value: string, signal?: AbortSignal): Promise<void> {
    return this.update({ action: 'add', name: fqdn, value, ttl: this.config.ttl }, signal);
  }

  cleanup(fqdn: string, value: string, signal?: AbortSignal): Promise<void> {
    return this.update({ action: 'delete', name: fqdn, value, ttl: 0 }, signal);
  }

  private async update(change: TxtChange, signal?: AbortSignal): Promise<void> {
    const zone = this.config.zone.toLowerCase().replace(/\.$/, '');
    const name = change.name.toLowerCase().replace(/\.$/, '');
    if (name !== zone && !name.endsWith(`.${zone}`)) {
      throw new DnsProviderError(`${change.name} is not in the zone ${this.config.zone} this RFC 2136 provider updates`);
    }
    const request = buildUpdate(zone, [change], this.key, randomInt(0, 65536));
    const what = `RFC 2136 ${change.action} of TXT ${change.name} at ${this.config.server}`;
    let raw: Buffer;
    try {
      raw = await this.exchange(request.message, signal);
    } catch (cause) {
      throw new DnsProviderError(`${what}: ${(cause as Error).message}`, { cause });
    }
    const answer = readUpdateAnswer(raw, request, this.key);
    if (answer.rcode !== 0 || answer.tsigError !== 0) {
      const tsig = answer.tsigError ? `, TSIG ${RCODE_NAMES[answer.tsigError] ?? answer.tsigError}` : '';
      throw new DnsProviderError(`${what} refused: ${RCODE_NAMES[answer.rcode] ?? `rcode ${answer.rcode}`}${tsig}`);
    }
    if (!answer.signed) throw new DnsProviderError(`${what}: the answer is not signed with key ${this.key.name}`);
  }

  /** One message over TCP (two-byte length prefix each way). */
  private exchange(message: Buffer, signal?: AbortSignal): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: this.host, port: this.port, signal });
      const chunks: Buffer[] = [];
      socket.setTimeout(this.config.timeoutMs, () => socket.destroy(new Error(`no answer within ${this.config.timeoutMs} ms`)));
      socket.once('connect', () => {
        const length = Buffer.alloc(2);
        length.writeUInt16BE(message.length);
        socket.write(Buffer.concat([length, message]));
      });
      socket.on('data', (chunk) => {
        chunks.push(chunk);
        const all = Buffer.concat(chunks);
        if (all.length >= 2 && all.length >= 2 + all.readUInt16BE(0)) {
          socket.end();
          resolve(all.subarray(2, 2 + all.readUInt16BE(0)));
        }
      });
      socket.once('error', reject);
      socket.once('close', () => reject(new Error('connection closed before an answer')));
    });
  }
}
