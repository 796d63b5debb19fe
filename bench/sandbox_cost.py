"""The "Sandbox cost" section of BENCHMARKS.md: what the kernel sandbox of shell commands costs.

Two measurements, both interleaved so the shared machine's noise hits each side alike:
- per command: `sandboxbench RUNS SHELL` (bench/src/bin/sandboxbench.rs) spawns `SHELL -c true`
  unsandboxed and under three sandbox configurations round-robin and prints medians; it runs
  REPS times and every repetition's figures are shown;
- per agent round: corecoder's `hello`, `rounds1` and `rounds20` scenarios with the sandbox on
  (the default, workspace-write with the network off) and off (`--sandbox danger-full-access`),
  on and off alternating within each run, the order flipping from run to run.

The sandbox is prepared on the first shell command of a session, so `rounds1` − `hello` holds
that one-time cost and `rounds20` − `rounds1` does not; the section shows both.

bench.py calls `section`; it passes its own helpers in (`Harness`) rather than this module
importing bench.py, which runs as `__main__`.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import namedtuple
from pathlib import Path

SCENARIOS = ["hello", "rounds1", "rounds20"]
EXPECT = {"hello": "I am the scripted benchmark model",
          "rounds1": "Done: every round ran.",
          "rounds20": "Done: every round ran."}
# How many `bash true` calls each scenario makes; a run counts only if every one of them ran and
# printed corecoder's "(no output)" result line, so a denied or refused command voids it.
BASH_CALLS = {"hello": 0, "rounds1": 1, "rounds20": 20}
RAN = "⎿ (no output)"
MODES = {"on": [], "off": ["--sandbox", "danger-full-access"]}

Harness = namedtuple("Harness", "measure start_mock agent_env ours sandboxbench median fmt_ms")


def loadavg():
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


# ---------------------------------------------------------------- per command: sandboxbench

ROW = re.compile(r"^(.+?)\s+(-?[\d.]+)\s+(-?[\d.]+)\s+([+-][\d.]+)\s+(-?[\d.]+)\s+([+-][\d.]+)$")
PREP = re.compile(r"^(.+?): Prepared::new ([\d.]+) ms, tier (.+), net ns (\w+)$")


def parse_sandboxbench(text):
    """The rows {configuration: (wall, p90, added, cpu, cpu added)} and the Prepared::new
    times {configuration: (ms, tier, net ns)} of one sandboxbench run's output."""
    rows, prep = {}, {}
    for line in text.splitlines():
        m = PREP.match(line)
        if m:
            prep[m.group(1)] = (float(m.group(2)), m.group(3), m.group(4))
            continue
        m = ROW.match(line)
        if m and not line.startswith("configuration"):
            rows[m.group(1).strip()] = tuple(float(m.group(i)) for i in range(2, 7))
    return rows, prep


def run_sandboxbench(h, runs, shell, reps):
    outs = []
    for rep in range(reps):
        p = subprocess.run([str(h.sandboxbench), str(runs), shell], capture_output=True,
                           text=True)
        if p.returncode != 0:
            sys.exit(f"bench: sandboxbench failed: {p.stderr.strip()[-500:]}")
        rows, prep = parse_sandboxbench(p.stdout)
        if len(rows) < 2:
            sys.exit(f"bench: sandboxbench printed no table:\n{p.stdout}")
        outs.append((rows, prep))
        print(f"sandboxbench repetition {rep + 1}/{reps} done", file=sys.stderr)
    return outs


