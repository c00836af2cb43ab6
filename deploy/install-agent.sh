#!/usr/bin/env bash
# Installs certflow-agent on this host, as root:
#
#   deploy/install-agent.sh --controller HOST:PORT --token TOKEN --ca-pin sha256:HEX [options]
#
# TOKEN and the pin come from `certflowctl tokens create` on an admin's machine. The script
#   - copies the agent from a built checkout (npm ci && npm run build) or a .tar.gz of one to /opt/certflow
#     (devDependencies pruned), replacing an earlier copy;
#   - writes /etc/certflow/agent.json (mode 0600; an existing one is kept as agent.json.bak);
#   - creates /var/lib/certflow-agent (mode 0700), where the agent keeps its identity;
#   - installs, enables and (re)starts the systemd unit certflow-agent.service when systemd is running,
#     otherwise prints how to run the agent.
# Node.js 20 (>= 20.19) must already be installed on the host.
set -euo pipefail

PREFIX=/opt/certflow
CONFIG_DIR=/etc/certflow
CONFIG=$CONFIG_DIR/agent.json
STATE_DIR=/var/lib/certflow-agent
UNIT=/etc/systemd/system/certflow-agent.service
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

usage() {
  cat <<'EOF'
usage: install-agent.sh --controller HOST:PORT --token TOKEN --ca-pin sha256:HEX [options]

required:
  --controller HOST:PORT  the controller's agent gateway, as this host reaches it (port 7443 by default)
  --token TOKEN           the single-use enrolment token from `certflowctl tokens create`
  --ca-pin sha256:HEX     the CA pin printed with the token (the agent CA's SHA-256 fingerprint)

options:
  --from PATH             a built checkout or a .tar.gz of one (default: the checkout holding this script)
  --server-name NAME      the name to check the gateway's certificate against, when HOST is not one of
                          the controller's CERTFLOW_GATEWAY_NAMES
  --scan-path PATH        a file or directory to scan for certificates; repeat for several
                          (default: /etc/ssl /etc/pki /etc/nginx /etc/apache2 /etc/haproxy /etc/letsencrypt)
  --no-start              install and enable the service, but do not start it
  -h, --help              this text
EOF
}

fail() {
  printf 'install-agent: %s\n' "$*" >&2
  exit 1
}

usage_error() {
  printf 'install-agent: %s\n\n' "$*" >&2
  usage >&2
  exit 2
}

controller='' token='' ca_pin='' from='' server_name='' start=1
scan_paths=()
while [[ $# -gt 0 ]]; do
  case $1 in
    -h | --help)
      usage
      exit 0
      ;;
    --no-start)
      start=0
      shift
      continue
      ;;
    --controller | --token | --ca-pin | --from | --server-name | --scan-path)
      [[ $# -ge 2 && -n $2 ]] || usage_error "$1 needs a value"
      ;;
    --*=*) usage_error "write options as \"${1%%=*} VALUE\", not \"$1\"" ;;
    *) usage_error "unknown argument \"$1\"" ;;
  esac
  case $1 in
    --controller) controller=$2 ;;
    --token) token=$2 ;;
    --ca-pin) ca_pin=$2 ;;
    --from) from=$2 ;;
    --server-name) server_name=$2 ;;
    --scan-path) scan_paths+=("$2") ;;
  esac
  shift 2
done

