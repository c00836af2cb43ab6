#!/usr/bin/env bash
# certflow quickstart: a controller and an agent on this machine, running in the background, with a few
# sample certificates for the agent to find.
#
#   scripts/quickstart.sh          set up (or restart) everything, then show what the agent reported
#   scripts/quickstart.sh --stop   stop the quickstart controller and agent
#
# It installs/starts what is missing (node_modules, PostgreSQL on 127.0.0.1:5432, NATS with JetStream on
# 127.0.0.1:4222; see scripts/lib/services.sh), builds, and keeps all of its state under
# .certflow/quickstart/ in the repository:
#
#   master.key          the controller's master key (0600)        controller.log, controller.pid
#   admin-token         the admin API bearer token (0600)         agent.log, agent.pid
#   certflowctl.json    certflowctl's config (CERTFLOWCTL_CONFIG)  agent.json (the agent's config, 0600)
#   agent-state/        the agent's enrolled identity             sample-certs/ (made with openssl)
#
# The database is certflow_quickstart on that PostgreSQL; the NATS prefix is certflowqs. Running it again
# restarts both processes and reuses everything, including the agent's identity (no new token is
# needed). To start from scratch: `scripts/quickstart.sh --stop && rm -rf .certflow/quickstart`; the
# next run then drops and recreates the database, whose secrets were sealed with the old master key.
set -Eeuo pipefail
# Anything that fails without its own message still says where.
trap 'printf "quickstart: FAILED at line %s: %s\n" "$LINENO" "$BASH_COMMAND" >&2' ERR

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
# shellcheck source=scripts/lib/services.sh
source scripts/lib/services.sh

QS=$ROOT/.certflow/quickstart
MASTER_KEY=$QS/master.key
ADMIN_TOKEN_FILE=$QS/admin-token
CTL_CONFIG=$QS/certflowctl.json
AGENT_CONFIG=$QS/agent.json
AGENT_STATE=$QS/agent-state
IDENTITY_FILE=$AGENT_STATE/identity/agent.json
SAMPLES=$QS/sample-certs
CONTROLLER_LOG=$QS/controller.log
CONTROLLER_PID=$QS/controller.pid
AGENT_LOG=$QS/agent.log
AGENT_PID=$QS/agent.pid
CONTROLLER_BIN=$ROOT/bin/certflow-controller.js
AGENT_BIN=$ROOT/bin/certflow-agent.js
CTL_BIN=$ROOT/bin/certflowctl.js

DB_NAME=certflow_quickstart
NATS_PREFIX=certflowqs
LISTEN_HOST=127.0.0.1
DEFAULT_API_PORT=7080
DEFAULT_GRPC_PORT=7443
# How long to wait for the controller to be ready, and then for the agent's certificates to show up.
WAIT_SECONDS=60
# The agent rescans its paths this often, so a certificate dropped into sample-certs/ shows up quickly.
SCAN_INTERVAL_SECONDS=60

USAGE="usage: scripts/quickstart.sh [--stop]"

log() {
  printf 'quickstart: %s\n' "$*" >&2
}

# die MESSAGE [LOGFILE]: says what failed, shows the end of the log that explains it, exits non-zero.
die() {
  log "FAILED: $1"
  if [[ -n ${2:-} && -s $2 ]]; then
    log "last 30 lines of $2:"
    tail -n 30 "$2" >&2
  fi
  exit 1
}

# --- processes started by an earlier run ---------------------------------------------------------

# True when PID is alive and runs SCRIPT (an absolute path, so another checkout's quickstart, or a
# recycled pid, is never taken for ours).
is_our_process() {
  local pid=$1 script=$2 cmdline
  [[ $pid =~ ^[0-9]+$ && -r /proc/$pid/cmdline ]] || return 1
  cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
  [[ $cmdline == *"$script"* ]]
}

# stop_process NAME PIDFILE SCRIPT: SIGTERM, up to 15 s for a clean shutdown, then SIGKILL.
stop_process() {
  local name=$1 pidfile=$2 script=$3 pid i
  [[ -f $pidfile ]] || return 0
  pid=$(<"$pidfile")
  if is_our_process "$pid" "$script"; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 75; i++)); do
      is_our_process "$pid" "$script" || break
      sleep 0.2
    done
    if is_our_process "$pid" "$script"; then
      log "$name (pid $pid) did not stop within 15 s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    log "stopped the $name (pid $pid)"
  fi
  rm -f "$pidfile"
}

