// notify: the run worked. The managed certificate now points at the new certificate and its next
// renewal is scheduled; run.succeeded (and the events before it) go to the notifiers through the event
// stream, as the template's notification rules say.
import type { StageHandler } from '../stage-handler.js';
import type { IssuedForHost } from './issue.js';
import { computeRenewAfter } from '../../scheduler/renewal-window.js';

export const notify: StageHandler = async (ctx) => {
  const { managed, template, run, context, deps } = ctx;
  const issued = (context.issueProgress as { issued: IssuedForHost[] }).issued;
  const first = issued[0]!;
  const notBefore = new Date(first.notBefore);
  const notAfter = new Date(first.notAfter);
  const now = deps.now();
  managed.currentFingerprintSha256 = first.fingerprintSha256;
  managed.currentNotBefore = notBefore;
  managed.currentNotAfter = notAfter;
  managed.ariWindowStart = null;
  managed.ariWindowEnd = null;
  managed.currentCa = first.ca;
  managed.currentCertificatePem = first.certificatePem;
  // The ARI poller asks the CA for this certificate's renewal window (CAs without ARI: it clears this).
  managed.ariNextCheckAt = now;
  managed.renewAfter = computeRenewAfter({ notBefore, notAfter, renewal: template.renewal, random: Math.random });
  managed.renewalComputedWithVersion = run.templateVersion;
  managed.updatedAt = now;
  return {
    type: 'done', next: 'finish',
    output: {
      fingerprintSha256: first.fingerprintSha256, notAfter: first.notAfter, nextRenewal: managed.renewAfter.toISOString(),
      hosts: issued.map((c) => c.agentId),
    },
  };
};
