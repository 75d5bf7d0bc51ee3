#!/usr/bin/env bash
# One user's refresh holds that user's session lock while 200 of their requests wait on it; meanwhile
# another user reads their session. Measures what the waiting costs everyone else: the demo's thread
# count, and the other user's read latency, on both servers and both stores.
#
#   ./bench/lockwait.sh                       # from the repo root
#   SERVERS=beast STORES=memory WAITERS=200 HOLD_MS=5000 ./bench/lockwait.sh
#
# Environment (defaults in brackets): SERVERS [beast httplib]  STORES [memory dynamodb]
#   WAITERS [200]  HOLD_MS [5000]: how long the refresh holds the lock (REFRESH_DELAY_MS)
#   READS [20]: timed reads by the other user while the lock is held
#   BUILD_DIR [build-bench]  DEMO_BIN [$BUILD_DIR/examples/demo/websession-demo]
# Output: one line per server and store: threads (max seen), the other user's read latency (median and
# max, ms), and how many of the waiters got a 200 once the refresh was done.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
SERVERS=${SERVERS:-beast httplib}
STORES=${STORES:-memory dynamodb}
WAITERS=${WAITERS:-200}
HOLD_MS=${HOLD_MS:-5000}
READS=${READS:-20}
BUILD_DIR=${BUILD_DIR:-build-bench}
mkdir -p "$BUILD_DIR"

source scripts/lib.sh
log() { echo "lockwait.sh: $*" >&2; }
die() { echo "lockwait.sh: error: $*" >&2; exit 1; }

ensure_packages curl "${WEBSESSION_BUILD_PACKAGES[@]}"
ensure_node_modules
if [[ -z ${DEMO_BIN:-} ]]; then
  DEMO_BIN=$BUILD_DIR/examples/demo/websession-demo
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DWEBSESSION_BUILD_TESTS=OFF >&2
  cmake --build "$BUILD_DIR" --target websession-demo -j2 >&2
fi

PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  stop_dynalite
}
trap cleanup EXIT

export AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
start_dynalite
export AWS_ENDPOINT_URL_DYNAMODB=$DYNALITE_ENDPOINT

login() { # url user -> cookie
  curl -sf -D - -o /dev/null -H 'Content-Type: application/json' -d "{\"user\":\"$2\"}" "$1/api/login" |
    tr -d '\r' | grep -io '^set-cookie: *sessionId=[^;]*' | head -n1 | sed 's/^[^:]*: *//'
}
threads_of() { awk '/^Threads:/ {print $2}' "/proc/$1/status"; }

run() { # server store
  local port url pid logf a b i max_threads=0 t lat=() ok=0
  port=$(free_port)
  url=http://127.0.0.1:$port
  logf=$BUILD_DIR/lockwait-$1-$2.log
  PORT=$port SERVER=$1 SESSION_STORE=$2 SESSION_TABLE=lockwait_$1_$$ REFRESH_DELAY_MS=$HOLD_MS \
    OIDC_ISSUER=off "$DEMO_BIN" >"$logf" 2>&1 &
  pid=$!
  PIDS+=("$pid")
  for ((i = 0; i < 300; i++)); do curl -sf -o /dev/null "$url/healthz" && break; sleep 0.1; done
  a=$(login "$url" alice)
  b=$(login "$url" bob)
  [[ -n $a && -n $b ]] || die "$1/$2: login failed (log: $logf)"
  # alice's access token is expired: the first refresh takes the lock for HOLD_MS, the rest wait.
  local dir waiters=()
  dir=$(mktemp -d)
  for ((i = 0; i < WAITERS; i++)); do
    curl -s -o /dev/null -w '%{http_code}\n' --max-time 60 -X POST -H "Cookie: $a" "$url/api/refresh" >"$dir/$i" &
    waiters+=($!)
  done
  sleep 0.5
  for ((i = 0; i < READS; i++)); do
    t=$(threads_of "$pid"); ((t > max_threads)) && max_threads=$t
    lat+=("$(curl -s -o /dev/null -w '%{time_total}' -H "Cookie: $b" "$url/api/session")")
    sleep 0.1
  done
  wait "${waiters[@]}" 2>/dev/null || true
  ok=$(cat "$dir"/* | grep -c '^200$' || true)
  rm -rf "$dir"
  local stats
  stats=$(printf '%s\n' "${lat[@]}" | sort -g | awk '{a[NR] = $1 * 1000} END {printf "%.1f %.1f", a[int((NR + 1) / 2)], a[NR]}')
  printf '%-8s %-9s threads_max=%-4s other_read_ms_median=%-7s other_read_ms_max=%-7s waiters_ok=%s/%s\n' \
    "$1" "$2" "$max_threads" "${stats% *}" "${stats#* }" "$ok" "$WAITERS"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

for server in $SERVERS; do
  for store in $STORES; do run "$server" "$store"; done
done
