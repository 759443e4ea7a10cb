// ESLint flat config: typescript-eslint's type-checked rules over the sources, tests, benchmarks and
// scripts. A floating promise in a worker or a server is a bug, not a style point.
import js from '@eslint/js'
import globals from 'globals'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  {ignores: ['dist/', 'node_modules/', 'storage/', 'oclif.manifest.json']},
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: globals.node,
      parserOptions: {projectService: true, tsconfigRootDir: import.meta.dirname},
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', {argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_'}],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', {considerDefaultExhaustiveForUnions: true}],
    },
  },
  {
    // Routes read the client address as request.clientIp (IPv4-mapped IPv6 as IPv4; X-Forwarded-For only
    // from --trust-proxy), so the throttle keys and audit rows agree; and they never build SQL.
    files: ['src/api/routes/**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {selector: "MemberExpression[object.name='request'][property.name='ip']", message: 'Use request.clientIp (src/api/plugins/request-context.ts).'},
        {selector: 'CallExpression[callee.property.name=/^(knex|raw)$/]', message: 'A route handler never builds SQL: call a function of src/core.'},
      ],
    },
  },
  {
    files: ['**/*.mjs', '**/*.cjs', '**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
)
