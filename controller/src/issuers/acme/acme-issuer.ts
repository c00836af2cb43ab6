// An ACME CA (Let's Encrypt, ZeroSSL, a private step-ca or Pebble) as an Issuer, on acme-client. The CSR
// comes from the target host; certflow orders, answers the challenges (dns-01 through a DnsProvider,
// http-01 through the request's responder: the target's agent), finalizes with the CSR and downloads
// the certificate. At most once per idempotency key: the key is recorded before anything is ordered
// (issued-records.ts), and the order's URL is committed the moment the CA has created the order, so a
// controller that dies before recording the certificate resumes that same order on the next attempt.
import type { EntityManager } from '@mikro-orm/postgresql';
import * as acme from 'acme-client';
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SecretBox } from '../../crypto/master-key.js';
import { checkKeyTypeAllowed, checkNamesAllowed, type CaPolicy } from '../ca-policy.js';
import { parsedCertificate } from '../parsed-certificate.js';
import { checkCsr, checkRequestedNames, type CheckedCsr } from '../csr-request.js';
import {
  findRecorded, findReservation, issueOnce, normalizeSerial, reserveIdempotencyKey, revokeRecorded, UnknownSerialError, type RevocationResult,
} from '../issued-records.js';
import {
  IssuerPolicyError, IssuerUnavailableError, type AgentHttp01Setup, type HealthCheckedIssuer, type Http01Responder, type IssueRequest,
  type IssuedCertificate, type PendingHttp01Challenge, type RenewalInfo, type RenewalInfoIssuer, type RevokingIssuer, type StagedIssuer,
} from '../issuer.js';
import { REVOCATION_REASONS, type RevocationReason } from '../revocation-reasons.js';
import type { AcmeConfig, AcmeSecrets } from './acme-config.js';
import { AcmeChallengeError, acmeError, isAcmeProblem, type AcmeStep } from './acme-errors.js';
import { findOrderUrl, saveOrderUrl } from './acme-orders.js';
import { loadOrCreateAccount, openAcmeSetup, readSealedAcmeSecrets, saveAccountUrl } from './acme-store.js';
import {
  closeOriginUntil, parseRetryAfter, trustForOrigin, tuneClient, waitForOrigin, withAcmeContext, type AcmeCallContext,
} from './acme-transport.js';
import { challengeRecordName, createDnsProvider, type DnsProvider } from './dns/dns-provider.js';
import { DnsProviderError } from './dns/exec-dns-provider.js';
import { ariCertificateId, parseRenewalInfo, RenewalInfoError } from './renewal-info.js';
import { withOrderSlot } from './order-slots.js';
import { failpoint } from '../../workflow/failpoints.js';

export interface AcmeCaRow {
  id: string;
  name: string;
  policy: CaPolicy;
  config: Record<string, unknown>;
  disabled: boolean;
  /** The CA's sealed operator secrets when the caller read them with the row (null: none); else read on first use. */
  sealedSecrets?: Buffer | null;
}

/** Test seams: called at the points a crash matters for idempotency. */
export interface AcmeIssuerHooks {
  /** The order is stored and valid or processing (finalized): the certificate exists at the CA. */
  afterFinalize?: () => Promise<void>;
}

interface Directory {
  newNonce: string;
  newAccount: string;
  newOrder: string;
  revokeCert?: string;
  renewalInfo?: string;
  meta?: Record<string, unknown>;
}

/** The directory's required resources (RFC 8555 7.1.1); a document without them is not an ACME directory. */
const REQUIRED_RESOURCES = ['newNonce', 'newAccount', 'newOrder'] as const;

// Polling of authorizations and orders: acme-client's default (5 s to 30 s) would dominate issuance.
const POLL_MIN_MS = 200;
const POLL_MAX_MS = 3_000;

// One acme-client Client per CA and config per process: the account is looked up once, not per issue.
const clients = new Map<string, Promise<acme.Client>>();
// The directory last fetched per CA and config, for what only needs to know whether it offers ARI.
const DIRECTORY_MAX_AGE_MS = 10 * 60_000;
const directories = new Map<string, { fetchedAt: number; directory: Directory }>();

