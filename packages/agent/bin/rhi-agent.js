#!/usr/bin/env -S node --max-opt=2
// --max-opt=2: V8 optimizes up to Maglev, never TurboFan. The agent's per-event work is small, and
// TurboFan's code alone is about 5 MB of RSS (README "Benchmarks"). V8 takes this flag only on the
// command line (not in NODE_OPTIONS, not at run time), hence the shebang.
import process from 'node:process';

let main;
try {
  ({ main } = await import('../dist/rhi-agent.mjs'));
} catch (err) {
  if (err?.code !== 'ERR_MODULE_NOT_FOUND') throw err;
  process.stderr.write(
    'rhi-agent: @rhi/agent is not built yet; run `scripts/setup.sh` (or `nx run @rhi/agent:build`) first\n',
  );
  process.exit(2);
}
process.exitCode = await main(process.argv.slice(2));
