// Lint: TypeScript's recommended rules, plus the layering rules of the product (ARCHITECTURE.md):
// - only agent/core/keys.ts spells an etcd key;
// - the rooms of agent/ import one way: core imports nothing above it; the operator API (api/)
//   stands on core; agents (node, leader, scheduler, runner, alert, metrics, logger) never use the
//   operator API or the console; the console's contract takes core's types only;
// - agent/** imports neither electron/** nor renderer/**;
// - the renderer is a web page that reaches data only through the contract (agent/console/contract);
// - the console's server never imports electron; electron/ takes from agent/ only the console.
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

// The rooms of agent/ (ARCHITECTURE.md) and their doors. A relative import names the room it
// reaches by the folder after its leading ./ and ../ (`../../core/keys`, `../api/store`).
const room = (...names) => `^(\\.\\.?/)+(${names.join('|')})(/|$)`;
// What a node runs: membership, leader, scheduler, runner, alerting, metrics, logs, and agent.ts.
const AGENT_RUNTIME = ['node', 'leader', 'scheduler', 'runner', 'alert', 'metrics', 'logger', 'agent'];
const NO_ELECTRON = {
  name: 'electron',
  message: 'agent code runs in plain Node: only electron/main and the preload import electron',
};
const AGENT_NO_DESKTOP = {
  regex: '^\\.{1,2}/(.*/)?(electron|renderer)(/|$)',
  message: 'agent code runs on servers: it imports nothing from electron/ or renderer/',
};
const AGENT_ROOMS = [
  { files: ['agent/**/*.ts'], patterns: [] },
  {
    files: ['agent/core/**/*.ts'],
    patterns: [
      {
        regex: room('api', 'console', 'cli', ...AGENT_RUNTIME),
        message: 'agent/core is the shared model and etcd plumbing: it imports nothing above it',
      },
    ],
  },
  {
    files: ['agent/api/**/*.ts'],
    patterns: [
      {
        regex: room('console', 'cli', ...AGENT_RUNTIME),
        message: 'the operator API (agent/api) stands on agent/core only',
      },
    ],
  },
  {
    files: ['agent/{node,leader,scheduler,runner,alert,metrics,logger}/**/*.ts', 'agent/agent.ts'],
    patterns: [
      {
        regex: room('api', 'console', 'cli'),
        message: 'agents never use the operator API, the console or the CLI: put shared code in agent/core',
      },
    ],
  },
  {
    files: ['agent/console/contract/**/*.ts'],
    patterns: [
      {
        regex: room('core', 'api'),
        allowTypeImports: true,
        message: "the contract runs in the renderer: it takes core's and the API's types only (import type)",
      },
      {
        regex: `${room('cli', ...AGENT_RUNTIME)}|(^|/)server(/|$)`,
        message: 'the contract is shared by the renderer and the server: it imports no server or agent code',
      },
    ],
  },
  {
    files: ['agent/console/server/**/*.ts'],
    patterns: [
      {
        regex: room('cli', ...AGENT_RUNTIME),
        message:
          "the console's server stands on agent/core and agent/api: it never reaches into an agent or the CLI",
      },
    ],
  },
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'release/**'] },
  ...tseslint.configs.recommended,
  {
    // Type-aware rules where promises and unions matter: a promise is awaited or handed to
    // something that reports its failure; a switch over a union covers every member.
    files: ['agent/**/*.ts', 'electron/**/*.ts', 'test/**/*.ts'],
    ignores: ['test/component/fixture/**'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test's test() and friends return a promise the runner itself awaits.
        {
          allowForKnownSafeCalls: [
            {
              from: 'package',
              package: 'node:test',
              name: ['test', 'it', 'describe', 'suite', 'before', 'after'],
            },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: true },
      ],
    },
  },
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
    rules: { 'no-restricted-syntax': ['error', ...keySpelling, agentReachesDesktop()] },
  },
  ...AGENT_ROOMS.map(({ files, patterns }) => ({
    files,
    rules: {
      'no-restricted-imports': ['error', { paths: [NO_ELECTRON], patterns: [...patterns, AGENT_NO_DESKTOP] }],
    },
  })),
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
    // The desktop shell takes the console (its server and contract) from agent/, nothing else;
    // its common part and preload take nothing from agent/ at all.
    files: ['electron/main/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '(^|/)agent/(?!console(/|$))',
              message: 'the desktop shell hosts the console: it imports agent/console only',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['electron/preload/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '(^|/)(agent|main)(/|$)',
              message:
                'the preload is sandboxed and electron/common is shared by it: they import electron/common only',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['electron/common/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: 'electron',
              message: 'electron/common runs in the preload and main alike: no electron import',
            },
          ],
          patterns: [
            {
              regex: '(^|/)(agent|main)(/|$)',
              message:
                'the preload is sandboxed and electron/common is shared by it: they import electron/common only',
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