// Orders prepare() placed in this process, with their authorizations, until complete() takes them: complete
// starts from them instead of reading the order and its authorizations back from the CA (two signed requests
// fewer a certificate). Another replica, or this one after a restart, has no entry and reads them back; an
// entry is taken once, so a retry of complete always reads the CA's current state.
const PREPARED_TTL_MS = 60 * 60_000;
const PREPARED_MAX = 10_000;
const preparedOrders = new Map<string, { order: acme.Order; authorizations: acme.Authorization[]; at: number }>();

function rememberPrepared(key: string, order: acme.Order, authorizations: acme.Authorization[]): void {
  const now = Date.now();
  preparedOrders.delete(key);
  preparedOrders.set(key, { order, authorizations, at: now });
  // Oldest first (insertion order): entries of runs that never completed go after the TTL or past the bound.
  for (const [k, entry] of preparedOrders) {
    if (preparedOrders.size <= PREPARED_MAX && now - entry.at < PREPARED_TTL_MS) break;
    preparedOrders.delete(k);
  }
}

/** Forgets every prepared order: what a replica that did not prepare them sees (tests). */
export function forgetPreparedOrders(): void {
  preparedOrders.clear();
}

function takePrepared(key: string): { order: acme.Order; authorizations: acme.Authorization[] } | undefined {
  const entry = preparedOrders.get(key);
  preparedOrders.delete(key);
  return entry && Date.now() - entry.at < PREPARED_TTL_MS ? entry : undefined;
}

/** StagedIssuer.complete: the target's agent already serves the tokens (prepare's challenges). */
const SERVED_BY_AGENT: Http01Responder = { present: async () => undefined, cleanup: async () => undefined };

export class AcmeIssuer implements HealthCheckedIssuer, RevokingIssuer, RenewalInfoIssuer, StagedIssuer {
  readonly kind = 'acme' as const;
  private setup: { config: AcmeConfig; secrets: AcmeSecrets } | null = null;

  constructor(
    private readonly em: EntityManager,
    private readonly box: SecretBox,
    private readonly ca: AcmeCaRow,
    private readonly hooks: AcmeIssuerHooks = {},
  ) {}

  get name(): string {
    return this.ca.name;
  }

  private get configKey(): string {
    return `${this.ca.id}:${JSON.stringify(this.ca.config)}`;
  }

  /** An idempotency key's order under this CA and config (a changed config is another client: nothing is reused). */
  private preparedKey(req: IssueRequest): string {
    return `${this.configKey}\0${req.idempotencyKey}`;
  }

  /** Runs one ACME step with a fresh problem context; failures become IssuerPolicyError/IssuerUnavailableError. */
  private async step<T>(step: AcmeStep, fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const config = (await this.load()).config;
    const ctx: AcmeCallContext = { maxRetryAfterMs: config.maxRetryAfterSeconds * 1000, signal };
    try {
      return await withAcmeContext(ctx, fn);
    } catch (err) {
      throw acmeError(this.ca.name, step, err, ctx);
    }
  }

  private async load(): Promise<{ config: AcmeConfig; secrets: AcmeSecrets }> {
    if (this.setup) return this.setup;
    try {
      const sealed = this.ca.sealedSecrets !== undefined ? this.ca.sealedSecrets : await readSealedAcmeSecrets(this.em, this.ca.name);
      this.setup = openAcmeSetup(this.box, this.ca, sealed);
    } catch (cause) {
      throw new IssuerUnavailableError((cause as Error).message, { cause });
    }
    trustForOrigin(this.setup.config.directoryUrl, this.setup.config.trustPem);
    return this.setup;
  }

