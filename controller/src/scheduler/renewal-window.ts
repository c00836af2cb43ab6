// When a certificate should be renewed: the earliest of "N days before expiry", "when P % of its
// lifetime remains" and (when the CA offers it) a random moment in the ACME ARI window, moved earlier by
// a random jitter so that certificates issued together do not all renew in the same minute.
export interface RenewalSettings {
  daysBeforeExpiry: number;
  percentOfLifetime?: number;
  useAri: boolean;
  jitterMinutes: number;
}

export function computeRenewAfter(input: {
  notBefore: Date; notAfter: Date; renewal: RenewalSettings; ariWindow?: { start: Date; end: Date } | null; random: () => number;
}): Date {
  const { notBefore, notAfter, renewal, random } = input;
  const candidates = [notAfter.getTime() - renewal.daysBeforeExpiry * 86_400_000];
  if (renewal.percentOfLifetime !== undefined) {
    const lifetime = notAfter.getTime() - notBefore.getTime();
    candidates.push(notAfter.getTime() - (lifetime * renewal.percentOfLifetime) / 100);
  }
  if (renewal.useAri && input.ariWindow) {
    const { start, end } = input.ariWindow;
    candidates.push(start.getTime() + random() * Math.max(0, end.getTime() - start.getTime()));
  }
  const earliest = Math.min(...candidates);
  return new Date(earliest - random() * renewal.jitterMinutes * 60_000);
}
