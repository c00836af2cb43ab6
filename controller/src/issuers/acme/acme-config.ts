// An ACME CA's settings. The non-secret part is the `config` column of its certificate_authorities row
// (shown by GET /api/v1/cas); the secret part (EAB HMAC key, TSIG secret) is sealed in `secrets` under
// the master key, like the built-in CA's keys. Zod-only, so the API schemas and certflowctl can use it.
import { z } from 'zod';

const hostPort = z.string().regex(/^[^\s:]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$/, 'expected HOST:PORT');

/** dns-01 records set by running a command, like lego's exec provider: `command present|cleanup FQDN VALUE`. */
export const execDnsProviderSchema = z.strictObject({
  kind: z.literal('exec'),
  /** The program and its first arguments; certflow appends `present|cleanup`, the record's FQDN and value. */
  command: z.array(z.string().min(1)).min(1),
  timeoutMs: z.int().min(100).max(600_000).default(60_000),
});

/** dns-01 records set by RFC 2136 dynamic update, signed with TSIG (the secret is sealed, not here). */
export const rfc2136DnsProviderSchema = z.strictObject({
  kind: z.literal('rfc2136'),
  /** The primary server that takes updates. */
  server: hostPort,
  /** The zone the `_acme-challenge` records are in (the names being certified are at or below it). */
  zone: z.string().min(1).max(253),
  tsigKeyName: z.string().min(1).max(253),
  tsigAlgorithm: z.enum(['hmac-sha256', 'hmac-sha384', 'hmac-sha512']).default('hmac-sha256'),
  ttl: z.int().min(1).max(86_400).default(60),
  timeoutMs: z.int().min(100).max(60_000).default(5_000),
});

export const dnsProviderSchema = z.discriminatedUnion('kind', [execDnsProviderSchema, rfc2136DnsProviderSchema]);

export const acmeChallengeSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('dns-01'),
    provider: dnsProviderSchema,
    /** Time to wait after the records are set before asking the CA to look (secondary servers catching up). */
    propagationDelayMs: z.int().min(0).max(600_000).default(0),
  }),
  z.strictObject({
    type: z.literal('http-01'),
    /** The port the target host's agent serves the token on (the CA connects to port 80 in production). */
    port: z.int().min(1).max(65535).default(80),
    /** The address the agent binds for it (absent: every address). The agent's acme.http01.ports must list the port. */
    bindAddress: z.union([z.ipv4(), z.ipv6()]).optional(),
    /**
     * Instead of listening, the agent writes the tokens under this directory's .well-known/acme-challenge/
     * (the host's web server serves them); it must be inside the agent's deploy.allowedPaths.
     */
    webroot: z.string().regex(/^\//, 'expected an absolute path').max(4096).optional(),
    /** How long the agent serves the tokens at most (it also caps this itself). */
    serveSeconds: z.int().min(30).max(86_400).default(600),
  }),
]);

export const acmeConfigSchema = z.strictObject({
  directoryUrl: z.url({ protocol: /^https?$/ }),
  /** `mailto:` URLs for the account (the CA's expiry and incident mail). */
  contact: z.array(z.string().regex(/^mailto:[^@\s]+@[^@\s]+$/, 'expected mailto:user@example.com')).default([]),
  /** External account binding key id (ZeroSSL, Google, private CAs); its HMAC key is a secret. */
  eabKeyId: z.string().min(1).max(500).optional(),
  /** PEM of the CA(s) that sign the ACME server's TLS certificate, for private ACME servers. */
  trustPem: z.string().includes('-----BEGIN CERTIFICATE-----').optional(),
  challenge: acmeChallengeSchema,
  /** Orders at once against this CA from one controller process; the rest queue. */
  maxConcurrentOrders: z.int().min(1).max(100).default(4),
  /** A Retry-After (429/503) at most this long is waited out; a longer one fails the attempt at once. */
  maxRetryAfterSeconds: z.int().min(0).max(3600).default(60),
  /** Seconds to wait for an authorization or an order to become valid. */
  orderTimeoutSeconds: z.int().min(5).max(3600).default(300),
});
export type AcmeConfig = z.infer<typeof acmeConfigSchema>;
export type AcmeConfigInput = z.input<typeof acmeConfigSchema>;
export type DnsProviderConfig = z.infer<typeof dnsProviderSchema>;

/** Secrets an operator gives; sealed as one value named `acme-secrets:<ca>`. */
export const acmeSecretsSchema = z.strictObject({
  /** base64url HMAC key of the EAB key id. */
  eabHmacKey: z.string().min(1).max(1000).optional(),
  /** base64 TSIG secret for RFC 2136 updates. */
  tsigSecret: z.string().min(1).max(1000).optional(),
});
export type AcmeSecrets = z.infer<typeof acmeSecretsSchema>;

export function acmeSecretsName(caName: string): string {
  return `acme-secrets:${caName}`;
}

/** The account key (and the account URL once registered): made by certflow once per CA, sealed, reused. */
export function acmeAccountSecretName(caName: string): string {
  return `acme-account:${caName}`;
}

/** Cross-field checks the schema cannot express; returns the first problem or null. */
export function acmeSetupProblem(config: AcmeConfig, secrets: AcmeSecrets): string | null {
  if (config.eabKeyId && !secrets.eabHmacKey) return 'eabKeyId is set but the secret eabHmacKey is missing';
  if (!config.eabKeyId && secrets.eabHmacKey) return 'the secret eabHmacKey is set but eabKeyId is missing';
  if (config.challenge.type === 'dns-01' && config.challenge.provider.kind === 'rfc2136' && !secrets.tsigSecret) {
    return 'the rfc2136 DNS provider needs the secret tsigSecret';
  }
  return null;
}
