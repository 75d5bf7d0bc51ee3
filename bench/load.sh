#!/usr/bin/env bash
# The load benchmark: hello-world servers, the C++ demo and two Express peers, one at a time, all against
# ONE dynalite, driven by wrk on GET /api/session with a logged-in session cookie.
#
#   ./bench/load.sh                      # everything, from the repo root
#   TARGETS="express-memory express-pwrdrvr" ROUNDS=1 DURATION=5s ./bench/load.sh
#
# Environment (defaults in brackets):
#   TARGETS      [hello-httplib hello-beast demo-httplib-memory demo-beast-memory demo-httplib-dynamodb
#                 demo-beast-dynamodb express-memory express-pwrdrvr dynalite-getitem]  which targets, in
#                 this order (hello-*: a hello-world server on each framework, the ceiling for the
#                 adapters; dynalite-getitem: wrk sending consistent GetItems of a session-sized item
#                 straight to dynalite, the ceiling for any DynamoDB-backed target on this machine)
#   ROUNDS [3]   DURATION [10s]   WARMUP [2s]   THREADS [2]   CONNECTIONS [16]   (wrk settings)
#   BUILD_DIR [build-bench]   DEMO_BIN [$BUILD_DIR/examples/demo/websession-demo]
#                 HELLO_BIN [$BUILD_DIR/bench/hello/websession-hello]  (set both to skip the build)
#   OUT [$BUILD_DIR/load-results.txt]   raw rounds and the summary table; server logs go to
#                 $BUILD_DIR/load-logs/
#
# Per round: req/s and p99 from `wrk --latency`; server CPU = utime+stime of the server process from
# /proc/<pid>/stat (all threads) before/after the round, per request; DynamoDB calls per request =
# calls that dynalite served during the round (counted by operation by bench/peers/dynalite-counting.mjs,
# the same way for every target) / requests. The tables are per target; the peers' table is created
# before the peer starts (neither peer store creates it reliably on dynalite), the demo creates its own.
# The summary gives medians over the rounds and ratios of the demo against the matching peer.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD

ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-16}
TARGETS=${TARGETS:-hello-httplib hello-beast demo-httplib-memory demo-beast-memory demo-httplib-dynamodb demo-beast-dynamodb express-memory express-pwrdrvr dynalite-getitem}
BUILD_DIR=${BUILD_DIR:-build-bench}
OUT=${OUT:-$BUILD_DIR/load-results.txt}
LOG_DIR=$BUILD_DIR/load-logs

log() { echo "load.sh: $*" >&2; }
die() { echo "load.sh: error: $*" >&2; exit 1; }

[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "ROUNDS must be a positive integer, not '$ROUNDS'"
for t in $TARGETS; do
  case $t in
    hello-httplib|hello-beast|demo-httplib-memory|demo-beast-memory|demo-httplib-dynamodb|demo-beast-dynamodb|express-memory|express-pwrdrvr|dynalite-getitem) ;;
    *) die "unknown target '$t' (known: hello-{httplib,beast}, demo-{httplib,beast}-{memory,dynamodb}, express-memory, express-pwrdrvr, dynalite-getitem)" ;;
  esac
done
want_demo=false
[[ " $TARGETS " == *" demo-"* || " $TARGETS " == *" hello-"* ]] && want_demo=true

# ---------------------------------------------------------------- cleanup: everything we started
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- install what is missing
# The same installers as ./scripts/test and ./scripts/demo (ensure_packages, ensure_node_modules).
source scripts/lib.sh
log() { echo "load.sh: $*" >&2; }
ensure_packages wrk curl
$want_demo && [[ -z ${DEMO_BIN:-} || -z ${HELLO_BIN:-} ]] && ensure_packages "${WEBSESSION_BUILD_PACKAGES[@]}"
ensure_node_modules
if [[ ! -d bench/peers/node_modules/express-session ]]; then
  log "npm ci --prefix bench/peers"
  npm ci --prefix bench/peers --no-audit --no-fund >&2
fi

# ---------------------------------------------------------------- build the demo (Release)
if $want_demo; then
  if [[ -z ${DEMO_BIN:-} || -z ${HELLO_BIN:-} ]]; then
    DEMO_BIN=${DEMO_BIN:-$BUILD_DIR/examples/demo/websession-demo}
    HELLO_BIN=${HELLO_BIN:-$BUILD_DIR/bench/hello/websession-hello}
    log "building websession-demo and websession-hello (Release) in $BUILD_DIR"
    cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DWEBSESSION_BUILD_TESTS=OFF >&2 \
      || die "cmake configure failed (to bench the peers only: TARGETS=\"express-memory express-pwrdrvr\")"
    cmake --build "$BUILD_DIR" --target websession-demo websession-hello -j2 >&2 \
      || die "building websession-demo failed (to bench the peers only: TARGETS=\"express-memory express-pwrdrvr\")"
  fi
  [[ -x $DEMO_BIN ]] || die "no demo binary at $DEMO_BIN"
  [[ -x $HELLO_BIN ]] || die "no hello-world binary at $HELLO_BIN"
