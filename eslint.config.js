// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', '.node24/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // protocol/ is pure: no I/O, no timers, no process, no networking or storage (ARCHITECTURE.md).
    files: ['protocol/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            'node:fs',
            'fs',
            'node:fs/promises',
            'node:net',
            'node:http',
            'node:https',
            'node:child_process',
            'node:worker_threads',
            'level',
            'pino',
            'libp2p',
          ].map((name) => ({ name, message: 'protocol/ must stay pure (no I/O)' })),
          patterns: [
            {
              group: ['@libp2p/*', 'level*', 'pino*'],
              message: 'protocol/ must stay pure (no I/O)',
            },
          ],
        },
      ],
      'no-restricted-globals': ['error', 'process', 'setTimeout', 'setInterval', 'fetch'],
    },
  }
);
