#!/usr/bin/env bash
# Peak RSS, wall and CPU time of one `bash` call printing MB megabytes (issue 9), for a given
# corecoder binary: `bench/bigoutput.sh BINARY [MB] [RUNS]`. Needs the release build of the
# bench package (`cargo build --release --manifest-path bench/Cargo.toml --target-dir target`).
# Prints one line per run (wall s, cpu s, peak RSS KiB, exit code), then the medians.
set -euo pipefail
bin=$(realpath "$1"); mb=${2:-200}; runs=${3:-5}
here=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d); trap 'kill "$mock" 2>/dev/null; rm -rf "$tmp"' EXIT
coproc MOCK { exec "$here/target/release/mock-model" 2>/dev/null; }
mock=$MOCK_PID
read -r url <&"${MOCK[0]}"
mkdir "$tmp/work" "$tmp/tmp"
for i in $(seq "$runs"); do
  home=$(mktemp -d -p "$tmp")
  (cd "$tmp/work" && env -i PATH="$PATH" HOME="$home" TMPDIR="$tmp/tmp" LANG=C.UTF-8 NO_COLOR=1 \
    OPENAI_BASE_URL="$url" OPENAI_API_KEY=dummy CORECODER_MODEL=bench \
    "$here/target/release/measure" "$tmp/r" "$bin" --yes -p "scenario=bigoutput$mb" >/dev/null 2>&1)
  cat "$tmp/r"; rm -rf "$home"; rm -rf "$tmp/tmp"/*
done | tee "$tmp/all"
sort -n -k1 "$tmp/all" | awk '{w[NR]=$1} END {printf "median wall %.3f s\n", w[int((NR+1)/2)]}'
sort -n -k2 "$tmp/all" | awk '{c[NR]=$2} END {printf "median cpu  %.3f s\n", c[int((NR+1)/2)]}'
sort -n -k3 "$tmp/all" | awk '{r[NR]=$3} END {printf "median rss  %.1f MiB\n", r[int((NR+1)/2)]/1024}'
