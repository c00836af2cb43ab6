// The template document without a database: every default filled in, and each bad value refused with
// the JSON path of its field.
import { describe, expect, it } from 'vitest';
import { defaultTemplateDocument, templateDocumentSchema } from '../../controller/src/templates/template-document.js';
import { fieldPath, TemplateInvalidError } from '../../controller/src/templates/template-errors.js';
import { parseTemplateDocument } from '../../controller/src/templates/validate-template.js';

const AGENT = '6f1c2b7e-1d2c-4b8a-9a55-0c8f5f0f6d11';
const TOKEN = '0b8f7a44-1e0b-4d7e-8e7c-7c9c1c2d3e4f';

describe('template document defaults', () => {
  it('fills in every default from an empty document', () => {
    expect(defaultTemplateDocument()).toEqual({
      match: null,
      renewal: { daysBeforeExpiry: 30, useAri: true, jitterMinutes: 60 },
      key: { type: 'ecdsa-p256', multiHost: 'per-host' },
      ca: { policy: [{ ca: 'builtin' }] },
      approval: { gates: [] },
      deploy: { fromDiscovery: true, targets: [], batchSize: 10, canary: 1 },
      notifications: { rules: [] },
      rollback: { policy: 'automatic' },
    });
  });

  it('fills in defaults inside the parts that are given', () => {
    const doc = templateDocumentSchema.parse({
      renewal: { percentOfLifetime: 33 },
      approval: { gates: [{ before: 'deploy', levels: [{ name: 'ops', approvers: { roles: ['operator'] }, required: 1 }] }] },
      deploy: { targets: [{ agentId: AGENT, kind: 'nginx' }] },
    });
    expect(doc.renewal).toEqual({ daysBeforeExpiry: 30, percentOfLifetime: 33, useAri: true, jitterMinutes: 60 });
    expect(doc.approval.gates[0].deadlineHours).toBe(24);
    expect(doc.deploy.targets[0]).toEqual({ agentId: AGENT, kind: 'nginx', options: {} });
    expect(doc.key.type).toBe('ecdsa-p256');
  });

  it('keeps what it parsed: parsing a parsed document changes nothing', () => {
    const once = templateDocumentSchema.parse({
      match: { domainPatterns: ['*.Example.COM.'], labels: { env: 'prod' } },
      deploy: { maintenanceWindows: [{ days: ['sat', 'sun'], start: '22:00', end: '04:00', timeZone: 'Europe/Paris' }] },
      notifications: { rules: [{ events: ['run.failed', '*'], channels: ['ops-mail'] }] },
    });
    expect(once.match).toEqual({ domainPatterns: ['*.example.com'], labels: { env: 'prod' } });
    expect(templateDocumentSchema.parse(JSON.parse(JSON.stringify(once)))).toEqual(once);
  });

  it('does not share default arrays between documents', () => {
    const a = defaultTemplateDocument();
    a.deploy.targets.push({ agentId: AGENT, kind: 'file', options: {} });
    a.ca.policy.push({ ca: 'other' });
    expect(defaultTemplateDocument().deploy.targets).toEqual([]);
    expect(defaultTemplateDocument().ca.policy).toEqual([{ ca: 'builtin' }]);
  });
});

describe('field paths', () => {
  it.each([
    [['ca', 'policy', 0, 'ca'], 'ca.policy[0].ca'],
    [['match', 'labels', 'app.kubernetes.io/name'], 'match.labels["app.kubernetes.io/name"]'],
    [[], ''],
  ] as const)('%j -> %s', (path, expected) => {
    expect(fieldPath(path)).toBe(expected);
  });
});

