// quickstart's last step: put one sample certificate under management and renew it now, end to end,
// with the built-in CA (key made by the agent, certificate deployed over the sample file, validated),
// then print the run's stages with their timings and the audit entries it wrote.
//   node scripts/lib/quickstart-renew.mjs API_URL TOKEN_FILE FINGERPRINT
import { readFileSync } from 'node:fs';

const [apiUrl, tokenFile, fingerprint] = process.argv.slice(2);
const token = readFileSync(tokenFile, 'utf8').trim();

async function api(method, path, body) {
  const response = await fetch(apiUrl + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(15_000),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

function fail(message) {
  console.error(`quickstart: FAILED: ${message}`);
  process.exit(1);
}

const pad = (s, n) => String(s).padEnd(n);
const ms = (v) => (v === null || v === undefined ? '-' : v >= 1000 ? `${(v / 1000).toFixed(1)} s` : `${v} ms`);

// 1. Managed already (an earlier quickstart run), or adopt it now.
const list = await api('GET', '/api/v1/managed-certificates?limit=500');
if (list.status !== 200) fail(`GET /api/v1/managed-certificates answered ${list.status}`);
let managed = list.body.items.find((m) => m.name === 'quickstart-www');
if (!managed) {
  const adopted = await api('POST', '/api/v1/managed-certificates', { certificate: fingerprint, name: 'quickstart-www', labels: { env: 'quickstart' } });
  if (adopted.status !== 201) fail(`adopting the sample certificate answered ${adopted.status}: ${JSON.stringify(adopted.body)}`);
  managed = adopted.body;
  console.error(`quickstart: put ${managed.dnsNames.join(', ')} under management (template "default": renew 30 days before expiry, automatic rollback)`);
}

// 2. Renew now (the scheduler may have started it already: then follow that run).
let runId;
const renewed = await api('POST', `/api/v1/managed-certificates/${managed.id}/renew`);
if (renewed.status === 202) runId = renewed.body.id;
else if (renewed.status === 409) {
  const active = await api('GET', `/api/v1/runs?managedCertificate=${managed.id}&active=true&limit=1`);
  runId = active.body?.items?.[0]?.id;
}
if (!runId) fail(`renewing answered ${renewed.status}: ${JSON.stringify(renewed.body)}`);
console.error(`quickstart: renewing ${managed.dnsNames[0]} now (run ${runId})`);

// 3. Wait for the run to end.
const finished = ['succeeded', 'failed', 'rejected', 'cancelled', 'rolled-back', 'rollback-failed', 'waiting-operator'];
let run;
const deadline = Date.now() + 120_000;
for (;;) {
  const response = await api('GET', `/api/v1/runs/${runId}`);
  run = response.body;
  if (response.status === 200 && finished.includes(run.state)) break;
  if (Date.now() > deadline) fail(`run ${runId} did not finish within 120 s (state ${run?.state}, stage ${run?.currentStage})`);
  await new Promise((r) => setTimeout(r, 300));
}

// 4. Show it.
console.log(`\n$ certflowctl runs show ${run.id}`);
console.log(`run ${run.id}: ${run.state} in ${ms(run.durationMs)} (template ${run.template} v${run.templateVersion}, ${run.reason})`);
console.log(`certificate ${run.certificate}: ${run.dnsNames.join(', ')}`);
console.log(`\n${pad('STAGE', 16)}${pad('STATE', 11)}${pad('ATTEMPTS', 10)}${pad('ELAPSED', 10)}${pad('ACTIVE', 10)}DETAIL`);
for (const s of run.stages) {
  const detail = s.error ?? (s.stage === 'select-ca' ? `CA ${s.output?.ca}` : s.stage === 'issue' ? `serial ${s.output?.certificates?.[0]?.serialHex ?? ''}`
    : s.stage === 'deploy' ? `${s.output?.jobs?.length ?? 0} deploy job(s)` : s.stage === 'notify' ? `next renewal ${s.output?.nextRenewal ?? ''}` : '');
  console.log(`${pad(s.stage, 16)}${pad(s.state, 11)}${pad(s.attempts, 10)}${pad(ms(s.elapsedMs), 10)}${pad(ms(s.activeMs), 10)}${detail}`);
}
if (run.error) console.log(`\nerror: ${run.error}`);

const audit = await api('GET', `/api/v1/audit?targetId=${run.id}&limit=200`);
console.log(`\n$ certflowctl audit list --target ${run.id}`);
for (const entry of audit.body?.items ?? []) {
  const after = entry.after && typeof entry.after === 'object' ? (entry.after.stage ?? entry.after.state ?? '') : '';
  console.log(`${pad(entry.seq, 6)}${pad(entry.at, 26)}${pad(entry.actor.replace(/^(token:[0-9a-f]{8})[0-9a-f-]+$/, '$1…'), 16)}${pad(entry.action, 26)}${after}`);
}
const verdict = await api('GET', '/api/v1/audit/verify');
console.log(`\naudit chain: ${verdict.body?.ok ? 'verified' : `BROKEN at ${JSON.stringify(verdict.body)}`}`);
if (run.state !== 'succeeded') fail(`the renewal ended ${run.state}: ${run.error ?? ''}`);
