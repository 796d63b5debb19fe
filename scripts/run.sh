#!/usr/bin/env bash
# Build corecoder and run it, with any corecoder arguments:
#
#   scripts/run.sh                      # interactive
#   scripts/run.sh -p "explain src/"    # one task
#
# With an API key or a base URL configured (environment, .env, config file or flags) it uses
# that provider. Without, it uses a local model server it finds on 127.0.0.1 (Ollama,
# llama.cpp, LM Studio, vLLM), and when none is running it starts the project's own with
# scripts/local-model.sh: the first time that downloads the model (1.1 GB) and builds
# llama.cpp, about 9 minutes on 2 cores, with progress on stderr; afterwards seconds.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="$root/target/release/corecoder"
if [[ ! -x "$bin" ]]; then
    echo "[run] building corecoder (release; the first build takes a few minutes)" >&2
fi
cargo build --release --quiet --manifest-path "$root/Cargo.toml"
exec "$bin" --local-model-script "$root/scripts/local-model.sh" "$@"