def per_command_table(outs):
    names = list(outs[0][0])
    three = lambda vals: " / ".join(f"{v:.3f}" for v in vals)  # noqa: E731
    lines = ["| configuration | wall median | p90 | added wall | child CPU | added CPU |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for n in names:
        cols = [[rows[n][k] for rows, _ in outs] for k in range(5)]
        added = lambda vals: " / ".join(f"{v:+.3f}" for v in vals)  # noqa: E731
        lines.append(f"| {n} | {three(cols[0])} | {three(cols[1])} | {added(cols[2])} | "
                     f"{three(cols[3])} | {added(cols[4])} |")
    prep_lines = ["| configuration | tier | net ns | `Prepared::new` (ms, per repetition) |",
                  "| --- | --- | --- | ---: |"]
    for n in outs[0][1]:
        ms = " / ".join(f"{prep[n][0]:.2f}" for _, prep in outs)
        _, tier, netns = outs[0][1][n]
        prep_lines.append(f"| {n} | {tier} | {netns} | {ms} |")
    return "\n".join(lines), "\n".join(prep_lines)


# ---------------------------------------------------------------- per round: the agent


def run_agent(h, runs, tmp):
    work = tmp / "sandbox-work"
    work.mkdir()
    proc, url = h.start_mock(tmp)
    results = {(s, m): [] for s in SCENARIOS for m in MODES}
    failures = {}
    try:
        for i in range(runs):
            for scenario in SCENARIOS:
                order = list(MODES) if i % 2 == 0 else list(reversed(MODES))
                for mode in order:
                    home = Path(tempfile.mkdtemp(prefix="home-", dir=tmp))
                    # --yes: a one-shot run denies bash otherwise (nobody can be asked).
                    argv = [str(h.ours), "--yes"] + MODES[mode] + [
                        "-p", f"scenario={scenario} (benchmark run)"]
                    r = h.measure(argv, h.agent_env(url, home), work)
                    shutil.rmtree(home, ignore_errors=True)
                    ok = (r.code == 0 and EXPECT[scenario] in r.out
                          and r.err.count(RAN) == BASH_CALLS[scenario])
                    if ok:
                        results[(scenario, mode)].append(r)
                    else:
                        tail = (r.err.strip() or r.out.strip()).splitlines()[-3:]
                        failures[(scenario, mode)] = f"exit {r.code}: " + " / ".join(tail)
                    print(f"sandbox run {i + 1}/{runs} {scenario:9} {mode:3} "
                          f"{r.wall * 1000:8.1f} ms  cpu {r.cpu * 1000:7.1f} ms  "
                          f"{'ok' if ok else 'FAILED'}", file=sys.stderr)
    finally:
        proc.kill()
        proc.wait()
    return results, failures


FIRST = "first round, rounds1 − hello"
LATER = "per-round overhead after the first, (rounds20 − rounds1) / 19"
ALL = "per-round overhead, (rounds20 − hello) / 20"


def per_run(results, runs, mode, attr):
    """Each run's figures {name: value} of one mode, including the derived ones; None when a
    run of that mode failed (a failed run voids the figure rather than a median of survivors,
    and the runs must stay paired with the other mode's)."""
    if any(len(results[(s, mode)]) != runs for s in SCENARIOS):
        return None
    out = []
    for i in range(runs):
        g = {s: getattr(results[(s, mode)][i], attr) for s in SCENARIOS}
        g[ALL] = (g["rounds20"] - g["hello"]) / 20
        g[LATER] = (g["rounds20"] - g["rounds1"]) / 19
        g[FIRST] = g["rounds1"] - g["hello"]
        out.append(g)
    return out


def agent_tables(h, results, runs):
    def fmt(v, signed=False):
        if v is None:
            return "did not complete"
        return f"{v * 1000:+.2f} ms" if signed else f"{v * 1000:.2f} ms"

    runs_of = {(m, a): per_run(results, runs, m, a) for m in MODES for a in ("wall", "cpu")}

    def med(mode, attr, name):
        rs = runs_of[(mode, attr)]
        return None if rs is None else h.median([r[name] for r in rs])

    def paired(attr, name):
        """The median of the runs' on − off differences: each pair ran back to back, so this
        cancels the machine's slower drifts that a difference of two medians keeps."""
        on, off = runs_of[("on", attr)], runs_of[("off", attr)]
        if on is None or off is None:
            return None
        return h.median([a[name] - b[name] for a, b in zip(on, off)])

    lines = ["| scenario | figure | sandbox on | sandbox off | on − off (paired) |",
             "| --- | --- | ---: | ---: | ---: |"]
    for s in SCENARIOS:
        for attr, label in [("wall", "wall"), ("cpu", "CPU (user+sys)")]:
            lines.append(f"| `{s}` | {label} | {fmt(med('on', attr, s))} | "
                         f"{fmt(med('off', attr, s))} | {fmt(paired(attr, s), True)} |")

    dl = ["| derived figure | wall on | wall off | wall on − off (paired) | CPU on | CPU off | "
          "CPU on − off (paired) |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for k in (ALL, LATER, FIRST):
        cells = []
        for a in ("wall", "cpu"):
            cells += [fmt(med("on", a, k)), fmt(med("off", a, k)), fmt(paired(a, k), True)]
        dl.append(f"| {k} | " + " | ".join(cells) + " |")
    once = []
    for a in ("wall", "cpu"):
        on, off = runs_of[("on", a)], runs_of[("off", a)]
        once.append(None if on is None or off is None else h.median(
            [(x[FIRST] - y[FIRST]) - (x[LATER] - y[LATER]) for x, y in zip(on, off)]))
    dl.append(f"| one-time cost of the sandbox: first-round difference − later-round "
              f"difference | | | {fmt(once[0], True)} | | | {fmt(once[1], True)} |")
    return "\n".join(lines), "\n".join(dl)


# ---------------------------------------------------------------- the section


def section(args, h, tmp, shown_command, commit):
    load_before = loadavg()
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    outs = run_sandboxbench(h, args.sandbox_bench_runs, args.sandbox_shell, args.sandbox_reps)
    cmd_table, prep_table = per_command_table(outs)
    results, failures = run_agent(h, args.runs, tmp)
    table, derived = agent_tables(h, results, args.runs)
    load_after = loadavg()
    out = [
        "## Sandbox cost", "",
        f"Measured {started} at corecoder commit {commit}, on the machine above (2 cores shared "
        f"with other jobs: load average {load_before} at the start, {load_after} at the end; "
        "the 1, 5 and 15 minute figures). Regenerate this section alone, leaving the rest of "
        "the file as it is, with:", "", "```sh", shown_command, "```", "",
        "(a full `bench/run.sh` writes it too.) Every shell command corecoder runs goes "
        "through the kernel sandbox (Landlock + seccomp + mount and network namespaces, "
        "`src/sandbox/`) unless the session runs with `--sandbox danger-full-access`; the "
        "sandbox is prepared on the session's first shell command.", "",
        "### Per command", "",
        f"`sandboxbench {args.sandbox_bench_runs} {args.sandbox_shell}` "
        f"(`bench/src/bin/sandboxbench.rs`), {args.sandbox_reps} repetitions, figures "
        "in ms, one per repetition (separated by /): each repetition spawns `"
        f"{args.sandbox_shell} -c true` {args.sandbox_bench_runs} times per configuration, "
        "round-robin across the configurations (after 20 uncounted warm-up rounds), and "
        "reports the median and 90th percentile of spawn-to-reap wall time, the median CPU "
        "time (user+sys) of the child, and the medians' difference from the unsandboxed "
        "spawn. The last row is what corecoder applies by default.", "",
        cmd_table, "",
        "The one-off preparation (`Prepared::new`: Landlock ruleset, seccomp program, a probe "
        "fork that finds the tier this machine supports), which corecoder pays once per "
        "session:", "", prep_table, "",
        "### Per agent round", "",
        f"Medians of {args.runs} runs of `corecoder --yes -p 'scenario=NAME (benchmark run)'` "
        "(as in the agent scenarios; a run counts only if each `bash true` ran) with the "
        "sandbox on (default: workspace-write, network off) and "
        "off (`--sandbox danger-full-access`), interleaved. `roundsN` is N rounds of one "
        "`bash true` each; wall time and CPU time (user+sys, corecoder and its shells) as "
        "measured by `measure`.", "",
        table, "", derived, "",
        "\"On − off (paired)\" is the median over the runs of each run's on − off difference "
        "(the two ran back to back), not the difference of the two medians beside it. The "
        "one-time row is the session's first shell command's cost beyond that of a later "
        "sandboxed command, i.e. preparing the sandbox; as a difference of differences it is "
        "a rough figure on this noisy machine (the `Prepared::new` table above times that "
        "step directly).", ""]
    if failures:
        out += ["Runs that did not complete:", ""]
        out += [f"- `{s}` sandbox {m}: {msg}" for (s, m), msg in sorted(failures.items())] + [""]
    return out


def splice(path, lines):
    """Replaces the `## Sandbox cost` section of the file at `path` with `lines` (or inserts it
    before the grep/glob section, else the notes, else at the end); the rest stays as it is."""
    text = Path(path).read_text()
    new = "\n".join(lines).rstrip("\n") + "\n\n"
    start = text.find("## Sandbox cost\n")
    if start >= 0:
        end = text.find("\n## ", start + 1)
        end = len(text) if end < 0 else end + 1
        text = text[:start] + new + text[end:]
    else:
        for heading in ("## grep and glob against ripgrep\n", "## Notes"):
            at = text.find(heading)
            if at >= 0:
                text = text[:at] + new + text[at:]
                break
        else:
            text = text.rstrip("\n") + "\n\n" + new
    tmp = f"{path}.tmp-{os.getpid()}"
    Path(tmp).write_text(text)
    os.replace(tmp, path)
