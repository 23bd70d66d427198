import js from '@eslint/js';
import nx from '@nx/eslint-plugin';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

const ioModules = [
  'node:net',
  'node:fs',
  'node:fs/promises',
  'node:child_process',
  'node:dgram',
  'node:http',
  'node:https',
  'node:timers',
  'node:timers/promises',
  'pino',
  '@nats-io/*',
  '@rhi/test-support',
];

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/.tools/**', '**/.nx/**', '**/coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    plugins: { '@nx': nx },
    // bench/ is left out: benchmarks import their own package by name, to time the built code.
    files: ['packages/*/{src,test}/**/*.ts', 'e2e/{src,test}/**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [
            { sourceTag: 'type:testing', onlyDependOnLibsWithTags: [] },
            { sourceTag: 'type:core', onlyDependOnLibsWithTags: ['type:core', 'type:testing'] },
            { sourceTag: 'type:client', onlyDependOnLibsWithTags: ['type:core', 'type:testing'] },
            { sourceTag: 'type:ui', onlyDependOnLibsWithTags: ['type:core'] },
            {
              sourceTag: 'type:app',
              onlyDependOnLibsWithTags: ['type:ui', 'type:client', 'type:core', 'type:testing'],
            },
            {
              sourceTag: 'type:e2e',
              onlyDependOnLibsWithTags: ['type:app', 'type:client', 'type:core', 'type:testing'],
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.property.name='only']",
          message: 'Focused tests (.only) are not allowed.',
        },
      ],
    },
  },
  {
    // Test harnesses are for tests: no package's shipped code may import them.
    files: ['packages/*/src/**/*.ts'],
    ignores: ['**/*.test.ts', 'packages/test-support/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: [{ name: '@rhi/test-support', message: 'Test harnesses are for tests only.' }] },
      ],
    },
  },
  {
    // The pure core: no sockets, files, timers or loggers. The rules CLI is its only I/O shell.
    files: ['packages/rules-dsl/src/**/*.ts', 'packages/contracts/src/**/*.ts'],
    ignores: ['packages/rules-dsl/src/cli/**', '**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ioModules, message: 'Core packages are pure: no I/O imports.' }] },
      ],
    },
  },
  {
    files: ['scripts/**/*.mjs', 'packages/*/bin/*.js'],
    languageOptions: { globals: { console: 'readonly', process: 'readonly', URL: 'readonly' } },
  },
  prettier,
);
