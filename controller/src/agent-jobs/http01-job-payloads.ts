// The payload of an Http01Challenge agent job (AgentJob.payload): the issue stage asks the target's agent
// to serve ACME http-01 key authorizations ("start") and to stop ("stop"). Stored in the contract's own
// field names, so the job goes to the agent as stored (jobMessage's default case). The agent checks the
// port against its acme.http01.ports and the webroot against its deploy.allowedPaths.
import { z } from 'zod';

export const http01TokenSchema = z.strictObject({
  token: z.string().regex(/^[A-Za-z0-9_-]{1,256}$/, 'expected a base64url token'),
  keyAuthorization: z.string().min(1).max(600),
});

export const http01ChallengeJobPayloadSchema = z.strictObject({
  action: z.enum(['start', 'stop']),
  challengeId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/),
  tokens: z.array(http01TokenSchema).max(100).default(() => []),
  port: z.int().min(0).max(65_535).default(0),
  bindAddress: z.string().max(64).default(''),
  webroot: z.string().max(4096).default(''),
  ttlSeconds: z.int().min(0).max(86_400).default(0),
});
export type Http01ChallengeJobPayload = z.input<typeof http01ChallengeJobPayloadSchema>;

/** What the agent answered (JobResult.http01, as job-outputs.ts records it). */
export interface Http01JobOutput {
  challengeId: string;
  status: string;
  mode: string;
  port: number;
  files: string[];
  expiresAtUnixMs: string;
}

export function http01ChallengeJobPayload(input: Http01ChallengeJobPayload): Record<string, unknown> {
  return http01ChallengeJobPayloadSchema.parse(input);
}