stop_all() {
  stop_process agent "$AGENT_PID" "$AGENT_BIN"
  stop_process controller "$CONTROLLER_PID" "$CONTROLLER_BIN"
}

# start_background PIDFILE LOGFILE COMMAND...: detached from this terminal (its own session, no
# SIGHUP), output appended to LOGFILE. The previous log is kept as LOGFILE.1.
start_background() {
  local pidfile=$1 logfile=$2
  shift 2
  if [[ -f $logfile ]]; then
    mv -f "$logfile" "$logfile.1"
  fi
  if command -v setsid >/dev/null 2>&1; then
    setsid nohup "$@" >>"$logfile" 2>&1 </dev/null &
  else
    nohup "$@" >>"$logfile" 2>&1 </dev/null &
  fi
  echo $! >"$pidfile"
}

# --- small probes (bash /dev/tcp and node only: a fresh machine may have neither curl nor jq) --------

tcp_open() {
  (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

# Prints the HTTP status of GET http://HOST:PORT/PATH, or nothing when nobody answers.
http_status() {
  (
    exec 3<>"/dev/tcp/$1/$2" || exit 1
    printf 'GET %s HTTP/1.0\r\nHost: %s:%s\r\nConnection: close\r\n\r\n' "$3" "$1" "$2" >&3
    IFS=' ' read -r -t 5 _ status _ <&3 || exit 1
    printf '%s\n' "$status"
  ) 2>/dev/null
}

port_free() {
  node -e '
    const server = require("node:net").createServer();
    server.once("error", () => process.exit(1));
    server.listen({ host: process.argv[1], port: Number(process.argv[2]), exclusive: true }, () => server.close());
  ' "$1" "$2"
}

# pick_port DEFAULT AVOID: DEFAULT when it is free, otherwise a free port the kernel chooses.
pick_port() {
  local default=$1 avoid=$2 port
  if [[ $default != "$avoid" ]] && port_free "$LISTEN_HOST" "$default"; then
    echo "$default"
    return 0
  fi
  for _ in 1 2 3 4 5; do
    port=$(node -e '
      const server = require("node:net").createServer();
      server.listen({ host: process.argv[1], port: 0, exclusive: true }, () => {
        console.log(server.address().port);
        server.close();
      });
    ' "$LISTEN_HOST")
    if [[ $port != "$avoid" ]]; then
      echo "$port"
      return 0
    fi
  done
  return 1
}

# json_get FILE|- EXPR: evaluates a JavaScript expression on the JSON document `d` and prints the result.
json_get() {
  node -e '
    const fs = require("node:fs");
    const d = JSON.parse(fs.readFileSync(process.argv[1] === "-" ? 0 : process.argv[1], "utf8"));
    const value = eval(process.argv[2]);
    if (value !== undefined && value !== null) console.log(typeof value === "string" ? value : JSON.stringify(value));
  ' "$1" "$2"
}

# pg_database ensure|drop|exists: the quickstart database on the server of $PG_SERVER_URL, with the
# pg client from node_modules (no psql needed). `exists` answers through the exit status.
pg_database() {
  node - "$PG_SERVER_URL" "$DB_NAME" "$1" <<'EOF'
const { Client } = require('pg');
const [url, name, action] = process.argv.slice(2);
(async () => {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    const { rowCount } = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (action === 'exists') {
      process.exitCode = rowCount ? 0 : 3;
    } else if (action === 'ensure' && !rowCount) {
      await client.query(`create database "${name}"`);
      console.error(`quickstart: created database ${name}`);
    } else if (action === 'drop' && rowCount) {
      await client.query(`drop database "${name}" with (force)`);
      console.error(`quickstart: dropped database ${name}`);
    }
  } finally {
    await client.end();
  }
})().catch((err) => {
  console.error(`quickstart: PostgreSQL (${action} ${name}): ${err.message}`);
  process.exit(1);
});
EOF
}

# Status of GET on the admin API with the admin token (the agent-exists check).
api_status() {
  # shellcheck disable=SC2016 # JavaScript, not shell
  node -e '
    const [url, tokenFile] = process.argv.slice(1);
    const token = require("node:fs").readFileSync(tokenFile, "utf8").trim();
    fetch(url, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(10_000) })
      .then((r) => console.log(r.status), (e) => { console.error(`quickstart: ${url}: ${e.message}`); process.exit(1); });
  ' "$1" "$ADMIN_TOKEN_FILE"
}

# certflowctl with the quickstart's login only: CERTFLOW_URL/CERTFLOW_TOKEN from this shell would win over it.
ctl() {
  env -u CERTFLOW_URL -u CERTFLOW_TOKEN CERTFLOWCTL_CONFIG="$CTL_CONFIG" node "$CTL_BIN" "$@"
}

# --- sample certificates ----------------------------------------------------------------------------

# SHA-256 fingerprint of a PEM certificate, lowercase hex without colons (as the API shows it).
fingerprint() {
  openssl x509 -in "$1" -noout -fingerprint -sha256 | sed 's/^.*=//; s/://g' | tr 'A-F' 'a-f'
}

# The sample files, made in the current directory's sample-certs/ (run in a subshell: it changes
# directory). Every command is checked by hand: errexit does not apply in a function called with `||`.
generate_samples() (
  local out=$PWD/sample-certs
  mkdir -p "$out/private" && chmod 700 "$out/private" || exit 1
  # A small CA: the sample leaves are signed by it, so a bundle makes a real chain.
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -days 1825 \
    -subj '/O=certflow quickstart/CN=certflow quickstart sample CA' \
    -addext 'basicConstraints=critical,CA:TRUE' -addext 'keyUsage=critical,keyCertSign,cRLSign' \
    -keyout "$out/private/ca.key" -out "$out/ca.pem" || exit 1

  # leaf NAME SANS DAYS: an RSA-2048 server certificate from the sample CA.
  leaf() {
    openssl req -new -newkey rsa:2048 -nodes -subj "/O=certflow quickstart/CN=$1" \
      -keyout "$out/private/$1.key" -out "$1.csr" || return 1
    printf '%s\n' 'basicConstraints=critical,CA:FALSE' 'keyUsage=critical,digitalSignature,keyEncipherment' \
      'extendedKeyUsage=serverAuth' "subjectAltName=$2" >"$1.ext" || return 1
    openssl x509 -req -in "$1.csr" -CA "$out/ca.pem" -CAkey "$out/private/ca.key" -CAserial ca.srl -CAcreateserial \
      -sha256 -days "$3" -extfile "$1.ext" -out "$out/$1.pem"
  }
  # Expires in 20 days: inside the 30-day window of `certs list --expiring-within 30`.
  leaf www.example.test 'DNS:www.example.test,DNS:example.test,DNS:static.example.test,IP:192.0.2.10' 20 || exit 1
  leaf api.example.test 'DNS:api.example.test' 365 || exit 1

  # Already expired: `x509 -req` cannot backdate, `openssl ca` can (its database stays in this directory).
  openssl req -new -newkey rsa:2048 -nodes -subj '/O=certflow quickstart/CN=legacy.example.test' \
    -keyout "$out/private/legacy.example.test.key" -out legacy.csr || exit 1
  touch index.txt || exit 1
  cat >ca.cnf <<'CNF' || exit 1
[ca]
default_ca = sample
[sample]
database = index.txt
new_certs_dir = .
rand_serial = yes
default_md = sha256
policy = any
unique_subject = no
[any]
organizationName = optional
commonName = supplied
[leaf]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:legacy.example.test
CNF
  openssl ca -batch -notext -config ca.cnf -cert "$out/ca.pem" -keyfile "$out/private/ca.key" \
    -extensions leaf -startdate "$(date -u -d '-400 days' +%Y%m%d%H%M%SZ)" \
    -enddate "$(date -u -d '-35 days' +%Y%m%d%H%M%SZ)" -in legacy.csr -out "$out/legacy.example.test.pem" || exit 1

  # A bundle (leaf + CA, as a web server is configured) and the 1-year leaf again, in DER.
  cat "$out/www.example.test.pem" "$out/ca.pem" >"$out/www.example.test-fullchain.pem" || exit 1
  openssl x509 -in "$out/api.example.test.pem" -outform DER -out "$out/api.example.test.der"
)

make_sample_certs() {
  local work
  work=$(mktemp -d "$QS/.samples.XXXXXX")
  if ! (cd "$work" && generate_samples) >"$work/openssl.log" 2>&1; then
    cat "$work/openssl.log" >&2
    rm -rf "$work"
    die "could not make the sample certificates with openssl"
  fi
  # The directory appears complete or not at all.
  mv "$work/sample-certs" "$SAMPLES"
  rm -rf "$work"
  log "made sample certificates in $SAMPLES"
}

# --- stop -----------------------------------------------------------------------------------------

case ${1:-} in
  '') ;;
  --stop)
    stop_all
    log "quickstart stopped (state kept in $QS)"
    exit 0
    ;;
  -h | --help)
    echo "$USAGE"
    exit 0
    ;;
  *)
    echo "$USAGE" >&2
    exit 2
    ;;
