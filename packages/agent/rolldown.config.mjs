// The agent ships as one ESM file, dist/rhi-agent.mjs, built from tsc's output with its dependencies
// inlined. One file instead of ~300 modules: about 3.5 MB less RSS on Node 24 (fewer module records and
// loader paths; README "Benchmarks"), and faster start. Not minified, so stack traces stay readable.
import { defineConfig } from 'rolldown';

export default defineConfig({
  input: 'dist/cli/main.js',
  platform: 'node',
  output: { file: 'dist/rhi-agent.mjs', format: 'esm', minify: false },
  // CommonJS dependencies inlined into an ES module have no `__filename`/`__dirname`: write-file-atomic
  // hashes `__filename` into its temporary names, so without these every state write threw a
  // ReferenceError (test/cli.daemons.test.ts).
  transform: { define: { __filename: 'import.meta.filename', __dirname: 'import.meta.dirname' } },
  logLevel: 'warn',
});
