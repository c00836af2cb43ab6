// quickstart's last step: put one sample certificate under management and renew it now, end to end,
// with the built-in CA (key made by the agent, certificate deployed over the sample file, validated).
// Prints the run's id (quickstart.sh then shows it with certflowctl); exits 3 when the run did not succeed.
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

// 4. The run id for the caller (which shows it with certflowctl); the outcome as the exit status.
console.log(run.id);
if (run.state !== 'succeeded') {
  console.error(`quickstart: the renewal ended ${run.state}: ${run.error ?? ''}`);
  process.exit(3);
}
console.error(`quickstart: renewed in ${run.durationMs} ms`);
