// Lint: TypeScript's recommended rules, plus the layering rules of the product (ARCHITECTURE.md):
// - only agent/core/keys.ts spells an etcd key;
// - agent/** imports neither electron/** nor renderer/**;
// - the renderer is a web page that reaches data only through the contract;
// - the console's server (agent/console/server) never imports electron or electron/main.
import tseslint from 'typescript-eslint';

// The first segment of every key in the layout (agent/core/keys.ts), and the keys that are a bare name.
const KEY_PREFIXES =
  'jobs|cursors|assign|nodes|members|cordons|runs|active|triggers|logs|sem|completions|alerts|clocks|skews';
const KEY_NAMES = 'leader|leader-beat|alerting';
const KEY_MESSAGE = 'only agent/core/keys.ts spells an etcd key: use keys.*';
// A string or template that starts like a key. Bare names ('leader' is also a record kind and a
// label) are flagged only where they are handed to an etcd call or a mirror, as a key would be.
const ETCD_CALLS = 'get|getAll|put|delete|key|prefix|if|and|watch|range|lease|election';
const keySpelling = [
  { selector: `Literal[value=/^(${KEY_PREFIXES})\\//]`, message: KEY_MESSAGE },
  {
    selector: `TemplateLiteral > TemplateElement:first-child[value.raw=/^(${KEY_PREFIXES})\\//]`,
    message: KEY_MESSAGE,
  },
  {
    selector: `CallExpression[callee.property.name=/^(${ETCD_CALLS})$/] > Literal.arguments[value=/^(${KEY_NAMES})$/]`,
    message: KEY_MESSAGE,
  },
  {
    selector: `NewExpression[callee.name='PrefixMirror'] > Literal.arguments[value=/^(${KEY_NAMES})$/]`,
    message: KEY_MESSAGE,
  },
];
// Dynamic imports and require() of the desktop folders (no-restricted-imports sees static imports only).
const DESKTOP_PATH = '/(^|\\/)(electron|renderer)(\\/|$)/';
const agentReachesDesktop = (allowed) => ({
  selector: ['ImportExpression', "CallExpression[callee.name='require']"]
    .map((call) => `${call} > Literal[value=${DESKTOP_PATH}]${allowed ? `:not([value='${allowed}'])` : ''}`)
    .join(', '),
  message: 'agent code runs on servers: it imports nothing from electron/ or renderer/',
});

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'release/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    // Only keys.ts spells a key. Tests may spell keys to check the layout from outside.
    files: ['agent/**/*.ts', 'electron/**/*.ts', 'renderer/**/*.{ts,tsx}'],
    ignores: ['agent/core/keys.ts'],
    rules: { 'no-restricted-syntax': ['error', ...keySpelling] },
  },
  {
    files: ['agent/**/*.ts'],
    ignores: ['agent/core/keys.ts'],
    rules: {
      'no-restricted-syntax': ['error', ...keySpelling, agentReachesDesktop()],
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/electron/**', '**/renderer/**', 'electron'],
              message: 'agent code runs on servers: it imports nothing from electron/ or renderer/',
            },
          ],
        },
      ],
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
              regex: '(^|/)(agent/(?!console/contract(/|$))|electron(/|$))',
              message: 'the renderer reaches data only through the contract (agent/console/contract)',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['agent/console/**/*.ts', 'electron/common/**/*.ts'],
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
          patterns: [
            {
              group: ['**/main/**', '**/electron/main/**'],
              message:
                'electron/main hosts the services, never the other way round: put shared code in electron/common',
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
