#!/usr/bin/env python3
"""The benchmark driver; `bench/run.sh` builds everything and then runs this.

It starts the scripted model (`mock-model`), times every scenario against corecoder and the
Python original interleaved (A B A B ...), times the grep/glob tools against ripgrep on the
cargo registry's unpacked sources, measures what corecoder's shell sandbox costs (per command
and per agent round, on against off: bench/sandbox_cost.py), and writes BENCHMARKS.md from what
it measured. `--sandbox-only` measures only the sandbox and rewrites only that section.

Timing: each run goes through `measure` (bench/src/bin/measure.rs), which forks, execs the
command and reaps it with wait4, as GNU time does: wall time from a monotonic clock around
fork..reap, CPU time (user + sys) and peak RSS from the kernel's rusage for the process and the
children it waited for, the figures GNU time's %e %U %S %M report, but at microsecond rather
than 10 ms resolution, which a 5 ms goal needs. Figures are medians of the runs.
"""

import argparse
import datetime
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import sandbox_cost

ROOT = Path(__file__).resolve().parent.parent
OURS = ROOT / "target/release/corecoder"
MOCK = ROOT / "target/release/mock-model"
TOOLBENCH = ROOT / "target/release/toolbench"
MEASURE = ROOT / "target/release/measure"
SANDBOXBENCH = ROOT / "target/release/sandboxbench"
NOTES = ROOT / "bench/notes.md"

SCENARIOS = ["version", "hello", "rounds20", "parallel8", "bigcontext"]
# The final answer each scenario must end with; a run without it (or with a non-zero exit)
# did not complete the scenario.
EXPECT = {
    "version": None,
    "hello": "I am the scripted benchmark model",
    "rounds20": "Done: every round ran.",
    "parallel8": "Done: all eight commands finished.",
    "bigcontext": "Done: read all thirty files.",
}
# What corecoder prints for a tool call it refused (`✗ bash denied: ...`).
DENIED = " denied: "
BIG_FILES = 30
BIG_LINES = 2000  # 2000 lines of 100 bytes: 200 KB, and within both tools' default 2000 lines

GOALS = {  # figure -> (limit, unit) for ours
    "version wall": (5.0, "ms"),
    "hello wall": (25.0, "ms"),
    "hello peak RSS": (12.0, "MiB"),
    "per-round overhead (wall)": (4.0, "ms"),
    "parallel8 tool phase (wall)": (550.0, "ms"),
    "bigcontext RSS growth": (10.0, "MiB"),
}


class Run:
    def __init__(self, wall, cpu, rss, code, out, err):
        self.wall, self.cpu, self.rss = wall, cpu, rss  # seconds, seconds, bytes
        self.code, self.out, self.err = code, out, err


def measure(argv, env, cwd, timeout=300.0):
    """Runs argv once under `measure`; returns a Run with wall/CPU/peak RSS and the output."""
    with tempfile.TemporaryDirectory(prefix="bench-io-") as io:
        out_path, err_path = os.path.join(io, "out"), os.path.join(io, "err")
        res_path = os.path.join(io, "result")
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
        actions = [
            (os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, out_path, flags, 0o644),
            (os.POSIX_SPAWN_OPEN, 2, err_path, flags, 0o644),
        ]
        old = os.getcwd()
        os.chdir(cwd)
        try:
            launcher = [str(MEASURE), res_path] + list(argv)
            pid = os.posix_spawn(str(MEASURE), launcher, env, file_actions=actions, setpgroup=0)
        finally:
            os.chdir(old)
        killer = threading.Timer(timeout, lambda: os.killpg(pid, signal.SIGKILL))
        killer.start()
        os.waitpid(pid, 0)
        killer.cancel()
        try:  # leftovers of a killed run (the bash tool's children)
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        out = Path(out_path).read_text(errors="replace")
        err = Path(err_path).read_text(errors="replace")
        try:
            wall, cpu, rss_kib, code = Path(res_path).read_text().split()
        except (OSError, ValueError):
            return Run(timeout, 0.0, 0, -9, out, err + "\n(killed: timed out)")
    return Run(float(wall), float(cpu), int(rss_kib) * 1024, int(code), out, err)


def median(xs):
    return statistics.median(xs) if xs else None


def fmt_ms(s):
    return "—" if s is None else (f"{s * 1000:.1f} ms" if s < 10 else f"{s:.2f} s")


