"""What undo's checkpoints cost an agent round (issue 11), through the real binary.

corecoder's `hello` (no tool), `rounds1` and `rounds20` scenarios (1 or 20 model rounds, one
`bash true` each: every round may have changed files, so each ends with a snapshot walk; the
first waits for the session's first snapshot), with checkpoints on
(the default) and off (`CORECODER_CHECKPOINTS=off`), alternating on/off within each run and
flipping the order from run to run, in three workspaces: an empty directory, a copy of this
repository's tracked files, and a generated tree of 10,000 files / 150 MB in 1,000
directories. Each run has a fresh $HOME, so each pays its session's first snapshot (in the
background). Prints medians (wall, CPU); "first change" = (rounds1 − hello) on − off: what the
first command waited for the first snapshot; "per round" = (rounds20 − rounds1) / 19, on − off.

Before those, `checkpointbench` (the store alone: first snapshot, a round that changed nothing
or 3 files, the store's growth, preview and restore of a 100-file turn) runs REPS times.

Usage: python3 bench/undo_cost.py [RUNS] [REPS]   (after `bench/run.sh` built the release
binaries). Writes the "Undo checkpoints" section of BENCHMARKS.md, leaving the rest as it is.
"""

import datetime
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OURS = ROOT / "target/release/corecoder"
MOCK = ROOT / "target/release/mock-model"
MEASURE = ROOT / "target/release/measure"
CHECKPOINTBENCH = ROOT / "target/release/checkpointbench"
SCENARIOS = ["hello", "rounds1", "rounds20"]


def measure(argv, env, cwd):
    with tempfile.TemporaryDirectory(prefix="undo-io-") as io:
        res = os.path.join(io, "result")
        p = subprocess.run([str(MEASURE), res] + argv, env=env, cwd=cwd,
                           stdin=subprocess.DEVNULL, capture_output=True, text=True)
        wall, cpu, _rss, code = Path(res).read_text().split()
        return float(wall), float(cpu), int(code), p.stdout, p.stderr


def tree(root):
    import random
    rng = random.Random(7)
    for n in range(10_000):
        d = n // 10
        path = root / f"d{d // 100}/d{d // 10 % 10}/d{d % 10}/f{n % 10}.dat"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(rng.randbytes(rng.randrange(5_000, 25_000)))


