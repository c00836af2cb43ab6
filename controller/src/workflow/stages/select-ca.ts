// select-ca: walks the template's CA policy in order, keeps the entries whose conditions hold, and takes
// the first CA that is healthy. An unhealthy CA is skipped and the fallback is recorded in the run.
// Runs selecting together share one health check per CA (ca-health.ts).
import type { ManagedCertificate } from '../../db/entities/managed-certificate.js';
import { isHealthChecked } from '../../issuers/issuer.js';
import type { TemplateDocument } from '../../templates/template-document.js';
import type { StageHandler } from '../stage-handler.js';
import { PermanentStageError } from '../stage-handler.js';
import { sharedHealth } from '../ca-health.js';

export const selectCa: StageHandler = async (ctx) => {
  const { template, managed, tx, deps, signal } = ctx;
  const candidates = template.ca.policy.filter((entry) => entryApplies(entry, template, managed));
  if (candidates.length === 0) {
    throw new PermanentStageError(`no CA policy entry applies to ${managed.dnsNames.join(', ')} with key ${template.key.type}`);
  }
  const skipped: { ca: string; reason: string }[] = [];
  for (const entry of candidates) {
    try {
      const issuer = await deps.loadIssuer(tx, entry.ca);
      if (isHealthChecked(issuer)) {
        const health = await sharedHealth(entry.ca, issuer, signal);
        if (!health.healthy) {
          skipped.push({ ca: entry.ca, reason: health.detail });
          continue;
        }
      }
      if (skipped.length > 0) await ctx.audit('ca.fallback', { chosen: entry.ca, skipped });
      return { type: 'done', output: { ca: entry.ca, kind: issuer.kind, skipped } };
    } catch (err) {
      skipped.push({ ca: entry.ca, reason: (err as Error).message });
    }
  }
  // Every CA is down: worth retrying (the runner backs off), the reasons stay in the stage's error.
  throw new Error(`no healthy CA: ${skipped.map((s) => `${s.ca}: ${s.reason}`).join('; ')}`);
};

type PolicyEntry = TemplateDocument['ca']['policy'][number];

function entryApplies(entry: PolicyEntry, template: TemplateDocument, managed: ManagedCertificate): boolean {
  const when = entry.when;
  if (!when) return true;
  if (when.domainSuffixes) {
    const underSuffix = (name: string) => when.domainSuffixes!.some((s) => name === s || name.endsWith(`.${s}`));
    if (!managed.dnsNames.every((n) => underSuffix(n.toLowerCase().replace(/^\*\./, '')))) return false;
  }
  if (when.keyTypes && !when.keyTypes.includes(template.key.type)) return false;
  if (when.labels && !Object.entries(when.labels).every(([k, v]) => managed.labels[k] === v)) return false;
  return true;
}