def fmt_mib(b):
    return "—" if b is None else f"{b / 2**20:.1f} MiB"


def ratio(theirs, ours):
    if theirs is None or ours is None or ours <= 0:
        return "—"
    return f"{theirs / ours:.1f}×"


# ---------------------------------------------------------------- the agent scenarios


def start_mock(bigdir):
    proc = subprocess.Popen(
        [str(MOCK), "--bigdir", str(bigdir)], stdout=subprocess.PIPE, text=True
    )
    url = proc.stdout.readline().strip()
    if not url.startswith("http://127.0.0.1:"):
        proc.kill()
        sys.exit(f"bench: mock-model did not start (said {url!r})")
    return proc, url


def make_big_files(bigdir):
    for n in range(1, BIG_FILES + 1):
        with open(bigdir / f"big-{n:02}.txt", "w") as f:
            for line in range(1, BIG_LINES + 1):
                text = f"file {n:02} line {line:05}: the quick brown fox jumps over the lazy dog"
                f.write(text.ljust(99, ".") + "\n")


def agent_argv(agent, scenario, python_cc):
    if agent == "ours":
        # Without --yes a one-shot run denies every bash call (nobody can be asked), and the
        # scripted rounds would still end with the expected text.
        base = [str(OURS), "--yes"]
    else:
        base = [str(python_cc), "--yes"]  # the original refuses bash in one-shot mode without it
    if scenario == "version":
        return base + ["--version"]
    return base + ["-p", f"scenario={scenario} (benchmark run)"]


def agent_env(url, home):
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "TERM": "dumb",
        "NO_COLOR": "1",
        "OPENAI_BASE_URL": url,
        "OPENAI_API_KEY": "dummy",
        "CORECODER_MODEL": "bench",
    }
    return env


def completed(scenario, run):
    if run.code != 0 or DENIED in run.err:  # a denied tool call ends its round without running
        return False
    expect = EXPECT[scenario]
    return expect is None or expect in run.out


def run_agents(args, python_cc, tmp):
    bigdir = tmp / "big"
    bigdir.mkdir()
    make_big_files(bigdir)
    work = tmp / "work"
    work.mkdir()
    proc, url = start_mock(bigdir)
    agents = ["ours"] + (["python"] if python_cc else [])
    results = {(a, s): [] for a in agents for s in SCENARIOS}
    failures = {}
    baseline = []
    try:
        for i in range(args.runs):
            baseline.append(measure(["true"], {"PATH": os.environ["PATH"]}, work))
            for scenario in SCENARIOS:
                for agent in agents:  # A B A B: each scenario alternates between the agents
                    home = Path(tempfile.mkdtemp(prefix="home-", dir=tmp))
                    r = measure(agent_argv(agent, scenario, python_cc), agent_env(url, home), work)
                    shutil.rmtree(home, ignore_errors=True)
                    if completed(scenario, r):
                        results[(agent, scenario)].append(r)
                    else:
                        tail = (r.err.strip() or r.out.strip()).splitlines()[-3:]
                        failures[(agent, scenario)] = f"exit {r.code}: " + " / ".join(tail)
                    print(
                        f"run {i + 1}/{args.runs} {scenario:10} {agent:6} "
                        f"{r.wall * 1000:9.1f} ms  cpu {r.cpu * 1000:8.1f} ms  "
                        f"rss {r.rss / 2**20:6.1f} MiB  {'ok' if completed(scenario, r) else 'FAILED'}",
                        file=sys.stderr,
                    )
    finally:
        proc.kill()
        proc.wait()
    return results, failures, baseline, agents