  /** GETs and checks the directory (uncached: health wants the CA's current answer). */
  private async directory(signal?: AbortSignal): Promise<Directory> {
    const { config } = await this.load();
    const directory = await this.step('directory', async () => {
      const res = await acme.axios.get(config.directoryUrl, { signal, validateStatus: null } as Parameters<typeof acme.axios.get>[1]);
      if (res.status !== 200) {
        const detail = typeof res.data?.detail === 'string' ? `: ${res.data.detail}` : '';
        throw new Error(`GET ${config.directoryUrl} answered HTTP ${res.status}${detail}`);
      }
      return checkDirectory(config.directoryUrl, res.data);
    }, signal);
    directories.set(this.configKey, { fetchedAt: Date.now(), directory });
    return directory;
  }

  /** The directory fetched within the last minutes, else fetched now: for whether it offers ARI (renewal orders, polls). */
  private async recentDirectory(signal?: AbortSignal): Promise<Directory> {
    const known = directories.get(this.configKey);
    if (known && Date.now() - known.fetchedAt < DIRECTORY_MAX_AGE_MS) return known.directory;
    return this.directory(signal);
  }

  private client(signal?: AbortSignal): Promise<acme.Client> {
    let pending = clients.get(this.configKey);
    if (!pending) {
      pending = this.openClient(signal);
      clients.set(this.configKey, pending);
      // Not cached on failure: the CA may be back next time.
      pending.catch(() => clients.delete(this.configKey));
    }
    return pending;
  }

  private async openClient(signal?: AbortSignal): Promise<acme.Client> {
    const { config, secrets } = await this.load();
    await this.directory(signal);
    const account = await loadOrCreateAccount(this.em, this.box, this.ca.name);
    const attempts = Math.ceil((config.orderTimeoutSeconds * 1000) / POLL_MAX_MS) + 5;
    const client = new acme.Client({
      directoryUrl: config.directoryUrl,
      accountKey: account.keyPem,
      ...(account.accountUrl ? { accountUrl: account.accountUrl } : {}),
      ...(config.eabKeyId ? { externalAccountBinding: { kid: config.eabKeyId, hmacKey: secrets.eabHmacKey! } } : {}),
      backoffAttempts: attempts, backoffMin: POLL_MIN_MS, backoffMax: POLL_MAX_MS,
    });
    tuneClient(client);
    if (!account.accountUrl) {
      // Registering an existing key returns its account, so replicas racing here end with one account.
      await this.step('account', () => client.createAccount({
        termsOfServiceAgreed: true, ...(config.contact.length ? { contact: config.contact } : {}),
      }), signal);
      await saveAccountUrl(this.em, this.box, this.ca.name, account, client.getAccountUrl());
    }
    return client;
  }

  async issue(req: IssueRequest, signal?: AbortSignal): Promise<IssuedCertificate> {
    signal?.throwIfAborted();
    if (this.ca.disabled) throw new IssuerUnavailableError(`CA "${this.ca.name}" is disabled`);
    const reservation = await findReservation(this.em, this.ca, req);
    if (reservation?.certificate) return reservation.certificate;
    const { checked, names, config } = await this.checkRequest(req);
    return withOrderSlot(this.ca.id, config.maxConcurrentOrders, () => issueOnce(this.em, this.ca, req, names,
      (stored) => this.order(req, checked, signal, { storedOrderUrl: stored.acmeOrderUrl }), { reserved: reservation !== null }), signal);
  }

  /** http-01 through the target's agent: where it serves the tokens; null for dns-01 (issue() alone works). */
  async agentHttp01(): Promise<AgentHttp01Setup | null> {
    const { config } = await this.load();
    if (config.challenge.type !== 'http-01') return null;
    const { port, bindAddress, webroot, serveSeconds } = config.challenge;
    return { port, serveSeconds, ...(bindAddress ? { bindAddress } : {}), ...(webroot ? { webroot } : {}) };
  }

