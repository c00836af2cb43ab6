// The issuing CA's root, for checking served chains: private CAs (the built-in one) are in no public
// trust store. Undefined when the issuer cannot name its root (the public roots then apply).
import type { StageContext } from '../stage-handler.js';

export async function issuerRootPem(ctx: StageContext, ca: string): Promise<string | undefined> {
  const issuer = await ctx.deps.loadIssuer(ctx.tx, ca) as { rootPem?: () => Promise<string> | string };
  return typeof issuer.rootPem === 'function' ? await issuer.rootPem() : undefined;
}