missing=()
[[ -n $controller ]] || missing+=(--controller)
[[ -n $token ]] || missing+=(--token)
[[ -n $ca_pin ]] || missing+=(--ca-pin)
[[ ${#missing[@]} -eq 0 ]] || usage_error "missing ${missing[*]}"
# The same rules as the agent's config (agent/src/config.ts), so a typo fails here and not at start-up.
[[ $controller =~ ^[^[:space:]:]+:[0-9]{1,5}$ ]] || usage_error "--controller must be HOST:PORT, got \"$controller\""
[[ $ca_pin =~ ^sha256:[0-9a-fA-F]{64}$ ]] || usage_error "--ca-pin must be sha256:<64 hex digits>, got \"$ca_pin\""
[[ $token =~ ^[^[:space:]]+$ ]] || usage_error "--token must be the token as printed, without spaces"
for path in "${scan_paths[@]}"; do
  [[ $path == /* ]] || usage_error "--scan-path must be an absolute path, got \"$path\""
done

[[ ${EUID:-$(id -u)} -eq 0 ]] || fail "run this as root (it writes $PREFIX, $CONFIG_DIR and $STATE_DIR)"

NODE=$(command -v node) || fail "Node.js 20 (>= 20.19) is not installed; install it first"
node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)' \
  || fail "Node.js >= 20.19 is needed, found $(node --version)"

# --- the files to install ---------------------------------------------------------------------------

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

source_dir=${from:-$HERE/..}
if [[ -f $source_dir ]]; then
  case $source_dir in
    *.tar.gz | *.tgz) ;;
    *) fail "--from: $source_dir is neither a directory nor a .tar.gz" ;;
  esac
  mkdir "$work/unpacked"
  tar -xzf "$source_dir" -C "$work/unpacked" || fail "cannot unpack $source_dir"
  # The tarball may hold the files at its top or inside one directory.
  found=$(find "$work/unpacked" -maxdepth 3 -path '*/bin/certflow-agent.js' -print -quit)
  [[ -n $found ]] || fail "$source_dir holds no bin/certflow-agent.js"
  source_dir=$(dirname "$(dirname "$found")")
fi
[[ -d $source_dir ]] || fail "--from: $source_dir does not exist"
source_dir=$(cd "$source_dir" && pwd)
for needed in package.json bin/certflow-agent.js dist/agent/src/main.js proto/certflow/agent/v1/agent.proto node_modules; do
  [[ -e $source_dir/$needed ]] \
    || fail "$source_dir/$needed is missing: install from a built checkout (npm ci && npm run build)"
done

unit_source=''
for candidate in "$HERE/systemd/certflow-agent.service" "$source_dir/deploy/systemd/certflow-agent.service"; do
  if [[ -f $candidate ]]; then
    unit_source=$candidate
    break
  fi
done

# --- /opt/certflow ------------------------------------------------------------------------------------

echo "install-agent: copying certflow from $source_dir to $PREFIX"
staging=$PREFIX.new
rm -rf "$staging"
mkdir -p "$staging"
for item in package.json package-lock.json bin dist proto node_modules README.md docs deploy; do
  if [[ -e $source_dir/$item ]]; then
    cp -a "$source_dir/$item" "$staging/"
  fi
done
# The agent needs the runtime dependencies only; pruning works offline (it only deletes).
if command -v npm >/dev/null 2>&1 && [[ -f $staging/package-lock.json ]]; then
  (cd "$staging" && npm prune --omit=dev --offline --no-audit --no-fund --loglevel=error >/dev/null 2>&1) \
    || echo "install-agent: npm prune --omit=dev failed; keeping all of node_modules" >&2
fi
chown -R root:root "$staging"
chmod -R go-w "$staging"
if [[ -e $PREFIX ]]; then
  rm -rf "$PREFIX.old"
  mv "$PREFIX" "$PREFIX.old"
fi
mv "$staging" "$PREFIX"
rm -rf "$PREFIX.old"

# --- /etc/certflow/agent.json and /var/lib/certflow-agent ----------------------------------------------

install -d -m 0755 "$CONFIG_DIR"
if [[ -f $CONFIG ]]; then
  cp -p "$CONFIG" "$CONFIG.bak"
  echo "install-agent: kept the previous $CONFIG as $CONFIG.bak"
fi
(
  umask 077
  node -e '
    const [controller, token, caPin, serverName, stateDir, ...paths] = process.argv.slice(1);
    const config = { controller, stateDir, enrollment: { token, caPin } };
    if (serverName) config.serverName = serverName;
    if (paths.length) config.scan = { paths };
    process.stdout.write(JSON.stringify(config, null, 2) + "\n");
  ' "$controller" "$token" "$ca_pin" "$server_name" "$STATE_DIR" "${scan_paths[@]}" >"$CONFIG.tmp"
)
chmod 0600 "$CONFIG.tmp"
mv -f "$CONFIG.tmp" "$CONFIG"
echo "install-agent: wrote $CONFIG (mode 0600)"

install -d -m 0700 "$STATE_DIR"
chmod 0700 "$STATE_DIR"
if [[ -f $STATE_DIR/identity/agent.json ]]; then
  echo "install-agent: this host is already enrolled ($STATE_DIR/identity): the agent keeps that identity and does not use the token"
fi

# --- the service ------------------------------------------------------------------------------------

run_command="$NODE $PREFIX/bin/certflow-agent.js run --config $CONFIG"
if [[ -d /run/systemd/system ]]; then
  [[ -n $unit_source ]] || fail "certflow-agent.service not found beside this script or in $source_dir/deploy/systemd"
  # The unit names /usr/bin/node; point it at the node this host has.
  sed "s|^ExecStart=/usr/bin/node |ExecStart=$NODE |" "$unit_source" >"$UNIT.tmp"
  chmod 0644 "$UNIT.tmp"
  mv -f "$UNIT.tmp" "$UNIT"
  systemctl daemon-reload
  systemctl enable certflow-agent.service >/dev/null
  echo "install-agent: installed and enabled $UNIT"
  if [[ $start -eq 1 ]]; then
    systemctl restart certflow-agent.service
    echo "install-agent: started certflow-agent; follow it with: journalctl -u certflow-agent -f"
  else
    echo "install-agent: start it with: systemctl start certflow-agent"
  fi
else
  cat <<EOF
install-agent: systemd is not running on this host, so no service was installed. Run the agent with
  $run_command
under your init system or supervisor (it logs JSON lines to stdout), or in the background:
  nohup $run_command >>/var/log/certflow-agent.log 2>&1 &
EOF
fi
echo "install-agent: once it has enrolled it appears in \`certflowctl agents list\`."
