# shellcheck shell=bash
# Helpers that make sure the services the certflow test suite needs are present and running:
# Debian packages, node_modules, a PostgreSQL server and a NATS server with JetStream.
#
# Source this file; it defines functions only and changes no shell options, so it is safe under
# `set -euo pipefail`. Every function reports failure through its return status (and never relies
# on errexit, which bash switches off inside `f || ...` and `if f`), and logs to stderr with a
# `certflow:` prefix so the lines stand out between npm/vitest output.
#
# Functions:
#   cf_install_debian_packages PKG...  install the packages that are missing (apt-get update at most once)
#   cf_ensure_node_modules             npm ci when node_modules is missing or older than package-lock.json
#   cf_ensure_postgres                 reuse/start/install PostgreSQL on 127.0.0.1:5432; exports CERTFLOW_TEST_PG_URL
#   cf_ensure_nats                     reuse/start/install nats-server -js on 127.0.0.1:4222; exports CERTFLOW_TEST_NATS_URL
#
# If CERTFLOW_TEST_PG_URL / CERTFLOW_TEST_NATS_URL are already set, the caller has chosen its own
# servers: they are checked, never started or reconfigured.

cf_log() {
  printf 'certflow: %s\n' "$*" >&2
}

# Run a command as root: directly when we are root (CI), through sudo otherwise.
_cf_as_root() {
  if [[ ${EUID:-$(id -u)} -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    cf_log "need root to run: $*"
    return 1
  fi
}

# `dpkg -s` also succeeds for removed packages whose config files remain, so look at the status.
_cf_pkg_installed() {
  dpkg -s "$1" 2>/dev/null | grep -q '^Status: install ok installed$'
}

_CF_APT_UPDATED=${_CF_APT_UPDATED:-0}

cf_install_debian_packages() {
  local pkg
  local -a missing=()
  for pkg in "$@"; do
    _cf_pkg_installed "$pkg" || missing+=("$pkg")
  done
  if [[ ${#missing[@]} -eq 0 ]]; then
    return 0
  fi
  # A fresh machine has no package lists; update once per shell, not once per call.
  if [[ $_CF_APT_UPDATED -eq 0 ]]; then
    cf_log "apt-get update"
    _cf_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null || {
      cf_log "apt-get update failed"
      return 1
    }
    _CF_APT_UPDATED=1
  fi
  cf_log "installing Debian packages: ${missing[*]}"
  _cf_as_root env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || {
    cf_log "apt-get install ${missing[*]} failed"
    return 1
  }
}

cf_ensure_node_modules() {
  if ! command -v npm >/dev/null 2>&1; then
    cf_log "npm not found: install Node.js 20 (>= 20.19) first"
    return 1
  fi
  # npm writes node_modules/.package-lock.json on every install: if package-lock.json is newer,
  # someone changed the dependencies since the last install.
  if [[ ! -d node_modules || ! -f node_modules/.package-lock.json \
        || package-lock.json -nt node_modules/.package-lock.json ]]; then
    cf_log "npm ci"
    npm ci --no-audit --no-fund --loglevel=error || {
      cf_log "npm ci failed"
      return 1
    }
  fi
}

# --- PostgreSQL --------------------------------------------------------------------------------

CF_DEFAULT_PG_URL='postgres://postgres@127.0.0.1:5432/postgres'

_cf_pg_ready() {
  if command -v pg_isready >/dev/null 2>&1; then
    pg_isready -q -h 127.0.0.1 -p 5432 -t 3
  else
    # No client tools here (server elsewhere, e.g. a forwarded port): an open port will do.
    (exec 3<>/dev/tcp/127.0.0.1/5432) 2>/dev/null
  fi
}

# Newest PostgreSQL version that has a Debian cluster called "main" (empty if none).
_cf_pg_cluster_version() {
  local v
  for v in $(ls /etc/postgresql 2>/dev/null | sort -rV); do
    if [[ -f /etc/postgresql/$v/main/postgresql.conf ]]; then
      echo "$v"
      return 0
    fi
  done
}

# The tests connect as postgres over TCP without a password. Debian's default pg_hba.conf asks for
# one on 127.0.0.1, so a cluster we created ourselves gets trust for local connections first.
_cf_pg_trust_local() {
  local hba="/etc/postgresql/$1/main/pg_hba.conf"
  if ! grep -q '^# certflow tests' "$hba"; then
    cf_log "allowing passwordless local connections in $hba (cluster created for the tests)"
    _cf_as_root sed -i '1i # certflow tests: trust local connections\nlocal all all trust\nhost all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba" || return 1
  fi
}

# Skipped without psql: test/support/global-setup.ts checks the connection again anyway.
_cf_pg_can_connect() {
  if command -v psql >/dev/null 2>&1; then
    psql -X -q -w -d "$1" -c 'select 1' >/dev/null 2>&1
  fi
}

cf_ensure_postgres() {
  if [[ -n ${CERTFLOW_TEST_PG_URL:-} ]]; then
    cf_log "using PostgreSQL from CERTFLOW_TEST_PG_URL"
    return 0
  fi
  export CERTFLOW_TEST_PG_URL=$CF_DEFAULT_PG_URL

  if _cf_pg_ready; then
    cf_log "PostgreSQL already running on 127.0.0.1:5432"
  else
    local version created=0
    version=$(_cf_pg_cluster_version)
    if [[ -z $version ]]; then
      # Installing the package creates the "main" cluster (postgresql-common's postinst).
      cf_install_debian_packages postgresql || return 1
      version=$(_cf_pg_cluster_version)
      if [[ -z $version ]]; then
        version=$(ls /usr/lib/postgresql | sort -rV | head -n1)
        cf_log "creating PostgreSQL $version cluster main"
        _cf_as_root pg_createcluster "$version" main >/dev/null || return 1
      fi
      created=1
    fi
    if [[ $created -eq 1 ]]; then
      _cf_pg_trust_local "$version" || return 1
    fi
    cf_log "starting PostgreSQL $version cluster main"
    # --skip-systemctl-redirect: CI containers have no systemd; talk to pg_ctl directly.
    # pg_ctlcluster fails if the cluster is already up (e.g. on another port), hence the check below.
    _cf_as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start ||
      cf_log "pg_ctlcluster start returned non-zero; checking whether the server answers anyway"
    local i
    for ((i = 0; i < 30; i++)); do
      _cf_pg_ready && break
      sleep 1
    done
    if ! _cf_pg_ready; then
      cf_log "PostgreSQL did not come up on 127.0.0.1:5432 (see /var/log/postgresql/)"
      return 1
    fi
    if [[ $created -eq 1 ]]; then
      # In case the package's postinst had already started it with the old pg_hba.conf.
      _cf_as_root pg_ctlcluster --skip-systemctl-redirect "$version" main reload || true
    fi
  fi

  if ! _cf_pg_can_connect "$CERTFLOW_TEST_PG_URL"; then
    cf_log "PostgreSQL answers but $CERTFLOW_TEST_PG_URL is refused: the tests need user postgres" \
      "without a password (trust) on 127.0.0.1, or set CERTFLOW_TEST_PG_URL"
    return 1
  fi
}

# --- NATS --------------------------------------------------------------------------------------

CF_DEFAULT_NATS_URL='nats://127.0.0.1:4222'
CF_NATS_BIN=/usr/sbin/nats-server

# Print the INFO line a NATS server sends on connect (fails if nothing answers on host:port).
# Uses bash's /dev/tcp so it needs neither nc nor the nats CLI.
# Runs in a subshell so the socket never leaks into the caller.
_cf_nats_info() (
  local line
  { exec 3<>"/dev/tcp/$1/$2"; } 2>/dev/null || return 1
  IFS= read -r -t 3 line <&3 || return 1
  [[ $line == INFO* ]] || return 1
  printf '%s\n' "$line"
)

cf_ensure_nats() {
  if [[ -n ${CERTFLOW_TEST_NATS_URL:-} ]]; then
    cf_log "using NATS from CERTFLOW_TEST_NATS_URL"
    return 0
  fi
  export CERTFLOW_TEST_NATS_URL=$CF_DEFAULT_NATS_URL

  local info
  if info=$(_cf_nats_info 127.0.0.1 4222); then
    # The INFO line carries "jetstream":true when the server runs with -js; a plain server on the
    # port is somebody else's and cannot be fixed from here.
    if [[ $info != *'"jetstream":true'* ]]; then
      cf_log "a NATS server on 127.0.0.1:4222 runs without JetStream; restart it with -js"
      return 1
    fi
    cf_log "NATS with JetStream already running on 127.0.0.1:4222"
    return 0
  fi

  if [[ ! -x $CF_NATS_BIN ]]; then
    cf_install_debian_packages nats-server || return 1
  fi

  # Same layout as the machines' own service when we are root; a temp dir otherwise.
  local store=/var/lib/nats-server log=/var/log/nats-server.log pidfile=/run/certflow-nats-server.pid
  if [[ ${EUID:-$(id -u)} -ne 0 ]]; then
    store=${TMPDIR:-/tmp}/certflow-nats-store
    log=${TMPDIR:-/tmp}/certflow-nats-server.log
    pidfile=${TMPDIR:-/tmp}/certflow-nats-server.pid
  fi
  mkdir -p "$store" || return 1
  cf_log "starting nats-server -js on 127.0.0.1:4222 (store $store, log $log)"
  # Match by our own pidfile, not by --exec: tests start private nats-servers on other ports, and
  # start-stop-daemon --exec would take any of those for "already running" and do nothing.
  start-stop-daemon --start --oknodo --background --make-pidfile --pidfile "$pidfile" \
    --exec "$CF_NATS_BIN" -- -a 127.0.0.1 -p 4222 -js -sd "$store" -l "$log" || return 1

  local i
  for ((i = 0; i < 30; i++)); do
    if info=$(_cf_nats_info 127.0.0.1 4222) && [[ $info == *'"jetstream":true'* ]]; then
      return 0
    fi
    sleep 0.5
  done
  cf_log "nats-server did not come up on 127.0.0.1:4222; last lines of $log:"
  tail -n 20 "$log" >&2 2>/dev/null || true
  return 1
}
