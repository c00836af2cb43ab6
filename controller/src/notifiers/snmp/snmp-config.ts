// Settings of an SNMP channel: where traps go, v2c or v3 (USM), trap or inform. Community strings and v3
// keys are secrets.
import { randomBytes } from 'node:crypto';
import { z } from 'zod';

export const snmpConfigSchema = z.strictObject({
  host: z.string().min(1).max(255),
  port: z.int().min(1).max(65535).default(162),
  version: z.enum(['v2c', 'v3']).default('v2c'),
  /** trap: fire and forget; inform: the receiver acknowledges, so failures (down, wrong v3 keys) are seen. */
  mode: z.enum(['trap', 'inform']).default('trap'),
  /** Extra tries of an unacknowledged inform within the timeout. */
  informRetries: z.int().min(0).max(5).default(1),
  v3: z.strictObject({
    user: z.string().min(1).max(32),
    level: z.enum(['authPriv', 'authNoPriv']).default('authPriv'),
    authProtocol: z.enum(['sha', 'sha224', 'sha256', 'sha384', 'sha512', 'md5']).default('sha'),
    privProtocol: z.enum(['aes', 'des', 'aes256b', 'aes256r']).default('aes'),
    /**
     * certflow's engine id (hex). For v3 traps certflow is the authoritative engine: receivers need it
     * (Net-SNMP: `createUser -e 0x<engineId> USER SHA ... AES ...`). Generated when the channel is created.
     */
    engineId: z.string().regex(/^(0x)?[0-9a-fA-F]{10,64}$/, 'expected 5 to 32 bytes in hex')
      .default(() => `8000b98380${randomBytes(12).toString('hex')}`),
  }).optional(),
}).refine((c) => c.version !== 'v3' || c.v3, { message: 'version v3 needs the v3 settings (user, protocols)', path: ['v3'] });
export type SnmpConfig = z.output<typeof snmpConfigSchema>;

export const snmpSecretsSchema = z.strictObject({
  community: z.string().min(1).max(255).optional(),
  /** USM passwords: at least 8 characters (RFC 3414). */
  authKey: z.string().min(8).max(255).optional(),
  privKey: z.string().min(8).max(255).optional(),
});
export type SnmpSecrets = z.output<typeof snmpSecretsSchema>;
