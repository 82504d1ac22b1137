// Typed linting of every workspace's TypeScript (src and test). The rules are the ones that catch
// real bugs, chiefly promises nobody awaits or handles; typescript-eslint's wider recommended sets
// flag hundreds of `any`-flow and style findings here that are not bugs.
//
// typescript-eslint comes from the tools/lint workspace, not from the root: it needs TypeScript's
// JavaScript API, which TypeScript 7 (the root's "typescript", whose tsc builds) does not ship,
// so there it resolves TypeScript 6.0 (tools/lint/index.js says how, and checks it). The build
// stays TypeScript 7's `tsc -b`; linting only type-checks, with the same tsconfig files.
import { defineConfig, globalIgnores } from 'eslint/config';
import tseslint from '@coupon-rush/lint';

export default defineConfig(globalIgnores(['**/dist/', '**/node_modules/', '.run/', '.run-*/', '**/results/', '**/target/']), {
  files: ['**/*.ts'],
  extends: [tseslint.configs.base],
  languageOptions: {
    parserOptions: {
      // Each file is type-checked in the project of its nearest tsconfig.json (a workspace's, or
      // scripts/test's), which sees referenced projects' sources: no build needed.
      projectService: true,
      tsconfigRootDir: import.meta.dirname,
    },
  },
  rules: {
    // A promise whose rejection nobody handles: an unhandled rejection, which ends the process.
    '@typescript-eslint/no-floating-promises': 'error',
    // A promise where a callback's return is ignored (an event handler, setTimeout, forEach) or
    // tested as a condition: the same unhandled rejection, or a condition that is always true.
    '@typescript-eslint/no-misused-promises': 'error',
    // `await` on something that is not a promise: usually a missing call or a wrong type.
    '@typescript-eslint/await-thenable': 'error',
    // `return promise` inside try/catch (or before a finally): the catch never sees its rejection.
    '@typescript-eslint/return-await': ['error', 'error-handling-correctness-only'],
    // Throwing or rejecting with something that is not an Error: no stack, no message.
    '@typescript-eslint/only-throw-error': 'error',
    '@typescript-eslint/prefer-promise-reject-errors': 'error',
    // Operations that are never what was meant.
    '@typescript-eslint/no-array-delete': 'error',
    '@typescript-eslint/no-for-in-array': 'error',
    '@typescript-eslint/no-implied-eval': 'error',
    '@typescript-eslint/restrict-plus-operands': 'error',
  },
});
