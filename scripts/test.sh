#!/usr/bin/env bash
# The whole test suite, from a fresh Debian/Ubuntu machine: set-up (idempotent), then formatting, lint,
# types, build and every test, unit and real-daemon integration (haproxy, bird2, nats-server).
# Exits non-zero on any failure. Under CI=true (and with RHI_SKIP_CACHE=true) nothing is taken from nx's
# cache: every test really runs.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bash "$RHI_ROOT/scripts/setup.sh"
cd "$RHI_ROOT"
log "prettier --check"
prettier --check . --log-level warn
log "eslint scripts"
eslint scripts
log "nx run-many -t lint typecheck build test"
nx run-many -t lint typecheck build test --output-style=static --skip-nx-cache="${RHI_SKIP_CACHE:-${CI:-false}}"
log "all checks passed"
