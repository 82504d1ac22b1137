// Builds the console page: type-checks it with the repo's tsc (TypeScript 7), then bundles it
// with esbuild into services/console/dist/page (index.html, assets/console.{js,css}).
// Usage, from anywhere: node services/console/page/build.mjs
import { spawnSync } from 'node:child_process';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import * as esbuild from 'esbuild';

const page = import.meta.dirname;
const root = resolve(page, '../../..');
const out = resolve(page, '../dist/page');
const assets = join(out, 'assets');

function typeCheck() {
  const tsc = join(root, 'node_modules/.bin/tsc');
  const run = spawnSync(tsc, ['-p', join(page, 'tsconfig.json')], { stdio: 'inherit' });
  if (run.error) throw run.error;
  if (run.status !== 0) throw new Error(`tsc found errors in ${page}`);
}

async function bundle() {
  const common = { bundle: true, minify: true, sourcemap: true, target: 'es2022', logLevel: 'warning', absWorkingDir: page };
  // uPlot's stylesheet first, so that the console's own rules win on equal specificity.
  const uplotCss = createRequire(join(page, 'build.mjs')).resolve('uplot/dist/uPlot.min.css');
  const css = `@import ${JSON.stringify(uplotCss)};\n@import ${JSON.stringify(join(page, 'console.css'))};\n`;
  await Promise.all([
    esbuild.build({ ...common, entryPoints: [join(page, 'src/main.ts')], outfile: join(assets, 'console.js'), format: 'esm', platform: 'browser' }),
    esbuild.build({ ...common, stdin: { contents: css, loader: 'css', resolveDir: page, sourcefile: 'console-and-uplot.css' }, outfile: join(assets, 'console.css') }),
    copyFile(join(page, 'index.html'), join(out, 'index.html')),
  ]);
}

try {
  const started = performance.now();
  typeCheck();
  // A fresh output each time: nothing from an earlier build (a renamed asset) is left to be served.
  await rm(out, { recursive: true, force: true });
  await mkdir(assets, { recursive: true });
  await bundle();
  console.log(`console page built in ${Math.round(performance.now() - started)} ms: ${out}`);
} catch (err) {
  // esbuild has already printed its messages; this says which step stopped the build.
  console.error(`console page build failed: ${err instanceof Error ? err.message.split('\n')[0] : err}`);
  process.exitCode = 1;
}
