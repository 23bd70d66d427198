# Sourced by the other scripts: puts the project's Node 24 first on PATH and sets quiet, offline-safe defaults.
# Node 24 LTS comes from the npm registry package node-linux-<arch> (a binary inside a registry package),
# unpacked under .tools/; the version is pinned in .node-version.
# Strict mode for the scripts only: an operator who sources this in an interactive shell keeps their own
# options (with `set -e` there, any failing command would close the shell).
case $- in
  *i*) ;;
  *) set -euo pipefail ;;
esac
RHI_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RHI_NODE_VERSION="$(tr -d ' \n' <"$RHI_ROOT/.node-version")"
RHI_NODE_DIR="$RHI_ROOT/.tools/node-v$RHI_NODE_VERSION"
export PATH="$RHI_NODE_DIR/bin:$RHI_ROOT/node_modules/.bin:$PATH"
export npm_config_nodedir="$RHI_NODE_DIR"
export NX_DAEMON="${NX_DAEMON:-false}" NX_NO_CLOUD=true NX_TUI=false NX_SKIP_NX_CACHE_WARNING=true
export NX_INTERACTIVE=false
log() { printf '\033[1;34m[rhi]\033[0m %s\n' "$*" >&2; }