esac

# --- prerequisites --------------------------------------------------------------------------------

if ! command -v node >/dev/null 2>&1 \
  || ! node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)'; then
  die "Node.js 20 (>= 20.19) is needed: $(command -v node >/dev/null && node --version || echo 'node not found')"
fi
cf_ensure_node_modules || die "could not install node_modules"
cf_ensure_postgres || die "could not reach or start PostgreSQL on 127.0.0.1:5432"
cf_ensure_nats || die "could not reach or start NATS with JetStream on 127.0.0.1:4222"
command -v openssl >/dev/null 2>&1 || cf_install_debian_packages openssl || die "could not install openssl"

# The servers services.sh checked (the test URLs), with our own database on that PostgreSQL.
PG_SERVER_URL=$CERTFLOW_TEST_PG_URL
pg_base=${PG_SERVER_URL%%\?*}
DATABASE_URL="${pg_base%/*}/$DB_NAME${PG_SERVER_URL#"$pg_base"}"
NATS_URL=$CERTFLOW_TEST_NATS_URL

log "npm run build"
npm run build --silent || die "npm run build failed"

# --- state ----------------------------------------------------------------------------------------

mkdir -p "$QS"
chmod 700 "$QS"

stop_all

if [[ ! -f $MASTER_KEY ]]; then
  # A new master key cannot open what an older one sealed in the database (the agent CA), and an
  # agent identity from that CA is of no use either: both start over.
  if pg_database exists; then
    log "no master key in $QS but database $DB_NAME exists (from an earlier quickstart): starting it over"
    pg_database drop || die "could not drop database $DB_NAME"
  fi
  rm -rf "$AGENT_STATE"
  node "$CONTROLLER_BIN" init-master-key "$MASTER_KEY" >/dev/null || die "could not write the master key"
  log "wrote a new master key to $MASTER_KEY"