fi

mkdir -p "$LOG_DIR" "$(dirname "$OUT")"

# ---------------------------------------------------------------- helpers

CLK_TCK=$(getconf CLK_TCK)
cpu_ticks() { # pid -> utime+stime in clock ticks (fields 14, 15; the comm field may hold spaces)
  local stat
  stat=$(<"/proc/$1/stat") || die "process $1 is gone"
  stat=${stat##*) }
  awk '{print $12 + $13}' <<<"$stat"
}

wait_http() { # url pid logfile what
  local i
  for ((i = 0; i < 300; i++)); do
    curl -sf -o /dev/null --max-time 2 "$1" && return 0
    if ! kill -0 "$2" 2>/dev/null; then
      tail -n 30 "$3" >&2 || true
      die "$4 exited before answering $1 (log: $3)"
    fi
    sleep 0.1
  done
  tail -n 30 "$3" >&2 || true
  die "$4 did not answer $1 within 30 s (log: $3)"
}

# dynalite call counts: "<op> <calls> <errors>" lines
counts() { curl -sf --max-time 5 "http://127.0.0.1:$COUNTS_PORT/__counts" || die "dynalite counts endpoint did not answer"; }
count_of() { # counts-text op
  awk -v op="$2" '$1 == op {print $2; found=1} END {if (!found) print 0}' <<<"$1"
}
count_total() { awk '{s += $2} END {print s + 0}' <<<"$1"; }
count_errors() { awk '{s += $3} END {print s + 0}' <<<"$1"; }

demo_metric_calls() { # port -> sum of websession_dynamodb_calls_total, or "-"
  local m
  m=$(curl -sf --max-time 5 "http://127.0.0.1:$1/metrics" 2>/dev/null) || { echo -; return; }
  awk '/^websession_dynamodb_calls_total[{ ]/ {s += $NF; n++} END {if (n) printf "%d\n", s; else print "-"}' <<<"$m"
}

div() { awk -v a="$1" -v b="$2" -v f="${3:-%.3f}" 'BEGIN {if (b > 0) printf f "\n", a / b; else print "-"}'; }

# ---------------------------------------------------------------- one dynalite for everything
export AWS_ACCESS_KEY_ID=benchfake AWS_SECRET_ACCESS_KEY=benchfake AWS_REGION=us-east-1 \
  AWS_EC2_METADATA_DISABLED=true
unset AWS_SESSION_TOKEN AWS_PROFILE AWS_ENDPOINT_URL AWS_DEFAULT_REGION
DYNALITE_PORT=$(free_port)
COUNTS_PORT=$(free_port)
[[ $DYNALITE_PORT != "$COUNTS_PORT" ]] || COUNTS_PORT=$(free_port)
export AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:$DYNALITE_PORT
DYNALITE_PORT=$DYNALITE_PORT COUNTS_PORT=$COUNTS_PORT node bench/peers/dynalite-counting.mjs \
  >"$LOG_DIR/dynalite.log" 2>&1 &
DYNALITE_PID=$!
PIDS+=("$DYNALITE_PID")
wait_http "http://127.0.0.1:$COUNTS_PORT/__counts" "$DYNALITE_PID" "$LOG_DIR/dynalite.log" dynalite
log "dynalite on 127.0.0.1:$DYNALITE_PORT (pid $DYNALITE_PID)"

# ---------------------------------------------------------------- results file
{
  echo "# websession load benchmark, $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "# machine: $(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $(uname -sr)"
  echo "# node $(node --version), $(wrk --version 2>&1 | head -n1 | awk '{print $1, $2}')"
  echo "# git $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
  echo "# wrk -t$THREADS -c$CONNECTIONS -d$DURATION --latency (after ${WARMUP} warm-up), GET /api/session with a logged-in cookie, $ROUNDS rounds"
  echo "# columns: target round req_per_s p99_ms requests non2xx_or_errors server_cpu_us_per_req dynalite_cpu_us_per_req ddb_calls_per_req GetItem_per_req UpdateItem_per_req PutItem_per_req other_per_req ddb_errors demo_metrics_calls_per_req"
} >"$OUT"

# ---------------------------------------------------------------- one target
run_target() { # target
  local target=$1 port pid logf table url cookie headers i
  local -a load=()  # what wrk sends: headers, script
  port=$(free_port)
  logf=$LOG_DIR/$target.log
  table=bench_${target//-/_}_$$
  url=http://127.0.0.1:$port
  case $target in
    hello-*)
      PORT=$port SERVER=${target#hello-} "$HELLO_BIN" >"$logf" 2>&1 &
      pid=$!
      ;;
    demo-*)
      local server=${target#demo-}; server=${server%%-*}
      local store=${target##*-}
      PORT=$port SERVER=$server SESSION_STORE=$store SESSION_TABLE=$table "$DEMO_BIN" >"$logf" 2>&1 &
      pid=$!
      ;;
    express-memory)
      NODE_ENV=production PORT=$port STORE=memory node bench/peers/server.mjs >"$logf" 2>&1 &
      pid=$!
      ;;
    express-pwrdrvr)
      node bench/peers/create-table.mjs "$table" >"$logf" 2>&1 || { cat "$logf" >&2; die "creating table $table failed"; }
      NODE_ENV=production PORT=$port STORE=dynamodb SESSION_TABLE=$table node bench/peers/server.mjs >>"$logf" 2>&1 &
      pid=$!
      ;;
    dynalite-getitem)
      # No server of ours: wrk talks to dynalite itself, whose CPU is then the "server" CPU.
      { node bench/peers/create-table.mjs "$table" && node bench/peers/put-item.mjs "$table" bench-item; } >"$logf" 2>&1 \
        || { cat "$logf" >&2; die "preparing table $table failed"; }
      pid=$DYNALITE_PID
      url=http://127.0.0.1:$DYNALITE_PORT
      ;;
  esac
  if [[ $target == dynalite-getitem ]]; then
    export TABLE=$table ITEM_ID=bench-item
    load=(-s bench/peers/getitem.lua "$url/")
    curl -sf --max-time 10 -X POST -H 'Content-Type: application/x-amz-json-1.0' \
      -H 'X-Amz-Target: DynamoDB_20120810.GetItem' -H "X-Amz-Date: $(date -u +%Y%m%dT%H%M%SZ)" \
      -H "Authorization: AWS4-HMAC-SHA256 Credential=benchfake/$(date -u +%Y%m%d)/us-east-1/dynamodb/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=$(printf '0%.0s' {1..64})" \
      -d "{\"TableName\":\"$table\",\"Key\":{\"id\":{\"S\":\"bench-item\"}},\"ConsistentRead\":true}" "$url/" |
      grep -q '"field17"' || die "$target: dynalite does not answer the benchmark's GetItem with the item"
  else
    PIDS+=("$pid")
    wait_http "$url/api/session" "$pid" "$logf" "$target"
  fi

  # log in, keep the cookie, check that it reads back as logged in
  if [[ $target == dynalite-getitem ]]; then
    :
  elif [[ $target == hello-* ]]; then
    cookie="sessionId=none"  # the hello-world servers ignore it; wrk sends the same headers to all
  else
    headers=$(curl -sf --max-time 10 -D - -o /dev/null -H 'Content-Type: application/json' \
      -d '{"user":"alice"}' "$url/api/login") || die "$target: POST /api/login failed (log: $logf)"
    cookie=$(tr -d '\r' <<<"$headers" | grep -io '^set-cookie: *sessionId=[^;]*' | head -n1 | sed 's/^[^:]*: *//') \
      || die "$target: POST /api/login set no sessionId cookie"
    curl -sf --max-time 10 -H "Cookie: $cookie" "$url/api/session" | grep -Eq '"authenticated" *: *true' \
      || die "$target: GET /api/session with the login cookie is not authenticated"
  fi
  [[ $target == dynalite-getitem ]] || load=(-H "Cookie: $cookie" "$url/api/session")

  log "$target: warm-up $WARMUP"
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" "${load[@]}" >/dev/null

  for ((i = 1; i <= ROUNDS; i++)); do
    local cpu0 cpu1 dcpu0 dcpu1 c0 c1 m0 m1 wout rps p99 reqs bad
    c0=$(counts); m0=-
    [[ $target == demo-* ]] && m0=$(demo_metric_calls "$port")
    cpu0=$(cpu_ticks "$pid"); dcpu0=$(cpu_ticks "$DYNALITE_PID")
    wout=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "${load[@]}")
    cpu1=$(cpu_ticks "$pid"); dcpu1=$(cpu_ticks "$DYNALITE_PID")
    c1=$(counts); m1=-
    [[ $target == demo-* ]] && m1=$(demo_metric_calls "$port")
    echo "$wout" >"$LOG_DIR/$target.wrk.$i.txt"

    rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$wout")
    reqs=$(awk '/ requests in / {print $1}' <<<"$wout")
    p99=$(awk '/Latency Distribution/ {d=1} d && $1 == "99%" {v=$2; u=v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
          m = (u == "us") ? 0.001 : (u == "ms") ? 1 : (u == "s") ? 1000 : (u == "m") ? 60000 : -1; printf "%.3f\n", v * m; exit}' <<<"$wout")
    bad=$(awk '/Non-2xx or 3xx responses:/ {s += $NF} /Socket errors:/ {gsub(/,/, ""); s += $4 + $6 + $8 + $10} END {print s + 0}' <<<"$wout")
    [[ -n $rps && -n $reqs && -n $p99 ]] || { echo "$wout" >&2; die "$target: cannot parse wrk output"; }
    ((bad == 0)) || log "warning: $target round $i: $bad non-2xx responses or socket errors"

    local get upd put tot other errs mcalls
    get=$(($(count_of "$c1" GetItem) - $(count_of "$c0" GetItem)))
    upd=$(($(count_of "$c1" UpdateItem) - $(count_of "$c0" UpdateItem)))
    put=$(($(count_of "$c1" PutItem) - $(count_of "$c0" PutItem)))
    tot=$(($(count_total "$c1") - $(count_total "$c0")))
    other=$((tot - get - upd - put))
    errs=$(($(count_errors "$c1") - $(count_errors "$c0")))
    mcalls=-
    [[ $m0 != - && $m1 != - ]] && mcalls=$(div $((m1 - m0)) "$reqs")

    local line
    line="$target $i $rps $p99 $reqs $bad"
    line+=" $(div "$(((cpu1 - cpu0) * 1000000))" "$((reqs * CLK_TCK))" %.1f)"
    line+=" $(div "$(((dcpu1 - dcpu0) * 1000000))" "$((reqs * CLK_TCK))" %.1f)"
    line+=" $(div "$tot" "$reqs") $(div "$get" "$reqs") $(div "$upd" "$reqs") $(div "$put" "$reqs") $(div "$other" "$reqs") $errs $mcalls"
    echo "$line" >>"$OUT"
    log "$line"
  done

  [[ $target == dynalite-getitem ]] && return 0  # dynalite serves the next target too
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

