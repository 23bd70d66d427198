import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ViteUserConfig } from 'vitest/config';

const root = dirname(fileURLToPath(import.meta.url));

/** Resolves every `@rhi/<pkg>` import to that package's TypeScript source, so tests never need a build. */
export const sourceAliases = Object.fromEntries(
  readdirSync(join(root, 'packages')).map((name) => [
    `@rhi/${name}`,
    join(root, 'packages', name, 'src', 'index.ts'),
  ]),
);

/** The vitest settings every package shares; a package config spreads this and adds its own. */
export const sharedConfig: ViteUserConfig = {
  resolve: { alias: sourceAliases },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    benchmark: { include: ['bench/**/*.bench.ts'] },
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
};

/**
 * For `vitest bench`: packages are imported by name and resolve to their built `dist/`, loaded by Node
 * itself (externalized) so that timings are those of production code, not of vitest's module runner.
 */
export const benchConfig: ViteUserConfig = {
  test: {
    include: ['bench/**/*.bench.ts'],
    benchmark: { include: ['bench/**/*.bench.ts'] },
    server: { deps: { external: [/\/dist\//] } },
    testTimeout: 600_000,
  },
};
