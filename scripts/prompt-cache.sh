#!/usr/bin/env bash
# How many prompt tokens a local llama-server evaluates for the first request of a new session
# in a new directory, with the server warm from a session in another directory, and how long
# that first round takes. Needs the server of scripts/local-model.sh running.
#
#   scripts/prompt-cache.sh                       # target/release/corecoder, 3 runs
#   CORECODER_BINS="old/corecoder new/corecoder" RUNS=5 scripts/prompt-cache.sh
#
# Each run: one `-p` round in a fresh directory A (warms the server), then one in a fresh
# directory B, measured. The numbers come from llama-server's own `timings` in the final
# stream chunk (cache_n: reused from the cache, prompt_n: evaluated), read by a small logging
# proxy (scripts/timings-proxy.py) between corecoder and the server.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PORT="${CORECODER_LM_PORT:-8091}"
MODEL="${MODEL:-qwen2.5-coder-1.5b-instruct}"
RUNS="${RUNS:-3}"
BINS="${CORECODER_BINS:-$root/target/release/corecoder}"
work=$(mktemp -d)
trap 'kill "$proxy_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
proxy_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 "$root/scripts/timings-proxy.py" "$proxy_port" "$PORT" "$work/log.jsonl" &
proxy_pid=$!
sleep 0.5

one() { # binary, directory: one round, returns the logged line
    local bin=$1 dir=$2
    mkdir -p "$dir"
    (cd "$dir" && OPENAI_BASE_URL="http://127.0.0.1:$proxy_port/v1" CORECODER_MODEL="$MODEL" \
        CORECODER_MAX_TOKENS=8 CORECODER_MAX_CONTEXT=8192 \
        "$bin" -p "Reply with the single word: ok" --max-rounds 1 >/dev/null 2>&1 || true)
    tail -n1 "$work/log.jsonl"
}

printf '%-40s %4s %8s %9s %10s\n' binary run cache_n prompt_n first_s
for i in $(seq 1 "$RUNS"); do
    for bin in $BINS; do
        one "$bin" "$work/warm-$i-$RANDOM" >/dev/null
        line=$(one "$bin" "$work/new-$i-$RANDOM")
        python3 - "$bin" "$i" "$line" <<'PY'
import json, sys
bin, i, d = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
t = d.get("timings") or {}
print(f"{bin[-40:]:<40} {i:>4} {t.get('cache_n', '?'):>8} {t.get('prompt_n', '?'):>9} {d['wall_s']:>10}")
PY
    done
done