fi
pg_database ensure || die "could not create database $DB_NAME on $PG_SERVER_URL"

if [[ ! -s $ADMIN_TOKEN_FILE ]]; then
  (
    umask 077
    node -e 'process.stdout.write("cfa_" + require("node:crypto").randomBytes(32).toString("base64url") + "\n")' \
      >"$ADMIN_TOKEN_FILE"
  )
  log "generated an admin token in $ADMIN_TOKEN_FILE"
fi
chmod 600 "$ADMIN_TOKEN_FILE" "$MASTER_KEY"
ADMIN_TOKEN=$(<"$ADMIN_TOKEN_FILE")

[[ -d $SAMPLES ]] || make_sample_certs

# --- controller -----------------------------------------------------------------------------------

API_PORT=$(pick_port "$DEFAULT_API_PORT" none) || die "no free port for the admin API"
GRPC_PORT=$(pick_port "$DEFAULT_GRPC_PORT" "$API_PORT") || die "no free port for the agent gateway"
[[ $API_PORT == "$DEFAULT_API_PORT" ]] || log "port $DEFAULT_API_PORT is taken: the admin API uses $API_PORT"
[[ $GRPC_PORT == "$DEFAULT_GRPC_PORT" ]] || log "port $DEFAULT_GRPC_PORT is taken: the agent gateway uses $GRPC_PORT"
API_URL=http://$LISTEN_HOST:$API_PORT

