// Lint rules, including the layering of docs/CONVENTIONS.md: algorithms are pure, the shared
// library imports no service, services never import each other, the local runner imports no service,
// and only tests import tests (the demo, benchmarks and test support use testkit/).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import boundaries from 'eslint-plugin-boundaries';

const noServices = ['@pynomaly/api', '@pynomaly/training-worker', '@pynomaly/drift-worker'];

/** Zones by path from the repository root: [zone, glob]. */
const ZONES = [
  ['algorithms', 'services/algorithms/**'],
  ['shared', 'services/shared/**'],
  ['api', 'services/api/**'],
  ['training-worker', 'services/training-worker/**'],
  ['drift-worker', 'services/drift-worker/**'],
  ['local-runner', 'compose/local/**'],
  ['testkit', 'testkit/**'],
  ['scripts', 'scripts/**'],
  ['bench', 'bench/**'],
  ['tests', 'test/**'],
];
const SERVICES = ['api', 'training-worker', 'drift-worker'];
/** [from zones, forbidden target zones, why]. */
const FORBIDDEN = [
  [['algorithms'], ['shared', ...SERVICES, 'local-runner'], 'algorithms are pure: they import no other package'],
  [['shared'], SERVICES, 'the shared library imports no service'],
  ...SERVICES.map((s) => [[s], SERVICES.filter((o) => o !== s), 'services meet only through Kafka and the database']),
  [['local-runner'], ['algorithms', 'shared', ...SERVICES], 'the local stack runner knows nothing of the services'],
  [['testkit', 'scripts', 'bench'], ['tests'], 'test support lives in testkit/: nothing outside test/ imports test/'],
];
const restrict = (patterns, message) => ({
  'no-restricted-imports': ['error', { patterns: [{ group: patterns, message }] }],
});

export default tseslint.config(
  {
    ignores: ['**/node_modules/**', '**/dist/**', 'var/**', 'logs/**', 'collector/_build/**', 'grafana/dashboards/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        AbortController: 'readonly',
        fetch: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // Package zones: every file belongs to one zone by its path, whatever its depth, and an import
    // (relative, by package name or dynamic) is checked by the zone of the file it resolves to.
    // test/unit/boundaries.test.ts feeds the linter forbidden imports at several depths.
    files: ['**/*.ts'],
    plugins: { boundaries },
    settings: {
      'import/resolver': { typescript: { project: './tsconfig.json' } },
      'boundaries/elements': ZONES.map(([type, pattern]) => ({ type, pattern, partialMatch: false })),
    },
    rules: {
      'boundaries/dependencies': [
        'error',
        {
          default: 'allow',
          policies: FORBIDDEN.map(([from, to, message]) => ({
            from: { element: { types: { anyOf: from } } },
            disallow: { to: { element: { types: { anyOf: to } } } },
            message,
          })),
        },
      ],
    },
  },
  {
    files: ['**/*.ts'],
    rules: restrict(noServices, 'services meet only through Kafka and the database; nothing imports a service'),
  },
  {
    files: ['services/algorithms/**/*.ts'],
    rules: restrict(
      [
        '@pynomaly/*',
        ...noServices,
        'pg',
        'kafkajs',
        '@opentelemetry/*',
        'pino',
        'prom-client',
        'node:fs',
        'node:net',
        'node:http',
        'fastify',
      ],
      'algorithms are pure: typed arrays in, numbers out (no I/O, telemetry, Kafka or database)',
    ),
  },
);
