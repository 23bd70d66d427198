#!/usr/bin/env node
import process from 'node:process';

const load = async () => {
  try {
    return await Promise.all([import('../dist/cli/main.js'), import('../dist/cli/io.js')]);
  } catch (err) {
    if (err?.code !== 'ERR_MODULE_NOT_FOUND') throw err;
    process.stderr.write(
      'rhi-rules: @rhi/rules-dsl is not built yet; run `scripts/setup.sh` (or `nx run @rhi/rules-dsl:build`) first\n',
    );
    process.exit(2);
  }
};

const [{ main }, { processIO }] = await load();
process.exitCode = main(process.argv.slice(2), processIO);