def load():
    return " ".join(open("/proc/loadavg").read().split()[:3])


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    reps = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    commit = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip()
    load_start = load()
    store_runs = []
    for rep in range(reps):
        p = subprocess.run([str(CHECKPOINTBENCH), str(ROOT)], capture_output=True, text=True)
        if p.returncode != 0:
            sys.exit(f"checkpointbench failed: {p.stderr[-400:]}")
        store_runs.append(p.stdout.strip())
        print(f"checkpointbench {rep + 1}/{reps} done (load {load()})", file=sys.stderr)
    tmp = Path(tempfile.mkdtemp(prefix="undo-cost-"))
    big = tmp / "big"
    big.mkdir()
    proc = subprocess.Popen([str(MOCK), "--bigdir", str(big)], stdout=subprocess.PIPE, text=True)
    url = proc.stdout.readline().strip()
    spaces = {"empty": tmp / "empty", "this repository": tmp / "repo", "10,000 files": tmp / "tree"}
    spaces["empty"].mkdir()
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True).stdout
    for f in files.split():
        dst = spaces["this repository"] / f
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / f, dst)
    spaces["10,000 files"].mkdir()
    tree(spaces["10,000 files"])
    results = {}
    try:
        for i in range(runs):
            for name, ws in spaces.items():
                for scenario in SCENARIOS:
                    order = ["on", "off"] if i % 2 == 0 else ["off", "on"]
                    for state in order:
                        home = Path(tempfile.mkdtemp(prefix="home-", dir=tmp))
                        env = {"PATH": os.environ["PATH"], "HOME": str(home), "NO_COLOR": "1",
                               "OPENAI_BASE_URL": url, "OPENAI_API_KEY": "dummy",
                               "CORECODER_MODEL": "bench", "TERM": "dumb"}
                        if state == "off":
                            env["CORECODER_CHECKPOINTS"] = "off"
                        argv = [str(OURS), "--yes", "-p", f"scenario={scenario} (benchmark run)"]
                        wall, cpu, code, out, err = measure(argv, env, ws)
                        # Homes are removed at the end: on this machine's ext4 (no journal),
                        # file creation slows down for a minute after a mass deletion.
                        if code != 0 or "denied" in err:
                            sys.exit(f"run failed ({name} {scenario} {state}): {err[-400:]}")
                        results.setdefault((name, scenario, state), []).append((wall, cpu))
            print(f"run {i + 1}/{runs} done", file=sys.stderr)
    finally:
        proc.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    med = lambda xs: statistics.median(xs) * 1000
    out = [f"## Undo checkpoints", "",
           f"Measured {started} at corecoder commit {commit}, on the machine above (2 cores "
           f"shared with other jobs: load average {load_start} at the start, {load()} at the "
           "end). Regenerate this section alone with `python3 bench/undo_cost.py RUNS REPS` "
           "after `bench/run.sh` built the release binaries.", "",
           "### The store alone (`checkpointbench`)", "",
           "A generated tree of 10,000 files / 150 MB in 1,000 directories, and this "
           "repository with its ignored `target/`; medians of 15 rounds, 3 first snapshots and "
           f"5 restores per repetition. Each of the {reps} repetitions as printed:", ""]
    for i, text in enumerate(store_runs):
        out += [f"Repetition {i + 1}:", "", "```", text, "```", ""]
    out += ["### Through the agent (`corecoder -p`, checkpoints on and off)", "",
            f"Medians of {runs} runs (ms); each run in a fresh `$HOME` (so a fresh store: the "
            "session's first snapshot reads and stores the whole workspace, on its own thread).",
            "", "| workspace | scenario | wall on | wall off | CPU on | CPU off |",
            "| --- | --- | ---: | ---: | ---: | ---: |"]
    derived = []
    for name in spaces:
        m = {}
        for scenario in SCENARIOS:
            for state in ["on", "off"]:
                rs = results[(name, scenario, state)]
                m[(scenario, state)] = (med([w for w, _ in rs]), med([c for _, c in rs]))
            (w_on, c_on), (w_off, c_off) = m[(scenario, "on")], m[(scenario, "off")]
            out.append(f"| {name} | `{scenario}` | {w_on:.1f} | {w_off:.1f} | {c_on:.1f} | "
                       f"{c_off:.1f} |")
        d = lambda a, b, state, i: m[(a, state)][i] - m[(b, state)][i]
        first = [d("rounds1", "hello", "on", i) - d("rounds1", "hello", "off", i) for i in (0, 1)]
        per = [(d("rounds20", "rounds1", "on", i) - d("rounds20", "rounds1", "off", i)) / 19
               for i in (0, 1)]
        derived.append(f"| {name} | {first[0]:+.1f} ms, {first[1]:+.1f} ms | "
                       f"{per[0]:+.1f} ms, {per[1]:+.1f} ms |")
    out += ["", "| workspace | first change waits for the first snapshot (wall, CPU) | "
            "per round after it, (rounds20 − rounds1) / 19 (wall, CPU) |",
            "| --- | ---: | ---: |"] + derived + [""]
    section = "\n".join(out) + "\n"
    print(section)
    path = ROOT / "BENCHMARKS.md"
    text = path.read_text()
    start = text.find("## Undo checkpoints")
    if start >= 0:
        end = text.find("\n## ", start + 1)
        text = text[:start] + section + (text[end + 1:] if end >= 0 else "")
    else:
        at = text.find("## grep and glob")
        text = text[:at] + section + "\n" + text[at:] if at >= 0 else text + "\n" + section
    path.write_text(text)


main()
