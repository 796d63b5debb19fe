#!/usr/bin/env bash
# Run corecoder against a real local model (scripts/local-model.sh) on a few small real
# tasks, each in a fresh temp directory, and check every outcome with a script.
#
#   scripts/real-tasks.sh                       # builds target/release/corecoder, runs all tasks
#   scripts/real-tasks.sh fix rename            # only these tasks (fix rename grep create)
#   CORECODER_BINS="without=/path/a with=/path/b" scripts/real-tasks.sh
#                                               # compare several builds, one column group each
#
# Environment:
#   CORECODER_BINS     space-separated label=path[,VAR=VALUE...] entries (default:
#                      "corecoder=target/release/corecoder", built with `cargo build --release`
#                      first); the VAR=VALUE pairs are set for that build's runs only, e.g.
#                      "off=/x/corecoder,CORECODER_TEXT_TOOL_CALLS=0 on=/x/corecoder"
#   REPEAT             runs per task and build (default 1)
#   CORECODER_LM_PORT  the local server's port (default 8091; the server is started if not up)
#   LM_MODEL           model name sent with -m (default qwen2.5-coder-1.5b-instruct)
#   MAX_ROUNDS         --max-rounds (default 8)
#   CORECODER_MAX_TOKENS (default 1024)
#   TASK_TIMEOUT       seconds per run before it is killed (default 900)
#   RESULTS_DIR        where transcripts and results.tsv go (default a new temp dir)
#
# Per run it records: success (checked by a script), the result subtype, rounds, prompt and
# completion tokens (from the final `result` object of --output-format stream-json, the same
# object --output-format json prints), tool calls made, and wall time.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PORT="${CORECODER_LM_PORT:-8091}"
BASE_URL="http://127.0.0.1:$PORT/v1"
LM_MODEL="${LM_MODEL:-qwen2.5-coder-1.5b-instruct}"
MAX_ROUNDS="${MAX_ROUNDS:-8}"
export CORECODER_MAX_TOKENS="${CORECODER_MAX_TOKENS:-1024}"
REPEAT="${REPEAT:-1}"
TASK_TIMEOUT="${TASK_TIMEOUT:-900}"
RESULTS_DIR="${RESULTS_DIR:-$(mktemp -d -t corecoder-real-tasks.XXXXXX)}"
mkdir -p "$RESULTS_DIR"

