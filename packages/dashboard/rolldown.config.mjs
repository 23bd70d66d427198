import { defineConfig } from 'rolldown';

/** The page's script: one minified ES module for browsers, everything it imports bundled in. */
export default defineConfig({
  input: 'src/main.ts',
  platform: 'browser',
  output: { file: 'dist/app.js', format: 'esm', minify: true, sourcemap: false },
});
