#!/usr/bin/env bash
# Flake guard: runs the whole test suite (scripts/test.sh, the README's test command, under CI=true so
# that nothing comes from nx's cache) N times in a row, or a narrower command given after `--`, and
# prints which tests failed in how many runs, with each run's result, duration and test count.
# Per-test results come from vitest's json reporter (vitest.shared.ts adds it when RHI_TEST_REPORT_DIR
# is set); failures outside vitest (prettier, eslint, typecheck, build, a crashed vitest) come from nx's
# "Failed tasks" list and test.sh's phases, so a run that failed anywhere shows in the table.
# Everything is kept under .soak/<timestamp>/: run-<i>.log (full output), run-<i>/ (vitest reports),
# summary.md (the tables, in markdown). Exits non-zero if any run failed.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$RHI_ROOT"

usage() {
  cat <<'EOF'
usage: scripts/soak-tests.sh [options] N [-- command...]

Runs the whole test suite (scripts/test.sh, with CI=true: nothing from nx's cache) N times in a row,
then prints the failures by test (package, file, test, in how many runs) and each run's result,
duration and number of tests. Runs keep going after a failed run. Set-up (scripts/setup.sh) runs once
first. Logs, vitest reports and summary.md go to .soak/<timestamp>/. Exits 1 if any run failed.

  N               number of runs (a positive integer)
  -- command...   soak this command instead of scripts/test.sh; nx's cache is skipped for it too
                  (NX_SKIP_NX_CACHE=true), e.g.
                    scripts/soak-tests.sh 20 -- nx run @rhi/haproxy-client:test
  --fail-fast     stop after the first failed run
  --keep-going    run all N runs whatever fails (the default)
  -v, --verbose   also show each run's output as it runs (it is always in run-<i>.log)
  -h, --help      this message

Before landing a change to a real-daemon test: scripts/soak-tests.sh 3
EOF
}

bad_usage() {
  echo "soak-tests: $*" >&2
  usage >&2
  exit 2
}

# The summaries (scripts/soak-summary.mjs): `summarize line <i>` is run <i>'s one-line result;
# `summarize all` prints the tables and writes summary.md. Both read $dir (runs.tsv, run-<i>.log,
# run-<i>/*.json, the vitest reports).
summarize() {
  node "$RHI_ROOT/scripts/soak-summary.mjs" "$dir" "$@"
}

runs=""
fail_fast=0
verbose=0
cmd=()
while [ "$#" -gt 0 ]; do
  case "$1" in
    -h | --help)
      usage
      exit 0
      ;;
    --fail-fast) fail_fast=1 ;;
    --keep-going) fail_fast=0 ;;
    -v | --verbose) verbose=1 ;;
    --)
      shift
      [ "$#" -gt 0 ] || bad_usage "no command after --"
      cmd=("$@")
      break
      ;;
    -*) bad_usage "unknown option $1" ;;
    *)
      [ -z "$runs" ] || bad_usage "unexpected argument $1 (a command goes after --)"
      [[ "$1" =~ ^[1-9][0-9]*$ ]] || bad_usage "N must be a positive integer, not '$1'"
      runs="$1"
      ;;
  esac
  shift
done
[ -n "$runs" ] || bad_usage "missing N, the number of runs"

if [ "${#cmd[@]}" -eq 0 ]; then
  cmd=(bash scripts/test.sh)
  label="scripts/test.sh"
else
  label="${cmd[*]}"
  # scripts/test.sh passes --skip-nx-cache itself under CI=true; a narrower nx command must skip the
  # cache too, or a run would replay the cached result (and write no vitest report).
  export NX_SKIP_NX_CACHE=true
fi
export CI=true RHI_SKIP_CACHE=true

mkdir -p .soak
stamp="$(date +%Y%m%d-%H%M%S)"
dir=".soak/$stamp"
n=1
until mkdir "$dir" 2>/dev/null; do
  n=$((n + 1))
  dir=".soak/$stamp-$n"
done
ln -sfn "$(basename "$dir")" .soak/latest
abs_dir="$RHI_ROOT/$dir"
printf '%s\n' "$label" >"$dir/command"
printf '%s\n' "$runs" >"$dir/planned"
commit="commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [ -n "$(git --no-optional-locks status --porcelain 2>/dev/null | head -1)" ]; then
  commit="$commit with uncommitted changes"
fi
printf '%s\n' "$commit" >"$dir/commit"
: >"$dir/runs.tsv"

# Set-up once, so that N runs of scripts/test.sh find it done (its own call to setup.sh is then a
# no-op of a few seconds) and a failed set-up stops here instead of failing every run.
log "set-up (once): scripts/setup.sh"
bash scripts/setup.sh

interrupted=0
trap 'interrupted=1' INT

log "soaking: $runs run(s) of $label; logs in $dir/"
failed_runs=0
for ((i = 1; i <= runs; i++)); do
  run_log="$dir/run-$i.log"
  mkdir -p "$dir/run-$i"
  log "run $i/$runs: $label > $run_log"
  start_ms="$(date +%s%3N)"
  rc=0
  if [ "$verbose" = 1 ]; then
    RHI_TEST_REPORT_DIR="$abs_dir/run-$i" "${cmd[@]}" </dev/null 2>&1 | tee "$run_log" || rc=$?
  else
    RHI_TEST_REPORT_DIR="$abs_dir/run-$i" "${cmd[@]}" </dev/null >"$run_log" 2>&1 || rc=$?
  fi
  end_ms="$(date +%s%3N)"
  if [ "$interrupted" = 1 ]; then
    log "run $i interrupted: it is left out of the summary"
    break
  fi
  printf '%s\t%s\t%s\n' "$i" "$rc" "$((end_ms - start_ms))" >>"$dir/runs.tsv"
  summarize line "$i" | while IFS= read -r line; do log "run $i/$runs: $line"; done || true
  if [ "$rc" -ne 0 ]; then
    failed_runs=$((failed_runs + 1))
    if [ "$fail_fast" = 1 ] && [ "$i" -lt "$runs" ]; then
      log "--fail-fast: stopping after the first failed run"
      break
    fi
  fi
done
trap - INT

if [ ! -s "$dir/runs.tsv" ]; then
  log "no run completed"
  exit 130
fi
echo
summarize all
if [ "$interrupted" = 1 ]; then exit 130; fi
if [ "$failed_runs" -gt 0 ]; then exit 1; fi
