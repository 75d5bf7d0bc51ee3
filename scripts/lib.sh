# Shared by scripts/demo and scripts/test: install what is missing, configure and build.
# shellcheck shell=bash

WEBSESSION_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# The Debian packages the build needs.
WEBSESSION_BUILD_PACKAGES=(
  g++ cmake ninja-build pkg-config git ca-certificates curl
  libssl-dev libboost1.81-dev libboost-json1.81-dev libcpp-httplib-dev
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

# ensure_node_modules: Node.js and the packages pinned in package-lock.json (dynalite).
ensure_node_modules() {
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    ensure_packages nodejs npm
  fi
  local stamp="$WEBSESSION_ROOT/node_modules/.package-lock.json"
  if [ ! -x "$WEBSESSION_ROOT/node_modules/.bin/dynalite" ] || [ "$WEBSESSION_ROOT/package-lock.json" -nt "$stamp" ]; then
    log "installing Node packages from package-lock.json"
    (cd "$WEBSESSION_ROOT" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  fi
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