  /**
   * Step 1 of an agent-answered issue: the key is recorded, then the order is placed (or the key's
   * stored order resumed, so a crash before the challenges reached the agent gives the same tokens) and
   * the challenges still to validate are returned. None when the order needs no validation any more or
   * the certificate is already recorded.
   */
  async prepare(req: IssueRequest, signal?: AbortSignal): Promise<{ challenges: PendingHttp01Challenge[] }> {
    signal?.throwIfAborted();
    if (this.ca.disabled) throw new IssuerUnavailableError(`CA "${this.ca.name}" is disabled`);
    let request: { checked: Pick<CheckedCsr, 'dnsNames' | 'ipAddresses'>; names: string[]; config: AcmeConfig };
    try {
      // Without a CSR (the order is placed while the host makes the key): the names against the policy now,
      // the CSR and its key type at complete().
      request = req.csrPem ? await this.checkRequest({ ...req, http01Responder: SERVED_BY_AGENT }) : await this.checkNames(req);
      if (request.config.challenge.type !== 'http-01') {
        throw new IssuerPolicyError(`CA "${this.ca.name}" validates with ${request.config.challenge.type}: use issue()`);
      }
    } catch (err) {
      // A recorded certificate stands even if the CA's policy changed since: there is nothing to serve.
      if (await findRecorded(this.em, this.ca, req, recordedNames(req))) return { challenges: [] };
      throw err;
    }
    const { checked, names, config } = request;
    // A key reserved just now has no certificate and no order yet; one reserved before may have either.
    const fresh = await reserveIdempotencyKey(this.em, this.ca, req, names);
    if (!fresh && await findRecorded(this.em, this.ca, req, names)) return { challenges: [] };
    return withOrderSlot(this.ca.id, config.maxConcurrentOrders, async () => {
      const client = await this.client(signal);
      const order = await this.openOrder(client, req, checked, { noOrderYet: fresh }, signal);
      if (order.status !== 'pending') return { challenges: [] };
      const authorizations = await this.step('order', () => client.getAuthorizations(order), signal);
      rememberPrepared(this.preparedKey(req), order, authorizations);
      const challenges: PendingHttp01Challenge[] = [];
      for (const authz of authorizations) {
        if (authz.status === 'valid') continue;
        const challenge = this.challengeOf(authz, 'http-01');
        challenges.push({
          identifier: authz.identifier.value, token: (challenge as { token?: string }).token ?? '',
          keyAuthorization: await client.getChallengeKeyAuthorization(challenge),
        });
      }
      return { challenges };
    }, signal);
  }

  /**
   * Step 2, once the agent serves prepare's tokens: the CA validates the key's order (never a new one),
   * it is finalized with the CSR and the certificate recorded once per key.
   */
  async complete(req: IssueRequest, signal?: AbortSignal): Promise<IssuedCertificate> {
    signal?.throwIfAborted();
    const served = { ...req, http01Responder: SERVED_BY_AGENT };
    let request: Awaited<ReturnType<AcmeIssuer['checkRequest']>>;
    try {
      request = await this.checkRequest(served);
    } catch (err) {
      // A recorded certificate stands even if the CA's policy changed since.
      const recorded = await findRecorded(this.em, this.ca, served);
      if (recorded) return recorded;
      throw err;
    }
    const { checked, names, config } = request;
    // prepare reserved the key; issueOnce's locked read says whether it is recorded and where its order is.
    const prepared = takePrepared(this.preparedKey(req));
    return withOrderSlot(this.ca.id, config.maxConcurrentOrders, () => issueOnce(this.em, this.ca, served, names,
      (stored) => this.order(served, checked, signal, { resumeOnly: true, storedOrderUrl: stored.acmeOrderUrl, prepared }), { reserved: true }), signal);
  }

  /** The names alone against the CA's policy (a request whose CSR the host is still making). */
  private async checkNames(req: IssueRequest): Promise<{ checked: Pick<CheckedCsr, 'dnsNames' | 'ipAddresses'>; names: string[]; config: AcmeConfig }> {
    const checked = checkRequestedNames(req);
    const names = [...checked.dnsNames, ...checked.ipAddresses];
    checkNamesAllowed(this.ca.name, this.ca.policy, names);
    const { config } = await this.load();
    return { checked, names, config };
  }

