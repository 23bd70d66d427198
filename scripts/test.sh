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
# vitest's json reports, so that a failure is named again at the end of the output (a CI log's tail).
if [[ -z "${RHI_TEST_REPORT_DIR:-}" ]]; then
  RHI_TEST_REPORT_DIR="$(mktemp -d -t rhi-test-reports.XXXXXX)"
  export RHI_TEST_REPORT_DIR
fi
rc=0
nx run-many -t lint typecheck build test --output-style=static --skip-nx-cache="${RHI_SKIP_CACHE:-${CI:-false}}" || rc=$?
if ((rc != 0)); then
  log "failed: the tests below (vitest reports in $RHI_TEST_REPORT_DIR), or a step above"
  node "$RHI_ROOT/scripts/failed-tests.mjs" "$RHI_TEST_REPORT_DIR" || true
  exit "$rc"
fi
log "all checks passed"