log "starting the controller (admin API $API_URL, agent gateway $LISTEN_HOST:$GRPC_PORT, log $CONTROLLER_LOG)"
# Only the settings below count: a CERTFLOW_* variable left in this shell must not change them. The
# admin token is exported rather than given to `env`, so it never appears on a command line.
(
  export CERTFLOW_ADMIN_TOKEN=$ADMIN_TOKEN
  start_background "$CONTROLLER_PID" "$CONTROLLER_LOG" \
    env -u CERTFLOW_CONFIG_FILE -u CERTFLOW_MASTER_KEY -u CERTFLOW_GATEWAY_NAMES \
    CERTFLOW_DATABASE_URL="$DATABASE_URL" \
    CERTFLOW_NATS_URL="$NATS_URL" \
    CERTFLOW_NATS_PREFIX="$NATS_PREFIX" \
    CERTFLOW_MASTER_KEY_FILE="$MASTER_KEY" \
    CERTFLOW_API_LISTEN="$LISTEN_HOST:$API_PORT" \
    CERTFLOW_GRPC_LISTEN="$LISTEN_HOST:$GRPC_PORT" \
    CERTFLOW_LOG_LEVEL="${CERTFLOW_LOG_LEVEL:-info}" \
    CERTFLOW_SCHEDULER_INTERVAL_SECONDS=5 \
    node "$CONTROLLER_BIN" run
)

# /readyz says the database and NATS are up; the gateway listens a moment later (after the agent CA
# is loaded), so wait for both.
deadline=$((SECONDS + WAIT_SECONDS))
until [[ $(http_status "$LISTEN_HOST" "$API_PORT" /readyz) == 200 ]] && tcp_open "$LISTEN_HOST" "$GRPC_PORT"; do
  is_our_process "$(<"$CONTROLLER_PID")" "$CONTROLLER_BIN" || die "the controller exited during start-up" "$CONTROLLER_LOG"
  ((SECONDS < deadline)) || die "the controller was not ready within ${WAIT_SECONDS}s ($API_URL/readyz)" "$CONTROLLER_LOG"
  sleep 0.5
done
log "controller ready (pid $(<"$CONTROLLER_PID"))"

# --- certflowctl ----------------------------------------------------------------------------------

# The token goes in through the environment, not the command line, where `ps` would show it.
(
  export CERTFLOW_TOKEN=$ADMIN_TOKEN
  env -u CERTFLOW_URL CERTFLOWCTL_CONFIG="$CTL_CONFIG" node "$CTL_BIN" login --url "$API_URL" >/dev/null
) || die "certflowctl login --url $API_URL failed" "$CONTROLLER_LOG"
chmod 600 "$CTL_CONFIG" 2>/dev/null || true

# --- agent ----------------------------------------------------------------------------------------

# A saved identity is reused unless this controller's database does not know it (the database was
# dropped): then the agent enrols again.
if [[ -f $IDENTITY_FILE ]]; then
  agent_id=$(json_get "$IDENTITY_FILE" d.agentId) || die "cannot read $IDENTITY_FILE"
  status=$(api_status "$API_URL/api/v1/agents/$agent_id") || die "could not ask the controller about agent $agent_id" "$CONTROLLER_LOG"
  case $status in
    200) log "reusing the enrolled agent $agent_id (no new token needed)" ;;
    404)
      log "agent $agent_id is unknown to this controller's database: enrolling again"
      rm -rf "$AGENT_STATE/identity"
      ;;
    *) die "GET $API_URL/api/v1/agents/$agent_id answered $status" "$CONTROLLER_LOG" ;;
  esac
fi

enrollment_json=null
if [[ ! -f $IDENTITY_FILE ]]; then
  token_json=$(ctl tokens create --description "quickstart agent on ${HOSTNAME:-this host}" --expires-in-hours 1 --json) || die "certflowctl tokens create failed" "$CONTROLLER_LOG"
  enrollment_json=$(printf '%s' "$token_json" | json_get - '({ token: d.token, caPin: "sha256:" + d.caFingerprintSha256 })') \
    || die "unexpected output from certflowctl tokens create --json: $token_json"
  log "created an enrolment token for the agent"
