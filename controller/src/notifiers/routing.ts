// Which channels an event goes to. A template's notification rules decide for the event kinds they name;
// for kinds a template says nothing about (and for events of no template: expiring inventory
// certificates, offline agents) each channel's default events decide. A template rule naming a kind
// with no channels is how a template silences the defaults for that kind.
import type { EntityManager } from '@mikro-orm/postgresql';
import type { EventKind } from '../events/certflow-event.js';

export interface NotificationRule {
  events: string[];
  channels: string[];
}

/** The notification rules of a template, or null when it has none (or does not exist). */
export type RulesFor = (templateId: string) => Promise<NotificationRule[] | null>;

export interface RoutableChannel {
  name: string;
  enabled: boolean;
  defaultEvents: string[];
}

/** '*' stands for every kind except `test`, which goes only to the channel being tested. */
export function ruleMatches(events: readonly string[], kind: EventKind): boolean {
  return events.includes(kind) || (kind !== 'test' && events.includes('*'));
}

/**
 * The channel names to deliver to. Names a template gives that match no channel are returned too: the
 * worker records them as failed deliveries, so a misspelt channel is visible, not silent.
 */
export function routeEvent(kind: EventKind, templateRules: readonly NotificationRule[] | null, channels: readonly RoutableChannel[]): string[] {
  const matching = (templateRules ?? []).filter((rule) => ruleMatches(rule.events, kind));
  const byName = new Map(channels.map((c) => [c.name, c]));
  if (matching.length) {
    const names = [...new Set(matching.flatMap((rule) => rule.channels))];
    return names.filter((name) => byName.get(name)?.enabled !== false);
  }
  return channels.filter((c) => c.enabled && ruleMatches(c.defaultEvents, kind)).map((c) => c.name);
}

export interface RoutingState {
  channels: (RoutableChannel & { kind: string })[];
  /** The template's rules from its current version; null without a template (or rules). */
  rules: NotificationRule[] | null;
}

/**
 * Every channel, as routing needs it, and the rules of a template's current version, in one statement
 * (an event is routed by both; two events per certificate renewed).
 */
export async function routingStateFromDatabase(em: EntityManager, templateId: string | null): Promise<RoutingState> {
  const [row] = await em.execute<{ channels: RoutingState['channels']; rules: NotificationRule[] | null }[]>(
    `select coalesce((select jsonb_agg(jsonb_build_object('name', c.name, 'kind', c.kind, 'enabled', c.enabled, 'defaultEvents', c.default_events))
                        from notification_channels c), '[]'::jsonb) as channels,
            (select tv.document -> 'notifications' -> 'rules'
               from templates t join template_versions tv on tv.template_id = t.id and tv.version = t.current_version
              where t.id = ?) as rules`, [templateId]);
  return { channels: row.channels, rules: row.rules ?? null };
}