log() { printf '[real-tasks %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

ALL_TASKS=(fix rename grep create)
TASKS=("$@")
[[ ${#TASKS[@]} -gt 0 ]] || TASKS=("${ALL_TASKS[@]}")

if [[ -z "${CORECODER_BINS:-}" ]]; then
    log "cargo build --release in $ROOT"
    (cd "$ROOT" && cargo build --release -q) || { log "cargo build failed"; exit 1; }
    CORECODER_BINS="corecoder=$ROOT/target/release/corecoder"
fi

if ! curl -fsS -m 2 "http://127.0.0.1:$PORT/health" >/dev/null 2>&1; then
    log "no server on port $PORT; starting scripts/local-model.sh"
    CORECODER_LM_PORT="$PORT" "$ROOT/scripts/local-model.sh" start >/dev/null || exit 1
fi

# ------------------------------------------------------------------ tasks
# setup_<task> DIR   writes the files;  prompt_<task> prints the prompt;
# check_<task> DIR RESULT_TEXT  exits 0 when the task is done.

setup_fix() {
    cat >"$1/stats.py" <<'EOF'
def mean(xs):
    """Arithmetic mean of a non-empty list of numbers."""
    return sum(xs) / (len(xs) + 1)
EOF
    fix_test >"$1/test_stats.py"
}
fix_test() {
    cat <<'EOF'
from stats import mean

assert mean([2, 4, 6]) == 4, mean([2, 4, 6])
assert mean([5]) == 5, mean([5])
print("ok")
EOF
}
prompt_fix() { echo "python3 test_stats.py fails. Fix the bug in stats.py (do not change the test)."; }
check_fix() {
    # The test must be unchanged and pass.
    fix_test | cmp -s - "$1/test_stats.py" && (cd "$1" && timeout 20 python3 test_stats.py >/dev/null 2>&1)
}

setup_rename() {
    cat >"$1/util.py" <<'EOF'
def get_total(prices):
    return sum(prices)
EOF
    cat >"$1/main.py" <<'EOF'
from util import get_total

print(get_total([1, 2, 3]))
EOF
}
prompt_rename() { echo "Rename the function get_total to compute_total in util.py and main.py."; }
check_rename() {
    (cd "$1" &&
        ! grep -q get_total util.py main.py &&
        grep -q "def compute_total" util.py &&
        [[ "$(timeout 20 python3 main.py 2>/dev/null)" == "6" ]])
}

setup_grep() {
    mkdir -p "$1/app/net" "$1/app/db" "$1/docs"
    cat >"$1/app/__init__.py" <<'EOF'
EOF
    cat >"$1/app/db/pool.py" <<'EOF'
POOL_SIZE = 12
TIMEOUT_S = 30
EOF
    cat >"$1/app/net/client.py" <<'EOF'
import time

MAX_RETRIES = 37
BACKOFF_S = 0.5


def fetch(url):
    for attempt in range(MAX_RETRIES):
        time.sleep(BACKOFF_S * attempt)
EOF
    cat >"$1/docs/notes.md" <<'EOF'
# Notes
The client retries failed requests with exponential backoff.
EOF
}
prompt_grep() { echo "What is MAX_RETRIES set to in this project, and in which file? Reply with the number and the path."; }
check_grep() {
    grep -Eq '(^|[^0-9])37([^0-9]|$)' <<<"$2" && grep -q 'client.py' <<<"$2"
}

setup_create() { :; }
prompt_create() { echo "Create a file named greeting.txt whose only content is the line: Hello from corecoder"; }
check_create() {
    [[ -f "$1/greeting.txt" ]] && [[ "$(tr -d '\r' <"$1/greeting.txt" | sed -e 's/[[:space:]]*$//' | sed -e '/^$/d')" == "Hello from corecoder" ]]
}

# ------------------------------------------------------------------ runner

TSV="$RESULTS_DIR/results.tsv"
printf 'task\tbuild\trun\tsuccess\tsubtype\trounds\tprompt_tokens\tcompletion_tokens\ttool_calls\twall_s\n' >"$TSV"

run_one() { # task label bin[,VAR=VALUE...] run
    local task=$1 label=$2 spec=$3 run=$4
    local bin=${spec%%,*} extra=()
    [[ "$spec" == *,* ]] && IFS=, read -r -a extra <<<"${spec#*,}"
    local work home out
    work=$(mktemp -d -t "cc-$task.XXXXXX")
    home=$(mktemp -d -t "cc-home.XXXXXX")
    out="$RESULTS_DIR/$task.$label.$run.jsonl"
    "setup_$task" "$work"
    local prompt
    prompt=$("prompt_$task")
    log "$task [$label #$run]: $prompt"
    local t0 t1
    t0=$(date +%s.%N)
    (cd "$work" && env HOME="$home" OPENAI_BASE_URL="$BASE_URL" OPENAI_API_KEY=local "${extra[@]}" \
        timeout "$TASK_TIMEOUT" "$bin" -m "$LM_MODEL" --max-rounds "$MAX_ROUNDS" \
        --output-format stream-json -p "$prompt" </dev/null >"$out" 2>"$out.stderr")
    local rc=$?
    t1=$(date +%s.%N)
    local fields
    fields=$(python3 - "$out" "$rc" <<'EOF'
import json, sys
path, rc = sys.argv[1], sys.argv[2]
res, tools = None, 0
for line in open(path, encoding="utf-8", errors="replace"):
    try:
        v = json.loads(line)
    except ValueError:
        continue
    if v.get("type") == "tool_use":
        tools += 1
    if v.get("type") == "result":
        res = v
if res is None:
    print("\t".join(["timeout" if rc == "124" else f"exit{rc}", "-", "-", "-", str(tools)]))
    open(path + ".result", "w").close()
else:
    u = res.get("usage") or {}
    print("\t".join([str(res.get("subtype")), str(res.get("rounds")),
                     str(u.get("prompt_tokens")), str(u.get("completion_tokens")), str(tools)]))
    with open(path + ".result", "w", encoding="utf-8") as f:
        f.write(res.get("result") or "")
EOF
)
    local ok=no
    if "check_$task" "$work" "$(cat "$out.result")"; then ok=yes; fi
    local wall
    wall=$(python3 -c "print(f'{$t1 - $t0:.1f}')")
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$task" "$label" "$run" "$ok" "$fields" "$wall" >>"$TSV"
    log "$task [$label #$run]: success=$ok $(tr '\t' ' ' <<<"$fields") wall=${wall}s"
    # Keep the work tree next to the transcript for inspection.
    cp -r "$work" "$RESULTS_DIR/$task.$label.$run.tree" 2>/dev/null
    rm -rf "$work" "$home"
}

for task in "${TASKS[@]}"; do
    declare -F "setup_$task" >/dev/null || { log "unknown task '$task' (${ALL_TASKS[*]})"; exit 2; }
done

for run in $(seq 1 "$REPEAT"); do
    for task in "${TASKS[@]}"; do
        for pair in $CORECODER_BINS; do
            run_one "$task" "${pair%%=*}" "${pair#*=}" "$run"
        done
    done
done

echo
echo "model: $LM_MODEL via $BASE_URL; --max-rounds $MAX_ROUNDS; CORECODER_MAX_TOKENS=$CORECODER_MAX_TOKENS"
echo "transcripts: $RESULTS_DIR"
echo
column -t -s $'\t' "$TSV"
echo
python3 - "$TSV" <<'EOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
builds = []
for r in rows:
    if r["build"] not in builds:
        builds.append(r["build"])
for b in builds:
    rs = [r for r in rows if r["build"] == b]
    ok = sum(r["success"] == "yes" for r in rs)
    print(f"{b}: {ok}/{len(rs)} tasks succeeded")
EOF