fi

# Rewritten every run: the gateway port may have changed. The token is only there until enrolment.
(
  umask 077
  node -e '
    const [controller, stateDir, samples, interval, enrollment] = process.argv.slice(1);
    const config = { controller, stateDir };
    if (enrollment !== "null") config.enrollment = JSON.parse(enrollment);
    config.scan = { paths: [samples], intervalSeconds: Number(interval) };
    // Renewed certificates are deployed over the samples: that is the only place deployments may write.
    config.deploy = { allowedPaths: [samples] };
    config.logLevel = "info";
    process.stdout.write(JSON.stringify(config, null, 2) + "\n");
  ' "$LISTEN_HOST:$GRPC_PORT" "$AGENT_STATE" "$SAMPLES" "$SCAN_INTERVAL_SECONDS" "$enrollment_json" >"$AGENT_CONFIG.tmp"
)
mv -f "$AGENT_CONFIG.tmp" "$AGENT_CONFIG"

log "starting the agent (config $AGENT_CONFIG, log $AGENT_LOG)"
agent_started_ms=$(date +%s%3N)
start_background "$AGENT_PID" "$AGENT_LOG" \
  env -u CERTFLOW_AGENT_CONTROLLER -u CERTFLOW_AGENT_STATE_DIR -u CERTFLOW_ENROLL_TOKEN -u CERTFLOW_AGENT_LOG_LEVEL \
  node "$AGENT_BIN" run --config "$AGENT_CONFIG"

# --- wait for the agent and its certificates ------------------------------------------------------

# not_seen_since MS KEY VALUE...: reads a page of the API ({"items": [...]}) on stdin and prints the
# VALUEs that no item matches with KEY = VALUE and lastSeenAt at or after MS; fails when one is missing.
# "Since" matters on a second run: the database already lists the agent and its certificates.
not_seen_since() {
  node -e '
    const [since, key, ...wanted] = process.argv.slice(1);
    const page = JSON.parse(require("node:fs").readFileSync(0, "utf8"));
    const seen = new Set(page.items.filter((item) => Date.parse(item.lastSeenAt) >= Number(since))
      .map((item) => String(item[key]).toLowerCase()));
    const missing = wanted.filter((value) => !seen.has(value.toLowerCase()));
    console.log(missing.join(" "));
    process.exit(missing.length ? 1 : 0);
  ' "$@"
}

declare -A sample_of=()
for f in ca.pem www.example.test.pem api.example.test.pem legacy.example.test.pem; do
  sample_of[$(fingerprint "$SAMPLES/$f")]=$f
done

log "waiting for the agent to connect and report its certificates (up to ${WAIT_SECONDS}s)"
ctl_err=$QS/.certflowctl.err
deadline=$((SECONDS + WAIT_SECONDS))
agent_id='' agent_seen=0 not_reported=""
while :; do
  is_our_process "$(<"$AGENT_PID")" "$AGENT_BIN" || die "the agent exited" "$AGENT_LOG"
  is_our_process "$(<"$CONTROLLER_PID")" "$CONTROLLER_BIN" || die "the controller exited" "$CONTROLLER_LOG"
  if [[ -z $agent_id && -f $IDENTITY_FILE ]]; then
    agent_id=$(json_get "$IDENTITY_FILE" d.agentId 2>/dev/null) || agent_id=''
  fi
  if [[ -n $agent_id && $agent_seen -eq 0 ]] && agents_json=$(ctl agents list --limit 500 --json 2>"$ctl_err") \
    && not_seen_since "$agent_started_ms" id "$agent_id" <<<"$agents_json" >/dev/null; then
    agent_seen=1
    log "agent $agent_id is connected"
  fi
  if [[ $agent_seen -eq 1 ]] && certs_json=$(ctl certs list --limit 500 --json 2>"$ctl_err"); then
    if not_reported=$(not_seen_since "$agent_started_ms" fingerprintSha256 "${!sample_of[@]}" <<<"$certs_json"); then
      break
    fi
  fi
  if ((SECONDS >= deadline)); then
    [[ -s $ctl_err ]] && cat "$ctl_err" >&2
    if [[ -z $agent_id ]]; then
      die "the agent did not enrol within ${WAIT_SECONDS}s" "$AGENT_LOG"
    elif [[ $agent_seen -eq 0 ]]; then
      die "agent $agent_id did not show up in \`certflowctl agents list\` within ${WAIT_SECONDS}s" "$AGENT_LOG"
    elif [[ -s $ctl_err ]]; then
      die "\`certflowctl certs list --json\` failed" "$CONTROLLER_LOG"
    else
      names=()
      for fp in $not_reported; do names+=("${sample_of[$fp]:-$fp}"); done
      die "not reported by \`certflowctl certs list\` within ${WAIT_SECONDS}s: ${names[*]}" "$AGENT_LOG"
    fi
  fi
  sleep 2
