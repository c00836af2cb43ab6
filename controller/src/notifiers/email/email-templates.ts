// The text and HTML bodies of certflow's emails: one per event (with approve/reject links when the email
// goes to an approver) and the daily digest. Plain template functions: every value is escaped for HTML.
import type { CertflowEvent } from '../../events/certflow-event.js';
import { eventFacts, eventTitle, type ApprovalLink } from '../event-text.js';
import type { ExpiryDigest } from './expiry-digest.js';

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const severityColour = { info: '#2f6f9f', warning: '#b26b00', critical: '#b00020' } as const;

function page(title: string, colour: string, body: string): string {
  return `<!doctype html>
<html><body style="font-family: sans-serif; font-size: 14px; color: #222">
<h2 style="color: ${colour}; margin-bottom: 4px">${escapeHtml(title)}</h2>
${body}
<p style="color: #777; font-size: 12px">Sent by certflow.</p>
</body></html>
`;
}

function linksText(links: readonly ApprovalLink[]): string {
  if (!links.length) return '';
  return '\n' + links.map((l) => `Approve: ${l.approveUrl}\nReject:  ${l.rejectUrl}`).join('\n\n') +
    '\n\nEach link works once and only for you; do not forward this email.\n';
}

function linksHtml(links: readonly ApprovalLink[]): string {
  if (!links.length) return '';
  const button = (href: string, label: string, colour: string) =>
    `<a href="${escapeHtml(href)}" style="display: inline-block; padding: 8px 16px; margin-right: 8px; background: ${colour}; color: #fff; text-decoration: none; border-radius: 4px">${label}</a>`;
  return links.map((l) => `<p>${button(l.approveUrl, 'Approve', '#2e7d32')}${button(l.rejectUrl, 'Reject', '#b00020')}</p>`).join('\n') +
    '<p style="color: #555">Each link works once and only for you; do not forward this email.</p>';
}

export function renderEventEmail(event: CertflowEvent, subjectPrefix: string, links: readonly ApprovalLink[] = []): RenderedEmail {
  const title = eventTitle(event);
  const facts = eventFacts(event);
  const width = Math.max(...facts.map(([label]) => label.length)) + 1;
  const text = `${event.summary}\n\n` +
    facts.map(([label, value]) => `${`${label}:`.padEnd(width)} ${value}`).join('\n') + '\n' + linksText(links);
  const rows = facts.map(([label, value]) =>
    `<tr><th style="text-align: left; padding: 2px 12px 2px 0; vertical-align: top">${escapeHtml(label)}</th><td>${escapeHtml(value)}</td></tr>`).join('\n');
  const html = page(title, severityColour[event.severity],
    `<p>${escapeHtml(event.summary)}</p>\n${linksHtml(links)}\n<table>\n${rows}\n</table>`);
  const subject = `${subjectPrefix ? `${subjectPrefix} ` : ''}${event.severity === 'info' ? '' : `[${event.severity}] `}${title}`;
  return { subject, text, html };
}

export function renderDigestEmail(digest: ExpiryDigest, subjectPrefix: string): RenderedEmail {
  const shown = digest.certificates;
  const more = digest.total - shown.length;
  const subject = `${subjectPrefix ? `${subjectPrefix} ` : ''}${digest.total} certificate${digest.total === 1 ? '' : 's'} expiring within ${digest.withinDays} days (${digest.date})`;
  const left = (d: number) => (d < 0 ? `expired ${-d}d ago` : `${d}d left`);
  const text = digest.total === 0
    ? `No certificate in the inventory expires within ${digest.withinDays} days.\n`
    : `${digest.total} certificate(s) in the inventory expire within ${digest.withinDays} days:\n\n` +
      shown.map((c) => `- ${c.subject} (${c.sans.join(', ') || 'no SANs'})\n  ${c.notAfter.slice(0, 10)}, ${left(c.daysLeft)}, on ${c.hosts.join(', ') || 'no host'}`).join('\n') +
      (more > 0 ? `\n\n... and ${more} more (certflowctl certs list --expiring-within ${digest.withinDays}).\n` : '\n');
  const rows = shown.map((c) => `<tr><td>${escapeHtml(c.subject)}<br><small>${escapeHtml(c.sans.join(', '))}</small></td>` +
    `<td>${escapeHtml(c.notAfter.slice(0, 10))}</td><td style="color: ${c.daysLeft < 7 ? '#b00020' : '#222'}">${escapeHtml(left(c.daysLeft))}</td>` +
    `<td>${escapeHtml(c.hosts.join(', '))}</td></tr>`).join('\n');
  const html = page(`Certificates expiring within ${digest.withinDays} days`, digest.certificates.some((c) => c.daysLeft < 7) ? '#b26b00' : '#2f6f9f',
    digest.total === 0 ? `<p>No certificate in the inventory expires within ${digest.withinDays} days.</p>`
      : `<table cellpadding="4" style="border-collapse: collapse">\n<tr><th align="left">Certificate</th><th align="left">Expires</th><th align="left">Left</th><th align="left">Hosts</th></tr>\n${rows}\n</table>` +
        (more > 0 ? `<p>... and ${more} more.</p>` : ''));
  return { subject, text, html };
}