describe('refused documents name their field', () => {
  const level = (over: object) => ({ name: 'l1', approvers: { roles: ['approver'] }, required: 1, ...over });
  const gate = (levels: object[], over: object = {}) => ({ approval: { gates: [{ before: 'issue', levels, ...over }] } });
  const cases: Array<[string, unknown, string, RegExp]> = [
    ['a misspelt field', { renewal: { daysBeforeExpire: 10 } }, 'renewal.daysBeforeExpire', /unknown field/],
    ['an unknown top-level field', { approvals: {} }, 'approvals', /unknown field/],
    ['a percentage of lifetime of 0', { renewal: { percentOfLifetime: 0 } }, 'renewal.percentOfLifetime', /between 1 and 99/],
    ['a percentage of lifetime of 100', { renewal: { percentOfLifetime: 100 } }, 'renewal.percentOfLifetime', /between 1 and 99/],
    ['a threshold as long as the validity', { renewal: { daysBeforeExpiry: 90 }, ca: { validityDays: 90 } }, 'renewal.daysBeforeExpiry', /lifetime/],
    ['a threshold longer than the validity', { renewal: { daysBeforeExpiry: 40 }, ca: { validityDays: 30 } }, 'renewal.daysBeforeExpiry', /lifetime/],
    ['an unknown key type', { key: { type: 'dsa-1024' } }, 'key.type', /.+/],
    ['no CA at all', { ca: { policy: [] } }, 'ca.policy', /at least one CA/],
    ['a CA name that is not a slug', { ca: { policy: [{ ca: 'My CA' }] } }, 'ca.policy[0].ca', /name of a certificate authority/],
    ['a level with no approvers', gate([level({ approvers: {} })]), 'approval.gates[0].levels[0].approvers', /needs approvers/],
    ['a level with empty approver lists', gate([level({ approvers: { roles: [], tokens: [] } })]), 'approval.gates[0].levels[0].approvers.roles', /at least one role/],
    ['zero required approvals', gate([level({ required: 0 })]), 'approval.gates[0].levels[0].required', /at least one approval/],
    ['more approvals than named tokens', gate([level({ approvers: { tokens: [TOKEN] }, required: 2 })]), 'approval.gates[0].levels[0].required', /only 1 approver token/],
    ['an auditor as approver role', gate([level({ approvers: { roles: ['auditor'] } })]), 'approval.gates[0].levels[0].approvers.roles[0]', /.+/],
    ['a token that is not an id', gate([level({ approvers: { tokens: ['alice'] } })]), 'approval.gates[0].levels[0].approvers.tokens[0]', /admin token id/],
    ['a gate without levels', gate([]), 'approval.gates[0].levels', /at least one level/],
    ['two gates before issue', { approval: { gates: [{ before: 'issue', levels: [level({})] }, { before: 'issue', levels: [level({})] }] } },
      'approval.gates[1].before', /already a gate before issue/],
    ['a level name used twice', gate([level({}), level({})]), 'approval.gates[0].levels[1].name', /used twice/],
    ['an unknown event kind', { notifications: { rules: [{ events: ['run.exploded'], channels: ['ops'] }] } }, 'notifications.rules[0].events[0]', /event kind/],
    ['a rule without channels', { notifications: { rules: [{ events: ['*'], channels: [] }] } }, 'notifications.rules[0].channels', /at least one channel/],
    ['a bad time', { deploy: { maintenanceWindows: [{ start: '25:00', end: '04:00', timeZone: 'UTC' }] } }, 'deploy.maintenanceWindows[0].start', /HH:MM/],
    ['an empty window', { deploy: { maintenanceWindows: [{ start: '04:00', end: '04:00', timeZone: 'UTC' }] } }, 'deploy.maintenanceWindows[0].end', /empty/],
    ['an unknown time zone', { deploy: { maintenanceWindows: [{ start: '01:00', end: '04:00', timeZone: 'Mars/Olympus_Mons' }] } },
      'deploy.maintenanceWindows[0].timeZone', /unknown time zone/],
    ['an unknown weekday', { deploy: { maintenanceWindows: [{ days: ['fri', 'someday'], start: '01:00', end: '04:00', timeZone: 'UTC' }] } },
      'deploy.maintenanceWindows[0].days[1]', /.+/],
    ['a target agent that is not an id', { deploy: { targets: [{ agentId: 'web-1', kind: 'nginx' }] } }, 'deploy.targets[0].agentId', /agent id/],
    ['an unknown target kind', { deploy: { targets: [{ agentId: AGENT, kind: 'iis' }] } }, 'deploy.targets[0].kind', /.+/],
    ['nothing to deploy to', { deploy: { fromDiscovery: false } }, 'deploy.targets', /nothing would be deployed/],
    ['a port out of range', { deploy: { targets: [{ agentId: AGENT, kind: 'file', endpoints: [{ host: 'a', port: 70000 }] }] } },
      'deploy.targets[0].endpoints[0].port', /.+/],
    ['an empty match', { match: {} }, 'match', /adopt every certificate/],
    ['a wildcard inside a label', { match: { domainPatterns: ['web*.example.com'] } }, 'match.domainPatterns[0]', /wildcard/],
    ['a wildcard of a single label', { match: { domainPatterns: ['*.com.'] } }, 'match.domainPatterns[0]', /.+/],
    ['a bare name', { match: { domainPatterns: ['localhost'] } }, 'match.domainPatterns[0]', /DNS name/],
    ['an empty label set', { match: { labels: {} } }, 'match.labels', /at least one label/],
    ['a bad label key', { match: { labels: { 'bad key': 'x' } } }, 'match.labels["bad key"]', /.+/],
    ['an unknown rollback policy', { rollback: { policy: 'never' } }, 'rollback.policy', /.+/],
    ['a document that is not an object', 'renew please', '(document)', /.+/],
  ];

  it.each(cases)('%s', (_what, doc, field, message) => {
    let error: unknown;
    try {
      parseTemplateDocument(doc);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TemplateInvalidError);
    expect((error as TemplateInvalidError).field).toBe(field);
    expect((error as TemplateInvalidError).message).toMatch(message);
  });
});