  /** The CSR and names against the CA's policy and challenge type. */
  private async checkRequest(req: IssueRequest): Promise<{ checked: CheckedCsr; names: string[]; config: AcmeConfig }> {
    const checked = await checkCsr(req);
    const names = [...checked.dnsNames, ...checked.ipAddresses];
    checkNamesAllowed(this.ca.name, this.ca.policy, names);
    checkKeyTypeAllowed(this.ca.name, this.ca.policy, checked.keyType);
    const { config } = await this.load();
    if (config.challenge.type === 'dns-01' && checked.ipAddresses.length > 0) {
      throw new IssuerPolicyError(`CA "${this.ca.name}" validates with dns-01, which cannot prove IP addresses (${checked.ipAddresses.join(', ')})`);
    }
    if (config.challenge.type === 'http-01' && !req.http01Responder) {
      throw new IssuerPolicyError(`CA "${this.ca.name}" validates with http-01, which needs the target host's agent to answer; this request has none`);
    }
    return { checked, names, config };
  }

  /**
   * Places (or resumes) the key's order, validates, finalizes with the CSR and downloads the certificate.
   * `resumeOnly` (StagedIssuer.complete): the order prepare placed, whose tokens the agent serves; never a new one.
   */
  private async order(req: IssueRequest, checked: CheckedCsr, signal: AbortSignal | undefined, how: OrderOpening): Promise<IssuedCertificate> {
    const client = await this.client(signal);
    // The order prepare placed, as the CA described it then (its stored URL is the same order).
    const prepared = how.prepared && how.prepared.order.url === how.storedOrderUrl ? how.prepared : undefined;
    let order = prepared?.order ?? await this.openOrder(client, req, checked, how, signal);
    if (order.status === 'pending') {
      await this.authorize(client, order, req, signal, prepared?.authorizations);
      order = await this.finalizeAuthorized(client, order, req.csrPem, signal);
    } else if (order.status === 'ready') {
      order = await this.step('finalize', () => client.finalizeOrder(order, req.csrPem), signal);
    }
    if (order.status === 'invalid') {
      throw new IssuerPolicyError(`CA "${this.ca.name}" (ACME finalize): the order ${order.url} became invalid${order.error ? `: ${(order.error as { detail?: string }).detail}` : ''}`);
    }
    await this.hooks.afterFinalize?.();
    failpoint('acme:after-finalize');
    const pem = await this.step('certificate', () => client.getCertificate(order), signal);
    return this.checkedCertificate(pem, checked);
  }

  /**
   * Finalizes an order whose authorizations this call saw become valid, without reading it first: it is
   * ready (RFC 8555 7.1.6). A CA that does not agree yet (orderNotReady) is asked for the order, which is
   * finalized if ready, and otherwise returned as it is (the caller waits for it or fails on it).
   */
  private async finalizeAuthorized(client: acme.Client, order: acme.Order, csrPem: string, signal?: AbortSignal): Promise<acme.Order> {
    try {
      return await this.step('finalize', () => client.finalizeOrder(order, csrPem), signal);
    } catch (err) {
      if (!isAcmeProblem(err, 'orderNotReady')) throw err;
      const current = await this.step('order', () => client.getOrder(order), signal);
      return current.status === 'ready' ? this.step('finalize', () => client.finalizeOrder(current, csrPem), signal) : current;
    }
  }

  /** The key's stored order when it is still usable, else (unless `resumeOnly`) a new one, stored at once. */
  private async openOrder(
    client: acme.Client, req: IssueRequest, checked: Pick<CheckedCsr, 'dnsNames' | 'ipAddresses'>, how: OrderOpening, signal?: AbortSignal,
  ): Promise<acme.Order> {
    const resumeOnly = how.resumeOnly ?? false;
    const savedUrl = how.noOrderYet ? null
      : how.storedOrderUrl !== undefined ? how.storedOrderUrl : await findOrderUrl(this.em, this.ca.id, req.idempotencyKey);
    if (savedUrl) {
      const saved = await this.step('order', () => client.getOrder({ url: savedUrl } as acme.Order), signal);
      if (saved.status !== 'invalid') return saved;
      if (resumeOnly) throw new AcmeChallengeError(`CA "${this.ca.name}": the order ${saved.url} is invalid${await this.invalidReason(client, saved, signal)}`);
      // An earlier attempt's order that failed validation or expired: this attempt starts a new one.
    }
    if (resumeOnly) throw new IssuerPolicyError(`CA "${this.ca.name}": no order was prepared for ${req.idempotencyKey}`);
    const identifiers = [
      ...checked.dnsNames.map((value) => ({ type: 'dns', value })),
      ...checked.ipAddresses.map((value) => ({ type: 'ip', value })),
    ];
    const replaces = await this.replacesId(req.replacesCertificatePem, signal);
    const order = await this.step('order', () => client.createOrder({ identifiers, ...(replaces ? { replaces } : {}) } as Parameters<acme.Client['createOrder']>[0]), signal);
    await saveOrderUrl(this.em, this.ca.id, req.idempotencyKey, order.url);
    return order;
  }