for t in $TARGETS; do
  log "=== $t"
  run_target "$t"
done

# ---------------------------------------------------------------- summary: medians over the rounds
median() { # target column [printf format]
  awk -v t="$1" -v c="$2" '$1 == t {print $c}' "$OUT" | sort -g |
    awk -v f="${3:-%.3f}" '{a[NR] = $1} END {if (!NR || a[1] == "-") print "-";
      else printf f "\n", (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (a == "-" || b == "-" || b + 0 == 0) print "-"; else printf "%.2fx\n", a / b}'; }

summary=$(
  echo
  echo "Medians over $ROUNDS round(s) of wrk -t$THREADS -c$CONNECTIONS -d$DURATION, GET /api/session (logged in):"
  printf '%-22s %10s %8s %12s %12s %10s %8s %8s %8s %8s\n' target 'req/s' 'p99 ms' 'srv µs/req' 'ddb µs/req' 'ddb/req' GetItem UpdateIt PutItem other
  for t in $TARGETS; do
    printf '%-22s %10s %8s %12s %12s %10s %8s %8s %8s %8s\n' "$t" "$(median "$t" 3 %.0f)" "$(median "$t" 4 %.2f)" \
      "$(median "$t" 7 %.1f)" "$(median "$t" 8 %.1f)" "$(median "$t" 9)" "$(median "$t" 10)" "$(median "$t" 11)" \
      "$(median "$t" 12)" "$(median "$t" 13)"
  done
  echo "(srv µs/req: server process CPU per request; ddb µs/req: dynalite's CPU per request; ddb/req: DynamoDB calls per request)"
  echo
  echo "Ratios, demo vs peer (req/s: demo/peer, higher is better; p99 and CPU: demo/peer, lower is better):"
  printf '%-22s %-16s %8s %8s %12s\n' demo peer 'req/s' 'p99' 'srv CPU/req'
  for d in $TARGETS; do
    for p in express-memory express-pwrdrvr hello-httplib hello-beast dynalite-getitem; do
      case $d:$p in
        demo-*-memory:express-memory | demo-*-dynamodb:express-pwrdrvr | demo-httplib-memory:hello-httplib | \
          demo-beast-memory:hello-beast | demo-*-dynamodb:dynalite-getitem | express-pwrdrvr:dynalite-getitem) ;;
        *) continue ;;
      esac
      [[ " $TARGETS " == *" $p "* ]] || continue
      printf '%-22s %-16s %8s %8s %12s\n' "$d" "$p" "$(ratio "$(median "$d" 3)" "$(median "$p" 3)")" \
        "$(ratio "$(median "$d" 4)" "$(median "$p" 4)")" "$(ratio "$(median "$d" 7)" "$(median "$p" 7)")"
    done
  done
)
echo "$summary"
sed 's/^/# /' <<<"$summary" >>"$OUT"
log "raw results: $OUT; logs: $LOG_DIR/"
