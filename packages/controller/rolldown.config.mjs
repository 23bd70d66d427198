// The controller ships as two ESM files, dist/rhi-controller.mjs and dist/rhictl.mjs, built from tsc's
// output with their dependencies inlined (fastify, pino, prom-client, nats.js, zod, yaml): an install is
// these two files and their launchers, no node_modules (packaging/install.sh). Not minified, so stack
// traces stay readable.
import { defineConfig } from 'rolldown';

const command = (input, file) => ({
  input,
  platform: 'node',
  output: { file, format: 'esm', minify: false },
  // CommonJS dependencies inlined into an ES module have no `__filename`/`__dirname`.
  transform: { define: { __filename: 'import.meta.filename', __dirname: 'import.meta.dirname' } },
  logLevel: 'warn',
});

export default defineConfig([
  command('dist/main.js', 'dist/rhi-controller.mjs'),
  command('dist/cli/rhictl.js', 'dist/rhictl.mjs'),
]);
