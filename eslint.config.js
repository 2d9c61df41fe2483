import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// The layers and the arrows allowed between them (docs/architecture.md):
//   contract <- core <- browser, node <- cli;   contract <- mixin <- cli;   scripts import no test code.
// A layer may import its own files, the layers below it, and packages.
const message = 'this import crosses the layers of docs/architecture.md';
const layer = (forbidden) => ({
  'no-restricted-imports': ['error', { patterns: forbidden.map((group) => ({ group: [group], message })) }],
});

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    // Pure data and pure functions: imports nothing but itself.
    files: ['src/contract/**/*.ts'],
    languageOptions: { globals: {} },
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ regex: '^(?!\\./)', message }] }],
      'no-restricted-globals': ['error', 'process', 'Buffer', '__dirname', 'require', 'window', 'document'],
    },
  },
  {
    // The isomorphic core runs in browsers: no Node built-ins, no process.
    files: ['src/core/**/*.ts'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      ...layer(['node:*', '**/node/**', '**/cli/**', '**/browser/**', '**/mixin/**', 'pg', '@electric-sql/*']),
      'no-restricted-globals': ['error', 'process', 'Buffer', '__dirname', 'require'],
    },
  },
  {
    files: ['src/browser/**/*.ts'],
    languageOptions: { globals: { ...globals.browser } },
    rules: layer(['node:*', '**/node/**', '**/cli/**', '**/mixin/**', 'pg', '@electric-sql/*']),
  },
  {
    files: ['src/node/**/*.ts'],
    rules: layer(['**/cli/**', '**/browser/**', '**/mixin/**']),
  },
  {
    // The monitoring mixin renders files from the contract and a user's config.
    files: ['src/mixin/**/*.ts'],
    rules: layer(['**/core/**', '**/node/**', '**/cli/**', '**/browser/**']),
  },
  {
    files: ['src/cli/**/*.ts'],
    rules: layer(['**/browser/**', '**/commands/*-command.ts']),
  },
  {
    // A command registers itself; it never reaches into another command.
    files: ['src/cli/run-cli.ts'],
    rules: layer(['**/browser/**']),
  },
  {
    files: ['scripts/**/*.ts'],
    rules: layer(['**/test/**']),
  },
);
