// Lint: TypeScript's recommended rules, plus the boundary rules of the product:
// only agent/core knows etcd key names (see agent/core/keys.ts).
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'release/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    // Process boundaries: the renderer is a web page (no Node, no Electron), and the
    // services run in plain Node (never Electron); only electron/main and the preload may.
    files: ['renderer/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-globals': [
        'error',
        { name: 'Buffer', message: 'the renderer is a web page: use Uint8Array, TextEncoder, atob' },
        { name: 'process', message: 'the renderer is a web page: there is no process' },
      ],
      'no-restricted-imports': [
        'error',
        {
          paths: ['electron', 'fs', 'path', 'child_process', 'os', 'crypto', 'net', 'http'].map((name) => ({
            name,
            message: 'the renderer runs in a browser sandbox: use the contract',
          })),
          patterns: [
            { group: ['node:*'], message: 'the renderer runs in a browser sandbox: use the contract' },
            {
              group: ['**/agent/**', '**/electron/services/**', '**/electron/main/**'],
              message: 'the renderer reaches data only through the contract (electron/common)',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['electron/services/**/*.ts', 'electron/common/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'electron',
              message: 'services run in Node alone; only electron/main and electron/preload import electron',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['scripts/**/*.js', 'bin/**'],
    languageOptions: {
      globals: {
        require: 'readonly',
        module: 'writable',
        process: 'readonly',
        __dirname: 'readonly',
        console: 'readonly',
      },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
