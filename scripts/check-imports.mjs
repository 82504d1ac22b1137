#!/usr/bin/env node
// Lists, per workspace, the packages its sources import without declaring them in its own
// package.json; prints nothing and exits 0 when every import is declared. npm hoists every
// workspace's dependencies to the root node_modules, so an undeclared import still resolves here,
// and breaks only where that workspace is installed alone (a Docker stage, a published package).
//
// The test toolchain (mocha, chai) is declared once, in the root's devDependencies: the suite is run
// only by the root's mocha over every workspace (.mocharc.yml), so a file under a test/ folder may
// import what the root declares for development.
//
// The scan is lexical (import/export ... from, import(), require()), which is enough for this
// code base: specifiers are string literals. Block comments and whole-line comments are left out,
// and only what can be a package name counts, so prose ('from "first come, first served"') does not.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';

const root = join(import.meta.dirname, '..');
const rootManifest = readJson(join(root, 'package.json'));
const rootDevDependencies = new Set(Object.keys(rootManifest.devDependencies ?? {}));
const SKIP = new Set(['node_modules', 'dist', 'results', 'target', '.run', '.git']);
const SOURCE = /\.(?:[cm]?ts|[cm]?js|tsx)$/;
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)(['"])([^'"\n]+)\1/g;
const COMMENTS = /\/\*[\s\S]*?\*\/|^\s*\/\/.*$/gm;
const PACKAGE_NAME = /^(?:@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*$/;

function readJson(file) {
  return JSON.parse(readFileSync(file, 'utf8'));
}

function expandWorkspaces(patterns) {
  return patterns.flatMap((pattern) => {
    if (!pattern.endsWith('/*')) return [pattern];
    const parent = pattern.slice(0, -2);
    return readdirSync(join(root, parent))
      .map((name) => `${parent}/${name}`)
      .filter((dir) => statSync(join(root, dir, 'package.json'), { throwIfNoEntry: false })?.isFile());
  });
}

function sourceFiles(dir, nested) {
  const files = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (SKIP.has(entry.name) || entry.name.startsWith('.run-') || nested.has(path)) continue;
      files.push(...sourceFiles(path, nested));
    } else if (SOURCE.test(entry.name) && !entry.name.endsWith('.d.ts')) {
      files.push(path);
    }
  }
  return files;
}

function packageName(specifier) {
  if (specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('node:')) return undefined;
  const parts = specifier.split('/');
  const name = specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
  return builtinModules.includes(name) || !PACKAGE_NAME.test(name) ? undefined : name;
}

function typesPackage(name) {
  return `@types/${name.startsWith('@') ? name.slice(1).replace('/', '__') : name}`;
}

function declared(manifest) {
  return new Set(['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies'].flatMap((field) => Object.keys(manifest[field] ?? {})));
}

const workspaces = expandWorkspaces(rootManifest.workspaces).map((dir) => join(root, dir));
// The root package owns what lies outside every workspace (scripts/, the root's config files).
const owners = [root, ...workspaces];
let problems = 0;
for (const dir of owners) {
  const manifest = readJson(join(dir, 'package.json'));
  const deps = declared(manifest);
  const nested = new Set(owners.filter((other) => other !== dir && other.startsWith(dir + '/')));
  const missing = new Map();
  for (const file of sourceFiles(dir, nested)) {
    const inTest = relative(dir, file).split('/').includes('test');
    for (const [, , specifier] of readFileSync(file, 'utf8').replace(COMMENTS, '').matchAll(SPECIFIER)) {
      const name = packageName(specifier);
      if (!name || name === manifest.name || deps.has(name) || deps.has(typesPackage(name))) continue;
      if (inTest && rootDevDependencies.has(name)) continue;
      const files = missing.get(name) ?? new Set();
      files.add(relative(root, file));
      missing.set(name, files);
    }
  }
  if (missing.size === 0) continue;
  console.log(`${manifest.name} (${relative(root, dir) || '.'}/package.json) does not declare:`);
  for (const [name, files] of [...missing].sort(([a], [b]) => a.localeCompare(b))) {
    console.log(`  ${name}: ${[...files].sort().join(', ')}`);
    problems++;
  }
}
process.exitCode = problems > 0 ? 1 : 0;
