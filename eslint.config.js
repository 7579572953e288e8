// Lint rules, including the layering of docs/CONVENTIONS.md: algorithms are pure, the shared
// library imports no service, services never import each other, the local runner imports no service.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const noServices = ['@pynomaly/api', '@pynomaly/training-worker', '@pynomaly/drift-worker'];
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
    files: ['services/algorithms/**/*.ts'],
    rules: restrict(
      [
        '@pynomaly/*',
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
  {
    files: ['services/shared/**/*.ts'],
    rules: restrict(
      [...noServices, '../../api/*', '../../training-worker/*', '../../drift-worker/*'],
      'the shared library imports no service',
    ),
  },
  {
    files: ['services/api/**/*.ts'],
    rules: restrict(
      ['@pynomaly/training-worker', '@pynomaly/drift-worker', '../../*-worker/*'],
      'services meet only through Kafka and the database',
    ),
  },
  {
    files: ['services/training-worker/**/*.ts'],
    rules: restrict(
      ['@pynomaly/api', '@pynomaly/drift-worker', '../../api/*', '../../drift-worker/*'],
      'services meet only through Kafka and the database',
    ),
  },
  {
    files: ['services/drift-worker/**/*.ts'],
    rules: restrict(
      ['@pynomaly/api', '@pynomaly/training-worker', '../../api/*', '../../training-worker/*'],
      'services meet only through Kafka and the database',
    ),
  },
  {
    files: ['compose/local/**/*.ts'],
    rules: restrict(['@pynomaly/*', '../../services/*'], 'the local stack runner knows nothing of the services'),
  },
);
