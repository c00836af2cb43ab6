// The JSON bodies a webhook channel can post: certflow's own (the event envelope), a Slack incoming-webhook
// message, or a Teams message with an Adaptive Card. Approval links appear only for the channel's approvers.
import type { CertflowEvent } from '../../events/certflow-event.js';
import { eventFacts, eventTitle, type ApprovalLink } from '../event-text.js';
import type { WebhookConfig } from './webhook-config.js';

export function certflowPayload(event: CertflowEvent, links: ApprovalLink[], deliveryId: string | undefined): unknown {
  const { approvalLinks, ...details } = event.details;
  return {
    delivery: deliveryId ?? null,
    title: eventTitle(event),
    event: { ...event, details: approvalLinks ? { ...details, approvalLinks: links } : details },
  };
}

export function slackPayload(event: CertflowEvent, links: ApprovalLink[]): unknown {
  const title = eventTitle(event);
  const icon = event.severity === 'critical' ? ':red_circle:' : event.severity === 'warning' ? ':warning:' : ':information_source:';
  const fields = eventFacts(event).filter(([label]) => label !== 'Event id').slice(0, 10)
    .map(([label, value]) => ({ type: 'mrkdwn', text: `*${label}*\n${value}` }));
  const blocks: unknown[] = [
    { type: 'section', text: { type: 'mrkdwn', text: `${icon} *${title}*\n${event.summary}` } },
    { type: 'section', fields },
  ];
  for (const link of links) {
    blocks.push({ type: 'actions', elements: [
      { type: 'button', text: { type: 'plain_text', text: 'Approve' }, style: 'primary', url: link.approveUrl },
      { type: 'button', text: { type: 'plain_text', text: 'Reject' }, style: 'danger', url: link.rejectUrl },
    ] });
  }
  // `text` is what notifications and clients without blocks show (Mattermost, Rocket.Chat read it too).
  return { text: `${title}: ${event.summary}`, blocks };
}

export function teamsPayload(event: CertflowEvent, links: ApprovalLink[]): unknown {
  const colour = event.severity === 'critical' ? 'Attention' : event.severity === 'warning' ? 'Warning' : 'Accent';
  return {
    type: 'message',
    attachments: [{
      contentType: 'application/vnd.microsoft.card.adaptive',
      contentUrl: null,
      content: {
        $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
        type: 'AdaptiveCard',
        version: '1.4',
        body: [
          { type: 'TextBlock', size: 'Medium', weight: 'Bolder', color: colour, text: eventTitle(event), wrap: true },
          { type: 'TextBlock', text: event.summary, wrap: true },
          { type: 'FactSet', facts: eventFacts(event).map(([title, value]) => ({ title, value })) },
        ],
        actions: links.flatMap((link) => [
          { type: 'Action.OpenUrl', title: 'Approve', url: link.approveUrl },
          { type: 'Action.OpenUrl', title: 'Reject', url: link.rejectUrl },
        ]),
      },
    }],
  };
}

export function webhookBody(event: CertflowEvent, config: WebhookConfig, links: ApprovalLink[], deliveryId: string | undefined): string {
  const payload = config.format === 'slack' ? slackPayload(event, links)
    : config.format === 'teams' ? teamsPayload(event, links)
    : certflowPayload(event, links, deliveryId);
  return JSON.stringify(payload);
}
