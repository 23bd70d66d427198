#!/usr/bin/env node
import process from 'node:process';

let main;
try {
  ({ main } = await import('../dist/rhictl.mjs'));
} catch (err) {
  if (err?.code !== 'ERR_MODULE_NOT_FOUND') throw err;
  process.stderr.write(
    'rhictl: @rhi/controller is not built yet; run `scripts/setup.sh` (or `nx run @rhi/controller:build`) first\n',
  );
  process.exit(2);
}
process.exitCode = await main(process.argv.slice(2));