def agent_tables(results, failures, baseline, agents, runs):
    def med(agent, scenario, attr):
        rs = results.get((agent, scenario), [])
        if len(rs) < runs:  # a failed run voids the figure rather than a median of survivors
            return None
        return median([getattr(r, attr) for r in rs])

    lines = [
        "| scenario | figure | ours | Python original | ratio (Python ÷ ours) |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for s in SCENARIOS:
        for attr, label, fmt in [("wall", "wall", fmt_ms), ("cpu", "CPU (user+sys)", fmt_ms),
                                 ("rss", "peak RSS", fmt_mib)]:
            ours = med("ours", s, attr)
            theirs = med("python", s, attr) if "python" in agents else None
            t = fmt(theirs)
            if "python" in agents and theirs is None:
                t = "did not complete"
            o = fmt(ours) if ours is not None else "did not complete"
            lines.append(f"| `{s}` | {label} | {o} | {t} | {ratio(theirs, ours)} |")

    def derived(agent):
        g = lambda s, a: med(agent, s, a)  # noqa: E731
        out = {}
        if g("rounds20", "wall") is not None and g("hello", "wall") is not None:
            out["per-round overhead (wall)"] = (g("rounds20", "wall") - g("hello", "wall")) / 20
            out["per-round overhead (CPU)"] = (g("rounds20", "cpu") - g("hello", "cpu")) / 20
        if g("parallel8", "wall") is not None and g("hello", "wall") is not None:
            out["parallel8 tool phase (wall)"] = g("parallel8", "wall") - g("hello", "wall")
        if g("bigcontext", "rss") is not None and g("hello", "rss") is not None:
            out["bigcontext RSS growth"] = g("bigcontext", "rss") - g("hello", "rss")
        return out

    ours_d = derived("ours")
    theirs_d = derived("python") if "python" in agents else {}
    dl = [
        "| derived figure | ours | Python original | ratio (Python ÷ ours) |",
        "| --- | ---: | ---: | ---: |",
    ]
    for k in ["per-round overhead (wall)", "per-round overhead (CPU)",
              "parallel8 tool phase (wall)", "bigcontext RSS growth"]:
        fmt = fmt_mib if "RSS" in k else fmt_ms
        o, t = ours_d.get(k), theirs_d.get(k)
        ts = fmt(t) if t is not None else ("did not complete" if "python" in agents else "—")
        dl.append(f"| {k} | {fmt(o) if o is not None else 'did not complete'} | {ts} | "
                  f"{ratio(t, o)} |")

    figures = {
        "version wall": med("ours", "version", "wall"),
        "hello wall": med("ours", "hello", "wall"),
        "hello peak RSS": med("ours", "hello", "rss"),
        **ours_d,
    }
    gl = ["| goal (ours) | limit | measured | met |", "| --- | ---: | ---: | :---: |"]
    for k, (limit, unit) in GOALS.items():
        v = figures.get(k)
        if v is None:
            gl.append(f"| {k} | {limit:g} {unit} | did not complete | no |")
            continue
        shown = v / 2**20 if unit == "MiB" else v * 1000
        gl.append(f"| {k} | {limit:g} {unit} | {shown:.1f} {unit} | "
                  f"{'yes' if shown <= limit else '**no**'} |")

    fl = [f"- {a} `{s}`: {msg}" for (a, s), msg in sorted(failures.items())]
    base = median([r.wall for r in baseline])
    return "\n".join(lines), "\n".join(dl), "\n".join(gl), fl, base


# ---------------------------------------------------------------- grep and glob vs ripgrep

GREPS = [  # (label, pattern, include)
    ("literal", "unwrap_or_else", None),
    ("regex with alternation", r"fn (new|default|from_str)\(", None),
    ("case-insensitive word", r"(?i)\bdeprecated\b", None),
    ("include filter", r"^edition", "*.toml"),
]
GLOBS = [("all Rust files", "**/*.rs"), ("manifests", "**/Cargo.toml")]

PAIR = re.compile(r"^(.+?):(\d+):")


def cell(text):
    """Text for a markdown table cell: a `|` would end the cell."""
    return text.replace("|", "\\|")


def grep_pairs(text):
    pairs = set()
    for line in text.splitlines():
        m = PAIR.match(line)
        if m:
            pairs.add((m.group(1), int(m.group(2))))
    return pairs


PY_GREP = r"""
import sys, time, types, inspect
import corecoder.tools.grep as g
src = inspect.getsource(g)
if sys.argv[1] == "lifted":  # lift the 200-match and 5000-file caps
    src = src.replace("len(matches) >= 200", "len(matches) >= 10**12")
    src = src.replace("len(results) >= 5000", "len(results) >= 10**12")
mod = types.ModuleType("corecoder.tools.grep_bench")
mod.__package__ = "corecoder.tools"  # for its `from .base import Tool`
exec(compile(src, "grep_bench", "exec"), mod.__dict__)
out = mod.GrepTool().execute(sys.argv[2], ".", sys.argv[3] or None)
sys.stdout.write(out + "\n")
"""


def run_tools(args, python_bin, tree):
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root"), "LANG": "C.UTF-8"}
    rows, glob_rows = [], []
    nfiles = sum(len(f) for _, _, f in os.walk(tree))

    def rg_grep(pattern, include):
        argv = ["rg", "-L", "-n", "--no-heading", "--color", "never"]
        if include:
            argv += ["-g", include]
        return argv + ["-e", pattern]

    def ours_grep(pattern, include):
        return [str(TOOLBENCH), "grep", pattern, str(tree)] + ([include] if include else [])

    # One untimed pass of each so both start from the same warm page cache.
    for _, pattern, include in GREPS[:1]:
        measure(rg_grep(pattern, include), env, tree)
        measure(ours_grep(pattern, include), env, tree)
    timings, cpus = {}, {}
    outputs = {}
    for i in range(args.runs):
        for label, pattern, include in GREPS:
            for who, argv in [("ours", ours_grep(pattern, include)), ("rg", rg_grep(pattern, include))]:
                r = measure(argv, env, tree)
                timings.setdefault((label, who), []).append(r.wall)
                cpus.setdefault((label, who), []).append(r.cpu)
                outputs[(label, who)] = r.out
                print(f"grep run {i + 1} {label:24} {who:4} {r.wall * 1000:8.1f} ms", file=sys.stderr)
        for label, pattern in GLOBS:
            for who, argv in [("ours", [str(TOOLBENCH), "glob", pattern, str(tree)]),
                              ("rg", ["rg", "-L", "--files", "-g", pattern])]:
                r = measure(argv, env, tree)
                timings.setdefault((label, who), []).append(r.wall)
                cpus.setdefault((label, who), []).append(r.cpu)
                outputs[(label, who)] = r.out
                print(f"glob run {i + 1} {label:24} {who:4} {r.wall * 1000:8.1f} ms", file=sys.stderr)

    py = {}
    if python_bin:
        for label, pattern, include in GREPS:
            for variant in ["shipped", "lifted"]:
                ws, n = [], 0
                for _ in range(args.py_grep_runs):
                    r = measure([str(python_bin), "-c", PY_GREP, variant, pattern, include or ""],
                                env, tree, timeout=900)
                    if r.code != 0:
                        sys.exit(f"bench: the Python grep tool failed: {r.err.strip()[-500:]}")
                    ws.append(r.wall)
                    n = sum(1 for line in r.out.splitlines() if PAIR.match(line))
                    print(f"python grep {variant} {label:24} {r.wall:8.2f} s", file=sys.stderr)
                py[(label, variant)] = (median(ws), n)

    for label, pattern, include in GREPS:
        ours_p = grep_pairs(outputs[(label, "ours")])
        rg_p = grep_pairs(outputs[(label, "rg")])
        o, r = median(timings[(label, "ours")]), median(timings[(label, "rg")])
        same = "yes" if ours_p == rg_p else (
            f"**no**: {len(ours_p - rg_p)} only ours, {len(rg_p - ours_p)} only rg")
        py_cells = ""
        if python_bin:
            (sw, sn), (lw, ln) = py[(label, "shipped")], py[(label, "lifted")]
            py_cells = f" {fmt_ms(sw)} ({sn}) | {fmt_ms(lw)} ({ln}) |"
        inc = f"`{include}`" if include else ""
        cr = median(cpus[(label, "ours")]) / median(cpus[(label, "rg")])
        rows.append(f"| {label} | `{cell(pattern)}` | {inc} | {len(ours_p)} | {fmt_ms(o)} | {fmt_ms(r)} | "
                    f"{o / r:.2f}× | {'yes' if o / r <= 1.5 else '**no**'} | {cr:.2f}× | {same} |{py_cells}")
        if ours_p != rg_p:
            diff = sorted(ours_p ^ rg_p)[:5]
            rows.append(f"|  | first differences: {', '.join(f'`{p}:{n}`' for p, n in diff)} |"
                        + " |" * (8 + (2 if python_bin else 0)))
    for label, pattern in GLOBS:
        ours_f = {line for line in outputs[(label, "ours")].splitlines() if line and not line.startswith("... (")}
        rg_f = {line for line in outputs[(label, "rg")].splitlines() if line}
        o, r = median(timings[(label, "ours")]), median(timings[(label, "rg")])
        same = "yes" if ours_f == rg_f else (
            f"**no**: {len(ours_f - rg_f)} only ours, {len(rg_f - ours_f)} only rg")
        cr = median(cpus[(label, "ours")]) / median(cpus[(label, "rg")])
        glob_rows.append(f"| {label} | `{pattern}` | {len(ours_f)} | {fmt_ms(o)} | {fmt_ms(r)} | "
                         f"{o / r:.2f}× | {'yes' if o / r <= 1.5 else '**no**'} | {cr:.2f}× | {same} |")
        if ours_f != rg_f:
            diff = sorted(ours_f ^ rg_f)[:5]
            glob_rows.append(f"|  | first differences: {', '.join(f'`{p}`' for p in diff)} |"
                             + " |" * 7)
    return rows, glob_rows, nfiles


# ---------------------------------------------------------------- the report


def machine():
    def first(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True).stdout.splitlines()[0].strip()
        except (OSError, IndexError):
            return "unknown"

    mem = "unknown"
    model = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 2**20:.1f} GiB"
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    commit = first(["git", "-C", str(ROOT), "describe", "--always", "--dirty"])
    return [
        f"- date: {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- cores: {os.cpu_count()} ({model}); memory: {mem}; shared with other jobs",
        f"- kernel: {platform.release()}; {first(['rustc', '--version'])}; "
        f"{first(['rg', '--version'])}; Python {platform.python_version()}",
        f"- corecoder commit: {commit}",
    ]


