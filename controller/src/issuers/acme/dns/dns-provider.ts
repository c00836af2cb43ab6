// dns-01 record setters. A provider adds one TXT value at a name and later removes exactly that value;
// it must not replace other values at the name (a wildcard and its base name share one record name).
import type { AcmeSecrets, DnsProviderConfig } from '../acme-config.js';
import { ExecDnsProvider } from './exec-dns-provider.js';
import { Rfc2136DnsProvider } from './rfc2136-dns-provider.js';

export interface DnsProvider {
  /** Adds TXT `value` at `fqdn` (absolute, with the trailing dot). */
  present(fqdn: string, value: string, signal?: AbortSignal): Promise<void>;
  /** Removes that value again; called after validation, whatever its outcome. */
  cleanup(fqdn: string, value: string, signal?: AbortSignal): Promise<void>;
}

export function createDnsProvider(config: DnsProviderConfig, secrets: AcmeSecrets): DnsProvider {
  switch (config.kind) {
    case 'exec':
      return new ExecDnsProvider(config);
    case 'rfc2136':
      return new Rfc2136DnsProvider(config, secrets.tsigSecret ?? '');
  }
}

/** `_acme-challenge.<name>.` for a DNS name being certified (a wildcard's is its base name's). */
export function challengeRecordName(dnsName: string): string {
  return `_acme-challenge.${dnsName.replace(/^\*\./, '').replace(/\.$/, '')}.`;
}