done
rm -f "$ctl_err"
log "the agent reported the sample certificates"

# --- show it --------------------------------------------------------------------------------------

www_fp=$(fingerprint "$SAMPLES/www.example.test.pem")
www_id=$(printf '%s' "$certs_json" | json_get - "
  (Array.isArray(d) ? d : d.items ?? []).find((c) => String(c.fingerprintSha256).toLowerCase() === '$www_fp')?.id
" 2>/dev/null) || www_id=''

show() {
  printf '\n$ certflowctl %s\n' "$*"
  ctl "$@" || die "certflowctl $* failed" "$CONTROLLER_LOG"
}
show agents list
show certs list
show certs list --expiring-within 30
show findings --kind expired
show findings --kind expiring --expiring-within 30

# --- renew one end to end ---------------------------------------------------------------------------

log "renewing $(basename "$SAMPLES")/www.example.test.pem end to end with the built-in CA"
run_status=0
run_id=$(node scripts/lib/quickstart-renew.mjs "$API_URL" "$ADMIN_TOKEN_FILE" "$www_fp") || run_status=$?
[[ -n $run_id ]] || die "the end-to-end renewal could not start" "$CONTROLLER_LOG"
show runs show "$run_id"
show audit list --target "$run_id"
show audit verify
((run_status == 0)) || die "the end-to-end renewal did not succeed (certflowctl runs show $run_id)" "$CONTROLLER_LOG"

rel=${QS#"$ROOT"/}
cat <<EOF

certflow is running: controller pid $(<"$CONTROLLER_PID"), agent pid $(<"$AGENT_PID").

What next
  CLI (certflowctl, already logged in):
    export CERTFLOWCTL_CONFIG=$CTL_CONFIG
    alias certflowctl='node $CTL_BIN'
    certflowctl agents list
    certflowctl agents show ${agent_id:-ID}
    certflowctl certs list --expiring-within 30
    certflowctl certs show ${www_id:-ID}
    certflowctl findings               # expired, weak, drift, hostname mismatch, ... (docs/discovery.md)
    certflowctl endpoints list         # what this host's TLS sockets serve
    certflowctl audit list             # who did what; certflowctl audit verify checks the hash chain
    certflowctl tokens create          # for another agent (this gateway listens on $LISTEN_HOST only)
  API (OpenAPI document: $API_URL/api/v1/openapi.json):
    curl -s -H "Authorization: Bearer \$(cat $ADMIN_TOKEN_FILE)" '$API_URL/api/v1/certificates?expiringWithinDays=30'
    curl -s -H "Authorization: Bearer \$(cat $ADMIN_TOKEN_FILE)" '$API_URL/api/v1/agents'
  The agent rescans $rel/sample-certs every ${SCAN_INTERVAL_SECONDS}s: copy a certificate there and list again.
  Scan without a controller:  node $AGENT_BIN scan /etc/ssl/certs --json
  Logs (JSON lines):          $CONTROLLER_LOG
                              $AGENT_LOG
  Stop:                       scripts/quickstart.sh --stop    (run scripts/quickstart.sh again to restart)

The renewed www.example.test.pem (and its new key, made by the agent) replaced the sample files; the
agent reports the new certificate on its next scan. Runs, stages and approvals: docs/workflow.md.
    certflowctl managed list           # certificates under management, their next renewal
    certflowctl managed renew ID       # renew now;  certflowctl runs watch RUN  follows it
    certflowctl runs list              # certflowctl runs show RUN: stages, timings, approvals
EOF
