// Signed approval links: `<publicUrl>/approve/<token>` where the token names one link row (bound to one
// approver, one run and one approval level) and carries an HMAC over that id and its expiry. The HMAC key
// is a random secret sealed under the master key. A link is single-use: using it marks the row.
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { SecretBox } from '../crypto/master-key.js';
import { ApprovalLink } from '../db/entities/approval.js';

const SECRET_NAME = 'approval-link-key';
let cachedKey: { box: SecretBox; key: Buffer } | null = null;

async function linkKey(em: EntityManager, box: SecretBox): Promise<Buffer> {
  if (cachedKey?.box === box) return cachedKey.key;
  const now = new Date();
  // Two replicas may create it at once: the first insert wins and both read that row.
  await em.execute('insert into secrets (name, sealed, created_at, updated_at) values (?, ?, ?, ?) on conflict (name) do nothing',
    [SECRET_NAME, box.seal(SECRET_NAME, randomBytes(32)), now, now], 'run');
  const [row] = await em.execute<{ sealed: Buffer }[]>('select sealed from secrets where name = ?', [SECRET_NAME]);
  const key = box.open(SECRET_NAME, Buffer.from(row!.sealed));
  cachedKey = { box, key };
  return key;
}

function sign(key: Buffer, payload: string): string {
  return createHmac('sha256', key).update(payload).digest('base64url');
}

export async function createApprovalLink(
  em: EntityManager, box: SecretBox, input: { approvalRequestId: string; runId: string; approverTokenId: string; expiresAt: Date },
): Promise<string> {
  const id = randomUUID();
  em.create(ApprovalLink, { id, ...input, usedAt: null, createdAt: new Date() });
  await em.flush();
  const payload = `${id}.${Math.floor(input.expiresAt.getTime() / 1000)}`;
  return `${Buffer.from(payload).toString('base64url')}.${sign(await linkKey(em, box), payload)}`;
}

export class ApprovalLinkError extends Error {
  override name = 'ApprovalLinkError';
}

/** Checks a token's signature and expiry and returns its link row (locked); the caller decides and marks it used. */
export async function openApprovalLink(tx: EntityManager, box: SecretBox, token: string, now: Date): Promise<ApprovalLink> {
  const [encoded, signature] = token.split('.');
  if (!encoded || !signature) throw new ApprovalLinkError('this approval link is malformed');
  const payload = Buffer.from(encoded, 'base64url').toString('utf8');
  const expected = Buffer.from(sign(await linkKey(tx, box), payload));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw new ApprovalLinkError('this approval link is not valid');
  const [id, exp] = payload.split('.');
  if (!id || !exp || Number(exp) * 1000 < now.getTime()) throw new ApprovalLinkError('this approval link has expired');
  await tx.execute('select id from approval_links where id = ? for update', [id]);
  const link = await tx.findOne(ApprovalLink, { id });
  if (!link) throw new ApprovalLinkError('this approval link is not valid');
  if (link.usedAt) throw new ApprovalLinkError('this approval link was already used');
  return link;
}
