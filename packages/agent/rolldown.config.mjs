// The agent ships as one ESM file, dist/rhi-agent.mjs, built from tsc's output with its dependencies
// inlined. One file instead of ~300 modules: about 3.5 MB less RSS on Node 24 (fewer module records and
// loader paths; README "Benchmarks"), and faster start. Not minified, so stack traces stay readable.
import { readFileSync } from 'node:fs';
import { URL } from 'node:url';
import { defineConfig } from 'rolldown';

const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));

export default defineConfig({
  input: 'dist/cli/main.js',
  platform: 'node',
  output: { file: 'dist/rhi-agent.mjs', format: 'esm', minify: false },
  // CommonJS dependencies inlined into an ES module have no `__filename`/`__dirname`: write-file-atomic
  // hashes `__filename` into its temporary names, so without these every state write threw a
  // ReferenceError (test/cli.daemons.test.ts).
  // The agent's version is package.json's, written into the bundle (src/cli/version.ts).
  transform: {
    define: {
      __filename: 'import.meta.filename',
      __dirname: 'import.meta.dirname',
      __RHI_AGENT_VERSION__: JSON.stringify(version),
    },
  },
  logLevel: 'warn',
});
