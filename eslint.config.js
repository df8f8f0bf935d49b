import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.cartlens/', 'scratch/', 'test/golden/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly', setTimeout: 'readonly', NodeJS: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
    },
  },
  {
    // CommonJS test helpers preloaded with `node --require`.
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly' } },
  },
  {
    // Models and dialects produce SQL text only: no database library, no I/O (Malloy's rule).
    files: ['src/models/template.ts', 'src/models/compile.ts', 'src/warehouse/**/*-dialect.ts', 'src/warehouse/dialect.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['@duckdb/*', '@google-cloud/*', 'node:fs*', 'node:child_process'], message: 'models and dialects only produce SQL text' }] }],
    },
  },
);
