// Lint rules that keep the dependency arrows pointing one way (see docs/architecture.md):
// firmware-bundler imports no other package; the edge agent never imports the server; the web
// console imports only the types of the server's API face, and the CLI reaches HTTP only through it;
// production code never imports test helpers;
// inside the server, domain folders (tests included) never import HTTP, composition, programs or a
// store engine; inside the agent, the model layer (edge-agent/src/model/) never imports the agent's top.
// Import circles are checked by test/architecture/import-graph.test.ts.
import tseslint from 'typescript-eslint';

const restrict = (patterns) => ({ 'no-restricted-imports': ['error', { patterns }] });
// Server folders above the domains: HTTP, composition, programs and the storage engines.
const storeEngines = ['sqlite', 'postgres'];
const serverOuterLayers = ['api', 'wiring', 'cli', 'bench', ...storeEngines.map((e) => `store/${e}`)]
  .map((dir) => `server/src/${dir}/**`)
  .concat('server/src/main.ts');
const domainStaysDown = {
  group: ['**/api/**', '**/wiring/**', '**/main.ts', '**/cli/**', '**/bench/**', ...storeEngines.map((e) => `**/${e}/**`)],
  message:
    'A domain may not import api/, wiring/, main.ts, cli/, bench/ or a store engine: move the code down, or plug it in from wiring/ (docs/architecture.md).',
};
const noTestHelpers = { group: ['@flotilla/test', '@flotilla/test/*'], message: 'Only tests may import test helpers.' };
const agentNoServer = {
  group: ['@flotilla/server', '@flotilla/server/*', '**/server/src/**'],
  message: 'The edge agent never imports the server.',
};
// The agent's model layer holds and runs the serving model; below it only runtime/, preprocess/ and errors.ts.
const modelStaysDown = [
  {
    regex: '^\\.\\./(?!(runtime|preprocess)/|errors\\.ts$)',
    message:
      "The agent's model/ may import only runtime/, preprocess/ and errors.ts: the top (core/, update/, transport/, telemetry/, shadow/ …) plugs into it, never the other way round (docs/architecture.md).",
  },
  {
    group: ['@flotilla/edge-agent', '@flotilla/edge-agent/*'],
    message: "The agent's model/ may not import the agent's own public faces (they are the top).",
  },
];

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/dist/**', 'test-output/**', '.flotilla/**', 'server/console/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    files: ['firmware-bundler/src/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: restrict([
      {
        group: [
          '@flotilla/server',
          '@flotilla/server/*',
          '@flotilla/edge-agent',
          '@flotilla/edge-agent/*',
          '**/server/src/**',
          '**/edge-agent/src/**',
        ],
        message: 'firmware-bundler is the shared contract: it imports no other Flotilla package.',
      },
      noTestHelpers,
    ]),
  },
  {
    files: ['edge-agent/src/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: restrict([agentNoServer, noTestHelpers]),
  },
  {
    // Tests included: a model-layer test builds its doubles from the seams below it.
    files: ['edge-agent/src/model/**/*.ts'],
    rules: restrict(modelStaysDown),
  },
  {
    // Repeats the agent's rules: a later block's options replace an earlier block's for the same rule.
    files: ['edge-agent/src/model/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: restrict([agentNoServer, noTestHelpers, ...modelStaysDown]),
  },
  {
    files: ['web-console/src/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@flotilla/edge-agent', '@flotilla/edge-agent/*', '@flotilla/firmware-bundler', '@flotilla/firmware-bundler/*'],
              message: 'The console talks to the server API only.',
            },
            {
              regex: '^(@flotilla/server(?!/api$)(/.*)?|.*/server/src/.*)$',
              message: "The console sees the server through its API face only: import type { ... } from '@flotilla/server/api'.",
            },
            {
              group: ['@flotilla/server/api'],
              allowTypeImports: true,
              message: "The console imports only the API's types (import type ...).",
            },
          ],
        },
      ],
    },
  },
  {
    files: ['server/src/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: restrict([noTestHelpers]),
  },
  {
    // Domains own their ports and contracts; the layers above them plug in (docs/architecture.md).
    // Test files too: a domain test that needs a real engine gets it from @flotilla/test/support.
    files: ['server/src/**/*.test.ts'],
    ignores: serverOuterLayers,
    rules: restrict([domainStaysDown]),
  },
  {
    // Repeats noTestHelpers: a later block's options replace an earlier block's for the same rule.
    files: ['server/src/**/*.ts'],
    ignores: [...serverOuterLayers, '**/*.test.ts'],
    rules: restrict([domainStaysDown, noTestHelpers]),
  },
  {
    // The CLI is a client like the console: it sees HTTP only through the API face (api/contract.ts).
    files: ['server/src/cli/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: restrict([
      {
        group: ['**/api/*', '!**/api/contract.ts'],
        message: 'The CLI sees the API through api/contract.ts (types) and the typed client (cli/typed-api.ts) only.',
      },
      noTestHelpers,
    ]),
  },
);
