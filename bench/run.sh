#!/usr/bin/env bash
# The benchmark harness, in one command: builds the release binary and the harness binaries,
# installs what the comparison needs, and runs bench/bench.py, which writes BENCHMARKS.md.
# Extra arguments go to bench.py (see `bench/run.sh --help`), e.g. `--runs 9` or `--no-python`;
# `--sandbox-only` rewrites only the "Sandbox cost" section of BENCHMARKS.md.
# Run it on a quiet machine: every figure is a median, but the machine is shared.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --locked
# The harness's own package (the scripted model server and the direct tool runner); it shares
# the main target directory so it reuses the compiled dependencies.
cargo build --release --manifest-path bench/Cargo.toml --target-dir target

# `--sandbox-only` measures only the sandbox's cost (sandboxbench and corecoder with the sandbox
# on and off): it needs neither ripgrep nor the Python original.
for arg in "$@"; do
  if [ "$arg" = --sandbox-only ]; then
    exec python3 bench/bench.py "$@"
  fi
done

# ripgrep for the grep/glob comparison (Debian's package).
if ! command -v rg >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && apt-get install -y -qq ripgrep >/dev/null
  else
    echo "bench: install ripgrep (apt-get install ripgrep or cargo install ripgrep)" >&2
    exit 1
  fi
fi

# The Python original, pinned, in a virtual environment of its own.
venv=bench/.venv
if [ ! -x "$venv/bin/corecoder" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check corecoder==0.8.0
fi

exec python3 bench/bench.py --python-cc "$venv/bin/corecoder" "$@"
