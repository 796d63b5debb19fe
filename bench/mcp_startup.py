#!/usr/bin/env python3
"""What MCP servers cost a one-shot run: time to the answer (the first prompt's latency) and
to the process's exit, with no servers and with the three real test servers
(server-everything, server-filesystem, mcp-server-time; `scripts/mcp-test-servers.sh`).

Usage: bench/mcp_startup.py CORECODER MOCK_MODEL [RUNS]
(MCP_BARE_ONLY=1: only the run without servers, for a binary that predates MCP.)
Prints the median and range of each figure, in milliseconds.
"""
import os
import statistics
import subprocess
import sys
import tempfile
import time

corecoder, mock_model = sys.argv[1], sys.argv[2]
runs = int(sys.argv[3]) if len(sys.argv) > 3 else 9
root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "target", "mcp-servers")
root = os.path.abspath(root)
servers = f"""
[mcp_servers.everything]
command = "{root}/node/node_modules/.bin/mcp-server-everything"
[mcp_servers.fs]
command = "{root}/node/node_modules/.bin/mcp-server-filesystem"
args = ["."]
[mcp_servers.time]
command = "{root}/py/bin/mcp-server-time"
"""

model = subprocess.Popen([mock_model], stdout=subprocess.PIPE, text=True)
base_url = model.stdout.readline().strip()


def one(home):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "CORECODER_"))}
    env.update(HOME=home, OPENAI_BASE_URL=base_url, NO_COLOR="1")
    start = time.monotonic()
    p = subprocess.Popen([corecoder, "-p", "scenario=hello"], cwd=home, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    p.stdout.readline()
    answer = time.monotonic() - start
    p.wait()
    return answer * 1000, (time.monotonic() - start) * 1000


def show(name, samples):
    for i, what in enumerate(["answer", "exit"]):
        xs = sorted(s[i] for s in samples)
        print(f"{name:<14} {what:<7} median {statistics.median(xs):7.1f} ms  "
              f"(min {xs[0]:.1f}, max {xs[-1]:.1f}, n={len(xs)})")


try:
    with tempfile.TemporaryDirectory() as bare, tempfile.TemporaryDirectory() as withs:
        os.makedirs(os.path.join(withs, ".config/corecoder"))
        with open(os.path.join(withs, ".config/corecoder/config.toml"), "w") as f:
            f.write(servers)
        results = {"no servers": [], "3 servers": []}
        # Interleaved, so drift in the machine's load hits both alike.
        for _ in range(runs):
            results["no servers"].append(one(bare))
            if not os.environ.get("MCP_BARE_ONLY"):
                results["3 servers"].append(one(withs))
        for name, samples in results.items():
            if samples:
                show(name, samples)
finally:
    model.kill()