  /** Why an order is invalid: the CA's words from its first invalid authorization's challenge. */
  private async invalidReason(client: acme.Client, order: acme.Order, signal?: AbortSignal): Promise<string> {
    const detail = (order.error as { detail?: string } | undefined)?.detail;
    if (detail) return `: ${detail}`;
    const authorizations = await this.step('order', () => client.getAuthorizations(order), signal).catch(() => []);
    for (const authz of authorizations) {
      const failed = authz.challenges.find((c) => (c as { error?: unknown }).error) as { error?: { detail?: string } } | undefined;
      if (failed?.error?.detail) return `: ${authz.identifier.value}: ${failed.error.detail}`;
    }
    return '';
  }

  /** The authorization's challenge of `type`, or a refusal listing what the CA offers. */
  private challengeOf(authz: acme.Authorization, type: string): acme.Authorization['challenges'][number] {
    const challenge = authz.challenges.find((c) => c.type === type);
    if (!challenge) {
      throw new IssuerPolicyError(`CA "${this.ca.name}" offers no ${type} challenge for ${authz.wildcard ? '*.' : ''}${authz.identifier.value} ` +
        `(it offers ${authz.challenges.map((c) => c.type).join(', ') || 'none'})`);
    }
    return challenge;
  }

  /** `known`: the order's authorizations as prepare read them (not read again). */
  private async authorize(client: acme.Client, order: acme.Order, req: IssueRequest, signal?: AbortSignal, known?: acme.Authorization[]): Promise<void> {
    const { config, secrets } = await this.load();
    const authorizations = known ?? await this.step('order', () => client.getAuthorizations(order), signal);
    const dns: DnsProvider | null = config.challenge.type === 'dns-01' ? createDnsProvider(config.challenge.provider, secrets) : null;
    await Promise.all(authorizations.map(async (authz) => {
      if (authz.status === 'valid') return;
      const identifier = `${authz.wildcard ? '*.' : ''}${authz.identifier.value}`;
      const challenge = this.challengeOf(authz, config.challenge.type);
      const keyAuthorization = await client.getChallengeKeyAuthorization(challenge);
      const recordName = challengeRecordName(authz.identifier.value);
      const token = (challenge as { token?: string }).token ?? '';
      try {
        if (dns) await dns.present(recordName, keyAuthorization, signal);
        else await req.http01Responder!.present(token, keyAuthorization, signal);
      } catch (cause) {
        const message = cause instanceof DnsProviderError ? cause.message : `answering ${challenge.type} for ${identifier}: ${(cause as Error).message}`;
        throw new IssuerUnavailableError(`CA "${this.ca.name}": ${message}`, { cause });
      }
      try {
        if (config.challenge.type === 'dns-01' && config.challenge.propagationDelayMs > 0) {
          await sleep(config.challenge.propagationDelayMs, undefined, { signal });
        }
        // A challenge already processing (a resumed order: the CA was told before a crash) is not told again.
        if (challenge.status === 'pending') await this.step('challenge', () => client.completeChallenge(challenge), signal);
        await this.step('challenge', () => client.waitForValidStatus(challenge), signal).catch((err: Error) => {
          // An invalid challenge's error detail is the message (the answer itself was a 200).
          if (err instanceof IssuerUnavailableError && !/Operation is pending|cannot reach|rate-limits/.test(err.message)) {
            throw new AcmeChallengeError(`CA "${this.ca.name}" could not validate ${identifier} with ${challenge.type}: ` +
              err.message.replace(/^CA "[^"]*" \(ACME challenge\): /, ''), { cause: err });
          }
          throw err;
        });
      } finally {
        // Cleanup failures must not hide the outcome; the record is left behind and says so in the log.
        await (dns ? dns.cleanup(recordName, keyAuthorization) : req.http01Responder!.cleanup(token)).catch(() => undefined);
      }
    }));
  }

  /** The CA's certificate, checked: the CSR's key and exactly its names, or the CA misbehaved. */
  private checkedCertificate(pem: string, checked: CheckedCsr): IssuedCertificate {
    const blocks: string[] = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
    if (blocks.length === 0) throw new IssuerUnavailableError(`CA "${this.ca.name}" returned no certificate`);
    const { x509: cert, spkiDer: spki } = parsedCertificate(blocks[0]);
    if (!spki.equals(Buffer.from(checked.csr.publicKey.rawData))) {
      throw new IssuerUnavailableError(`CA "${this.ca.name}" returned a certificate whose public key is not the CSR's`);
    }
    const sans = (cert.subjectAltName ?? '').split(', ').filter(Boolean);
    const dns = sans.filter((s) => s.startsWith('DNS:')).map((s) => s.slice(4).toLowerCase()).sort();
    const ips = sans.filter((s) => s.startsWith('IP Address:')).map((s) => s.slice(11).toLowerCase()).sort();
    const want = [...checked.dnsNames].sort();
    if (dns.join(',') !== want.join(',') || ips.length !== checked.ipAddresses.length) {
      throw new IssuerUnavailableError(`CA "${this.ca.name}" returned a certificate for ${[...dns, ...ips].join(', ') || 'no names'}, ` +
        `not ${[...checked.dnsNames, ...checked.ipAddresses].join(', ')}`);
    }
    return {
      certificatePem: blocks[0] + '\n',
      chainPem: blocks.slice(1).map((b) => b + '\n').join(''),
      serialHex: cert.serialNumber.toLowerCase(),
      notBefore: new Date(cert.validFrom),
      notAfter: new Date(cert.validTo),
      fingerprintSha256: createHash('sha256').update(cert.raw).digest('hex'),
    };
  }

  /** Healthy when enabled, the directory answers and is well-formed, and the account is valid. */
  async health(signal?: AbortSignal): Promise<{ healthy: boolean; detail: string }> {
    if (this.ca.disabled) return { healthy: false, detail: 'disabled' };
    try {
      const directory = await this.directory(signal);
      const client = await this.client(signal);
      // POST-as-GET of the account (acme-client's updateAccount with no changes).
      const account = await this.step('account', () => client.updateAccount(), signal);
      if (account.status !== 'valid') return { healthy: false, detail: `the ACME account is ${account.status}` };
      return { healthy: true, detail: `directory and account valid${directory.renewalInfo ? ', offers renewal information (ARI)' : ''}` };
    } catch (err) {
      return { healthy: false, detail: (err as Error).message };
    }
  }

  async revoke(serialHex: string, reason?: string): Promise<void> {
    await this.revokeCertificate(serialHex, reason);
  }

  /** Revokes at the CA, then records it (a certificate the CA says is already revoked is recorded too). */
  async revokeCertificate(serial: string, reason: string = 'unspecified'): Promise<RevocationResult> {
    if (!(reason in REVOCATION_REASONS)) return revokeRecorded(this.em, this.ca, serial, reason); // refuses with the list
    const hex = normalizeSerial(serial);
    const rows = await this.em.fork().getConnection().execute<{ certificate_pem: string; revoked_at: Date | null }[]>(
      `select certificate_pem, revoked_at from issued_certificates
       where ca_id = ? and certificate_pem is not null and ltrim(serial_hex, '0') = ?`, [this.ca.id, hex.replace(/^0+/, '')]);
    if (rows.length === 0) throw new UnknownSerialError(`CA "${this.ca.name}" has issued no certificate with serial ${serial}`);
    if (!rows[0].revoked_at) {
      const client = await this.client();
      const code = REVOCATION_REASONS[reason as RevocationReason];
      await this.step('revocation', () => client.revokeCertificate(rows[0].certificate_pem, { reason: code } as Parameters<acme.Client['revokeCertificate']>[1]))
        .catch((err: Error) => {
          if (!/alreadyRevoked/.test(err.message)) throw err;
        });
    }
    return revokeRecorded(this.em, this.ca, serial, reason);
  }

  /** The `replaces` value for a renewal order, when the CA offers ARI and the old certificate has an identifier. */
  private async replacesId(previousPem: string | undefined, signal?: AbortSignal): Promise<string | null> {
    if (!previousPem) return null;
    const directory = await this.recentDirectory(signal);
    if (!directory.renewalInfo) return null;
    try {
      return ariCertificateId(previousPem);
    } catch {
      return null;
    }
  }

  async renewalInfo(certificatePem: string, signal?: AbortSignal): Promise<RenewalInfo | null> {
    const directory = await this.recentDirectory(signal);
    if (!directory.renewalInfo) return null;
    let id: string;
    try {
      id = ariCertificateId(certificatePem);
    } catch (cause) {
      throw new IssuerPolicyError(`CA "${this.ca.name}" (ACME renewal info): ${(cause as Error).message}`, { cause });
    }
    const url = `${directory.renewalInfo.replace(/\/+$/, '')}/${id}`;
    return this.step('renewal info', async () => {
      await waitForOrigin(url);
      const res = await acme.axios.get(url, { signal, validateStatus: null } as Parameters<typeof acme.axios.get>[1]);
      const retryAfter = parseRetryAfter(res.headers['retry-after']);
      if (res.status !== 200) {
        if (retryAfter && (res.status === 429 || res.status === 503)) closeOriginUntil(url, retryAfter, `HTTP ${res.status}`);
        throw new Error(`GET ${url} answered HTTP ${res.status}${typeof res.data?.detail === 'string' ? `: ${res.data.detail}` : ''}`);
      }
      try {
        return parseRenewalInfo(res.data, retryAfter);
      } catch (err) {
        if (err instanceof RenewalInfoError) throw new IssuerUnavailableError(`CA "${this.ca.name}" (ACME renewal info): ${err.message}`);
        throw err;
      }
    }, signal);
  }
}

/** How an attempt opens its order. */
interface OrderOpening {
  /** The order prepare placed, whose tokens the agent serves; never a new one. */
  resumeOnly?: boolean;
  /**
   * prepare reserved the key just now: no order can be stored for it yet (orders are stored only under a
   * reserved key), so none is looked up.
   */
  noOrderYet?: boolean;
  /** The key's stored order URL as the caller read it already (issueOnce's locked row); null: none stored. */
  storedOrderUrl?: string | null;
  /** The order and authorizations prepare read in this process (used only when it is the stored order). */
  prepared?: { order: acme.Order; authorizations: acme.Authorization[] };
}

/** The directory document, checked: an object whose required resources are absolute http(s) URLs. */
export function checkDirectory(url: string, body: unknown): Directory {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new IssuerUnavailableError(`the ACME directory at ${url} is not a JSON object`);
  }
  const doc = body as Record<string, unknown>;
  for (const resource of REQUIRED_RESOURCES) {
    const value = doc[resource];
    if (typeof value !== 'string' || !/^https?:\/\//.test(value)) {
      throw new IssuerUnavailableError(`the ACME directory at ${url} is malformed: "${resource}" is ${value === undefined ? 'missing' : 'not a URL'}`);
    }
  }
  return doc as unknown as Directory;
}

/** The request's names as a reservation records them (DNS, then IP); null when they are malformed. */
function recordedNames(req: IssueRequest): string[] | null {
  try {
    const { dnsNames, ipAddresses } = checkRequestedNames(req);
    return [...dnsNames, ...ipAddresses];
  } catch {
    return null;
  }
}
