#!/usr/bin/env bash
# The Beast adapter against its ceiling: wrk on GET /api/session against the hello-world Beast server
# (bench/hello) and against websession-beast-bench (the adapter, the memory store, a signed-in session,
# the same body), with the same number of server threads, one server at a time, alternating rounds.
#
#   ./bench/http/adapter_bench.sh                 # from the repo root
#   SERVER_THREADS="1 2" ROUNDS=5 DURATION=10s ./bench/http/adapter_bench.sh
#
# Environment (defaults in brackets):
#   SERVER_THREADS [1 2]  io threads of both servers, one series each
#   HANDLERS [coroutine blocking]  websession-beast-bench's handler forms
#   ROUNDS [5]   DURATION [8s]   WARMUP [2s]   WRK_THREADS [1]   CONNECTIONS [16]
#   BUILD_DIR [build-bench]  (set HELLO_BIN and ADAPTER_BIN to skip the build)
# Per round: req/s from wrk, and the server's CPU (utime+stime of all its threads) per request.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
SERVER_THREADS=${SERVER_THREADS:-1 2}
HANDLERS=${HANDLERS:-coroutine blocking}
ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-8s}
WARMUP=${WARMUP:-2s}
WRK_THREADS=${WRK_THREADS:-1}
CONNECTIONS=${CONNECTIONS:-16}
BUILD_DIR=${BUILD_DIR:-build-bench}

source scripts/lib.sh
die() { echo "adapter_bench.sh: error: $*" >&2; exit 1; }
ensure_packages wrk curl

if [[ -z ${HELLO_BIN:-} || -z ${ADAPTER_BIN:-} ]]; then
  ensure_packages "${WEBSESSION_BUILD_PACKAGES[@]}"
  log "building websession-hello and websession-beast-bench (Release) in $BUILD_DIR"
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DWEBSESSION_BUILD_TESTS=OFF \
    -DWEBSESSION_BUILD_EXAMPLES=OFF -DWEBSESSION_BUILD_BENCHMARKS=ON >&2
  cmake --build "$BUILD_DIR" --target websession-hello websession-beast-bench -j2 >&2
  HELLO_BIN=$BUILD_DIR/bench/hello/websession-hello
  ADAPTER_BIN=$BUILD_DIR/bench/http/websession-beast-bench
fi

PID=
cleanup() {
  if [[ -n $PID ]]; then
    kill "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
  fi
  PID=
}
trap cleanup EXIT

cpu_ticks() { local stat; stat=$(<"/proc/$1/stat"); stat=${stat##*) }; awk '{print $12 + $13}' <<<"$stat"; }

wait_http() {
  local i
  for ((i = 0; i < 100; i++)); do
    curl -sf -o /dev/null --max-time 1 "$1" && return 0
    sleep 0.1
  done
  die "no answer from $1"
}

# run_round NAME COOKIE -> "req/s cpu-us-per-request"; the server is $PID on $PORT
run_round() {
  local url="http://127.0.0.1:$PORT/api/session" out rps requests t0 t1
  wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"$WARMUP" -H "Cookie: $2" "$url" >/dev/null
  t0=$(cpu_ticks "$PID")
  out=$(wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"$DURATION" -H "Cookie: $2" "$url")
  t1=$(cpu_ticks "$PID")
  grep -q "Non-2xx" <<<"$out" && die "$1 answered errors: $out"
  rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
  requests=$(awk '/requests in/ {print $1}' <<<"$out")
  awk -v r="$rps" -v n="$requests" -v d="$((t1 - t0))" -v hz="$(getconf CLK_TCK)" \
    'BEGIN {printf "%.0f %.1f\n", r, d / hz * 1e6 / n}'
}

pick_port() { # a loopback port nothing answers on
  local p
  for ((;;)); do
    p=$((20000 + RANDOM % 20000))
    curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$p/" || { echo "$p"; return; }
  done
}

start() { # NAME ENV... BIN
  PORT=$(pick_port)
  local log=$BUILD_DIR/adapter-bench-$1.log
  shift
  env PORT="$PORT" "$@" >"$log" 2>&1 &
  PID=$!
  wait_http "http://127.0.0.1:$PORT/api/session"
}

median() { sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

echo "# $(nproc) cores, wrk -t$WRK_THREADS -c$CONNECTIONS -d$DURATION (after $WARMUP), $ROUNDS rounds, medians"
echo "| server threads | server | req/s | CPU µs/req | vs hello |"
echo "| ---: | --- | ---: | ---: | ---: |"
for threads in $SERVER_THREADS; do
  declare -A rps=() cpu=()
  for ((round = 1; round <= ROUNDS; round++)); do
    start hello SERVER=beast THREADS="$threads" "$HELLO_BIN"
    read -r r c < <(run_round hello "sessionId=none")
    rps[hello]+="$r "; cpu[hello]+="$c "
    cleanup
    for handler in $HANDLERS; do
      start "$handler" THREADS="$threads" HANDLER="$handler" "$ADAPTER_BIN"
      cookie=$(head -n1 "$BUILD_DIR/adapter-bench-$handler.log" | sed 's/^Cookie: //')
      curl -sf -H "Cookie: $cookie" "http://127.0.0.1:$PORT/api/session" | grep -q '"user":"alice"' \
        || die "the adapter did not find the session"
      read -r r c < <(run_round "$handler" "$cookie")
      rps[$handler]+="$r "; cpu[$handler]+="$c "
      cleanup
    done
  done
  hello=$(tr ' ' '\n' <<<"${rps[hello]}" | grep . | median)
  for name in hello $HANDLERS; do
    r=$(tr ' ' '\n' <<<"${rps[$name]}" | grep . | median)
    c=$(tr ' ' '\n' <<<"${cpu[$name]}" | grep . | median)
    label=$([[ $name == hello ]] && echo "hello world" || echo "adapter, $name handler")
    printf '| %s | %s | %s | %s | %s |\n' "$threads" "$label" "$r" "$c" "$(awk -v a="$r" -v b="$hello" 'BEGIN {printf "%.0f%%", 100 * a / b}')"
  done
  unset rps cpu
done
