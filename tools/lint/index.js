'use strict';
// typescript-eslint as the root eslint.config.mjs sees it. TypeScript 7 (the root's "typescript",
// whose native tsc builds the repo) ships no JavaScript compiler API: its package exports only
// its version, and typescript-eslint 8 supports typescript <6.1. typescript-eslint has no option
// to hand it a TypeScript instance: it, its parser and ts-api-utils all require('typescript').
// So it lives in this workspace, whose own "typescript" is 6.0 (the release TypeScript 7 was
// ported from: same types, same errors), and Node's resolution from here gives it TypeScript 6.
// This module is loaded through the workspace link, so its require() resolves from this folder.
const { findPackageJSON } = require('node:module');
const fs = require('node:fs');

// npm can hoist a package whose peer range TypeScript 7 also satisfies (ts-api-utils: >=4.8.4)
// to the root, where it would get TypeScript 7 and fail to load with an obscure TypeError; the
// root package.json's override pins that peer to 6.0.3 so npm keeps it here. So before loading
// typescript-eslint, check that it and every package of it that uses TypeScript resolve this one.
const own = findPackageJSON('typescript', __filename);
const queue = [findPackageJSON('typescript-eslint', __filename)];
for (const seen = new Set(); queue.length > 0;) {
  const pkgJson = queue.shift();
  if (seen.has(pkgJson)) continue;
  seen.add(pkgJson);
  const { dependencies = {}, peerDependencies = {} } = JSON.parse(fs.readFileSync(pkgJson, 'utf8'));
  for (const dep of Object.keys({ ...dependencies, ...peerDependencies })) {
    if (dep === 'typescript') {
      const used = findPackageJSON('typescript', pkgJson);
      if (used !== own) throw new Error(`${pkgJson} resolves typescript to ${used}, not ${own} (TypeScript 6, for linting): reinstall with npm ci`);
    } else if (dep === 'ts-api-utils' || dep.startsWith('@typescript-eslint/')) {
      queue.push(findPackageJSON(dep, pkgJson));
    }
  }
}

module.exports = require('typescript-eslint');
