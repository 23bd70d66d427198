#!/usr/bin/env bash
# The main job, from a fresh Debian/Ubuntu machine: set-up (idempotent), build, then a tour of the rules
# language on the example files: lint, evaluate against a healthy and a degraded HAProxy state, explain.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bash "$RHI_ROOT/scripts/setup.sh"
cd "$RHI_ROOT"
nx run @rhi/rules-dsl:build --output-style=static >/dev/null
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@" || true; }
step rhi-rules lint examples/hapee-rhi.cfg examples/rules.cfg
step rhi-rules eval examples/rules.cfg --state examples/state-healthy.json
step rhi-rules eval examples/rules.cfg --state examples/state-degraded.json
step rhi-rules explain examples/rules.cfg --state examples/state-degraded.json --prefix 198.18.201.0/24
step rhi-rules eval examples/hapee-rhi.cfg --state examples/state-degraded.json --json
printf '\n\033[1mA rules file with mistakes: every error at once, with its place.\033[0m\n'
bad="$(mktemp --suffix=.cfg)"
trap 'rm -f "$bad"' EXIT
cat >"$bad" <<'RULES'
198.18.200.1/24 = all(b:be_static,b:be_app)
vol2%198.18.200.5 = alll(b:k8s_servers)
198.18.200.6 = any()
198.18.200.7 = all(b:be_app>=150%)
198.18.200.8 = all(x:be_app)
RULES
step rhi-rules lint "$bad"

printf '\n\033[1mLive: one rhi node with real HAProxy, BIRD and a router BIRD (loopback only)\033[0m\n'
nx run-many -t build -p @rhi/agent @rhi/test-support --output-style=static >/dev/null
node "$RHI_ROOT/scripts/live-demo.mjs"