def shown_args():
    """This run's arguments as a person passes them to run.sh (which adds --python-cc)."""
    out, skip = [], False
    for a in sys.argv[1:]:
        if skip or a == "--python-cc":
            skip = not skip
            continue
        out.append(a)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=7, help="runs per figure (median; at least 5)")
    ap.add_argument("--py-grep-runs", type=int, default=3, help="runs of the Python grep tool")
    ap.add_argument("--python-cc", help="the Python original's corecoder executable")
    ap.add_argument("--no-python", action="store_true", help="skip the Python original")
    ap.add_argument("--no-agents", action="store_true", help="skip the agent scenarios")
    ap.add_argument("--no-tools", action="store_true", help="skip grep/glob vs ripgrep")
    ap.add_argument("--tree", default=str(Path.home() / ".cargo/registry/src"))
    ap.add_argument("--out", default=str(ROOT / "BENCHMARKS.md"))
    ap.add_argument("--no-sandbox", action="store_true",
                    help="skip the sandbox cost section (sandbox on vs off)")
    ap.add_argument("--sandbox-only", action="store_true",
                    help="measure only the sandbox cost and replace that section of --out, "
                         "leaving the rest of the file as it is")
    ap.add_argument("--sandbox-bench-runs", type=int, default=400,
                    help="spawns per configuration in each sandboxbench repetition")
    ap.add_argument("--sandbox-reps", type=int, default=3, help="sandboxbench repetitions")
    ap.add_argument("--sandbox-shell", default="/bin/bash",
                    help="the shell sandboxbench spawns (corecoder's bash tool runs bash)")
    args = ap.parse_args()
    harness = sandbox_cost.Harness(measure, start_mock, agent_env, OURS, SANDBOXBENCH, median,
                                   fmt_ms)
    commit = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
                            capture_output=True, text=True).stdout.strip() or "unknown"
    if args.sandbox_only:
        shown = f"bench/run.sh {' '.join(shown_args())}".rstrip()
        with tempfile.TemporaryDirectory(prefix="corecoder-bench-") as t:
            lines = sandbox_cost.section(args, harness, Path(t), shown, commit)
        sandbox_cost.splice(args.out, lines)
        print(f"bench: wrote the sandbox cost section of {args.out}", file=sys.stderr)
        return
    python_cc = None
    if args.python_cc and not args.no_python:
        # absolute() rather than resolve(): the venv's bin/python is a symlink out of the venv.
        python_cc = Path(args.python_cc).absolute()
    python_bin = python_cc.parent / "python" if python_cc else None

    report = ["# Benchmarks", "",
              "Generated by `bench/run.sh` (`bench/bench.py`); every figure below is as measured "
              "in the run that wrote this file. Do not edit by hand: rerun.", "",
              "## Machine", ""] + machine() + [
              "", "## Commands", "", "```sh",
              f"bench/run.sh {' '.join(shown_args())}".rstrip(),
              "```", "",
              "`run.sh` builds `target/release/corecoder` and the harness binaries "
              "(`bench/`: `mock-model`, `toolbench`), creates `bench/.venv` with "
              "`corecoder==0.8.0` (the Python original), then runs `bench/bench.py`. Each agent "
              "run is `corecoder --yes -p 'scenario=NAME (benchmark run)'` (the Python original "
              "too) in an empty directory, with a fresh temporary `HOME`, "
              "`OPENAI_BASE_URL` pointing at `mock-model` on 127.0.0.1, `OPENAI_API_KEY=dummy`, "
              "`CORECODER_MODEL=bench`; corecoder runs with its default shell sandbox "
              "(workspace-write, network off; see \"Sandbox cost\"). Each run goes through "
              "`measure` (a small fork/exec/`wait4` "
              "launcher, like GNU time but with microsecond resolution): wall time is fork to "
              "reap; CPU time (user+sys) and peak RSS are the kernel's rusage for the process "
              "and the children it waited for (the bash tool's commands included).", ""]

    with tempfile.TemporaryDirectory(prefix="corecoder-bench-") as t:
        tmp = Path(t)
        if not args.no_agents:
            results, failures, baseline, agents = run_agents(args, python_cc, tmp)
            table, derived, goals, fails, base = agent_tables(results, failures, baseline, agents,
                                                              args.runs)
            report += ["## Agent scenarios", "",
                       f"Medians of {args.runs} runs per figure, ours and the Python original "
                       f"interleaved. For scale: spawning and reaping `true` takes "
                       f"{fmt_ms(base)} here.", "", table, "", derived, "",
                       "Per-round overhead = (rounds20 − hello) / 20; parallel8 tool phase = "
                       "parallel8 − hello; bigcontext RSS growth = bigcontext − hello peak RSS.",
                       "", "### Goals", "", goals, ""]
            if fails:
                report += ["### Runs that did not complete", ""] + fails + [""]
            if not args.no_sandbox:
                shown = "bench/run.sh --sandbox-only" + "".join(
                    f" {a}" for a in shown_args() if a != "--no-sandbox")
                report += sandbox_cost.section(args, harness, tmp, shown, commit)
        if not args.no_tools:
            rows, glob_rows, nfiles = run_tools(args, python_bin, Path(args.tree))
            pyh = " Python grep, caps as shipped (lines) | Python grep, caps lifted (lines) |" \
                if python_bin else ""
            pys = " ---: | ---: |" if python_bin else ""
            report += ["## grep and glob against ripgrep", "",
                       f"Tree: `{args.tree}` ({nfiles} files), page cache warm. Ours is "
                       "`toolbench` (corecoder's `Grep`/`Glob` run once through the `Tool` trait "
                       "with the reply caps lifted, whole process timed); ripgrep is "
                       "`rg -L -n --no-heading [-g INCLUDE] -e PATTERN` / `rg -L --files -g "
                       "PATTERN` in the tree (the same walker rules: gitignore files inside git "
                       "repositories, `.ignore`, hidden entries skipped, symlinks followed). "
                       f"Medians of {args.runs} runs, interleaved; wall time is the goal, CPU "
                       "time (user+sys) is shown because it is steadier on a shared machine. "
                       "\"Same set\" compares the "
                       "`path:line` pairs (grep) or paths (glob).", "",
                       "| search | pattern | include | lines | ours | rg | ours ÷ rg | ≤ 1.5× | "
                       "CPU ours ÷ rg | same set |" + pyh,
                       "| --- | --- | --- | ---: | ---: | ---: | ---: | :---: | ---: | --- |" + pys]
            report += rows + [""]
            if python_bin:
                report += [f"The Python original's grep tool (`GrepTool.execute`, medians of "
                           f"{args.py_grep_runs} runs, in its venv's interpreter): as shipped it "
                           "stops at 200 matching lines or 5000 files; \"caps lifted\" patches "
                           "those two limits only. It applies no gitignore/hidden/binary rules, "
                           "so its line counts differ from rg's by design.", ""]
            report += ["| glob | pattern | files | ours | rg | ours ÷ rg | ≤ 1.5× | CPU ours ÷ rg "
                       "| same set |",
                       "| --- | --- | ---: | ---: | ---: | ---: | :---: | ---: | --- |"]
            report += glob_rows + [""]
    if NOTES.exists():
        report += ["## Notes (hand-written analysis; the figures are in the tables above)", "",
                   NOTES.read_text().strip(), ""]
    Path(args.out).write_text("\n".join(report))
    print(f"bench: wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
