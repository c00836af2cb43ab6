#!/usr/bin/env bash
# The whole check, as CI runs it (.ci/run): services, build, typecheck, lint, tests.
#
#   scripts/test.sh               everything
#   scripts/test.sh test/unit     extra arguments go to vitest (files, -t pattern, ...)
#
# Installs/starts what is missing (Debian packages, node_modules, PostgreSQL on 127.0.0.1:5432,
# NATS with JetStream on 127.0.0.1:4222) and reuses what already runs. Build, typecheck and lint
# failures do not stop the tests from running (one run shows every problem), but they do make the
# script fail. The last line of output is always `N passed, N failed[, N skipped]`, which CI reads.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib/services.sh
source scripts/lib/services.sh

# Without the services nothing below can work: stop here.
cf_ensure_node_modules || { cf_log "failed step: node modules"; exit 1; }
cf_ensure_postgres || { cf_log "failed step: postgres"; exit 1; }
cf_ensure_nats || { cf_log "failed step: nats"; exit 1; }
# Real servers and tools the discovery, deployment, notification and ACME tests drive (started by the tests on
# free ports; snmptrapd decodes SNMP notifications with deploy/CERTFLOW-MIB.txt; pebble is the ACME test CA,
# knot the DNS server that takes RFC 2136 updates, and kdig from knot-dnsutils reads its records back).
cf_install_debian_packages nginx apache2 haproxy openssl snmptrapd snmp pebble knot knot-dnsutils || { cf_log "failed step: debian packages"; exit 1; }

failed_steps=()

# Runs a step, remembering its name if it fails.
step() {
  local name=$1
  shift
  cf_log "== $name: $*"
  if ! "$@"; then
    cf_log "step failed: $name"
    failed_steps+=("$name")
  fi
}

step build npm run build --silent
step typecheck npm run typecheck --silent
step lint npm run lint --silent

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
json=$tmp/vitest.json

# Default reporter for people, JSON for the summary below.
step vitest npx vitest run --reporter=default --reporter=json --outputFile.json="$json" "$@"

# vitest's own summary is not a line CI recognises; count from the JSON report instead:
# passed = numPassedTests, failed = numFailedTests (+ files broken outside tests), skipped = pending + todo.
summary=$(node -e '
  const fs = require("node:fs");
  let r;
  try {
    r = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
  } catch {
    console.error("certflow: vitest wrote no JSON report (did it crash before running tests?)");
    r = {};
  }
  // A file that fails outside any test (import error, failing beforeAll/afterAll) has no failed
  // test in numFailedTests; count it as one failure so the line cannot say "0 failed" wrongly.
  const brokenFiles = (r.testResults ?? []).filter(
    (f) => f.status === "failed" && !(f.assertionResults ?? []).some((a) => a.status === "failed"));
  for (const f of brokenFiles) {
    console.error(`certflow: test file failed outside its tests: ${f.name}: ${(f.message ?? "").split("\n")[0]}`);
  }
  const failed = (r.numFailedTests ?? 0) + brokenFiles.length;
  const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  let line = `${r.numPassedTests ?? 0} passed, ${failed} failed`;
  if (skipped > 0) line += `, ${skipped} skipped`;
  console.log(line);
' "$json") || summary="0 passed, 0 failed"

status=0
if [[ ${#failed_steps[@]} -gt 0 ]]; then
  cf_log "failed steps: ${failed_steps[*]}"
  status=1
fi
echo "$summary"
exit "$status"
