import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { resultsChart, type BenchRun } from './results-chart';
import { strategyCaption, strategyChart, type ChartedStrategy, type StrategyRun } from './strategies/chart';

// The bench draws each run's chart beside its JSON as it ends. This draws one again from a results
// file: after the chart code changed, or from numbers written down by hand where a run's JSON was
// not kept (say so in the file's "source").

const USAGE = `node bench/dist/src/redraw-chart.js RESULTS.json [CHART.svg]
  RESULTS.json   a bench run's bench-<time>.json or a strategy lab's strategies-<time>.json
  CHART.svg      where to write the chart (default: RESULTS with .svg for .json)`;

const { values, positionals } = parseArgs({ allowPositionals: true, options: { help: { type: 'boolean', short: 'h' } } });
if (values.help || positionals.length < 1 || positionals.length > 2) {
  console.log(USAGE);
  process.exit(values.help ? 0 : 2);
}
const [input, output = input.replace(/\.json$/, '') + '.svg'] = positionals;
const run = JSON.parse(fs.readFileSync(input, 'utf8')) as (BenchRun | StrategyRun) & { results: Array<Record<string, unknown>> };
const isLab = run.results.some((r) => typeof r.strategy === 'string');
fs.writeFileSync(output, isLab ? strategyChart(run.results as unknown as ChartedStrategy[], strategyCaption(run as StrategyRun)) : resultsChart(run as BenchRun));
console.log(`chart: ${output}`);
