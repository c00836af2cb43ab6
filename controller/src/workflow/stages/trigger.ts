// trigger: records why this run started (the renewal window that opened, or who asked) and how much
// time the current certificate has left. The scheduler or an operator already decided; this stage makes
// the decision part of the run's record.
import type { StageHandler } from '../stage-handler.js';

export const trigger: StageHandler = async (ctx) => {
  const { managed, run, deps } = ctx;
  const now = deps.now();
  const notAfter = managed.currentNotAfter;
  const daysLeft = notAfter ? Math.floor((notAfter.getTime() - now.getTime()) / 86_400_000) : null;
  return {
    type: 'done',
    output: {
      reason: run.reason,
      requestedBy: run.requestedBy,
      renewAfter: managed.renewAfter?.toISOString() ?? null,
      ariWindow: managed.ariWindowStart ? { start: managed.ariWindowStart.toISOString(), end: managed.ariWindowEnd?.toISOString() } : null,
      currentNotAfter: notAfter?.toISOString() ?? null,
      daysLeft,
    },
  };
};
