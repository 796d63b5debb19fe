#!/usr/bin/env bash
# Installs the real MCP servers the tests talk to, at pinned versions, into
# target/mcp-servers/ (npm packages under node/, the Python one in a venv under py/).
# The tests start them by absolute path: never `npx -y` or `uvx`, which reach the network on
# every start. Tests that find them missing print "skipped: …" and pass.
#
# Usage: scripts/mcp-test-servers.sh [--install-system]
#   --install-system  also install Debian's nodejs, npm and python3-venv when missing (CI).
set -euo pipefail
cd "$(dirname "$0")/.."

EVERYTHING_VERSION=2026.8.31
FILESYSTEM_VERSION=2026.8.31
TIME_VERSION=2026.10.19

dest="$PWD/target/mcp-servers"
mkdir -p "$dest/node"

if [[ "${1:-}" == "--install-system" ]]; then
  need=()
  command -v node >/dev/null || need+=(nodejs)
  command -v npm >/dev/null || need+=(npm)
  python3 -c 'import ensurepip, venv' 2>/dev/null || need+=(python3-venv)
  if ((${#need[@]})); then
    apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null
  fi
fi

stamp="$dest/versions"
want="everything=$EVERYTHING_VERSION filesystem=$FILESYSTEM_VERSION time=$TIME_VERSION"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" \
      && -x "$dest/node/node_modules/.bin/mcp-server-everything" \
      && -x "$dest/py/bin/mcp-server-time" ]]; then
  echo "mcp-test-servers: already installed ($want)"
  exit 0
fi

(
  cd "$dest/node"
  [[ -f package.json ]] || echo '{"private": true}' > package.json
  npm install --no-audit --no-fund --silent --save-exact \
    "@modelcontextprotocol/server-everything@$EVERYTHING_VERSION" \
    "@modelcontextprotocol/server-filesystem@$FILESYSTEM_VERSION"
)
python3 -m venv "$dest/py"
"$dest/py/bin/pip" install --quiet --disable-pip-version-check "mcp-server-time==$TIME_VERSION"
echo "$want" > "$stamp"
echo "mcp-test-servers: installed into $dest ($want)"
