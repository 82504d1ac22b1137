import fs from 'node:fs';
import path from 'node:path';
import { startTelemetry } from './start';

/**
 * The workspace package of the entry script: its name is the service's, and
 * `"couponRush": { "traceContext": "explicit" }` in it says the service passes its trace context
 * explicitly (the gateway), so the process runs without AsyncLocalStorage.
 */
function entryPackage(): { name: string; explicitContext: boolean } {
  for (let dir = path.dirname(path.resolve(process.argv[1] ?? '.')); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (!fs.existsSync(manifest)) continue;
    const pkg = JSON.parse(fs.readFileSync(manifest, 'utf8'));
    return { name: String(pkg.name ?? 'unknown').replace(/^@[^/]+\//, ''), explicitContext: pkg.couponRush?.traceContext === 'explicit' };
  }
  return { name: 'unknown', explicitContext: false };
}

// Preloaded with `node --require`, before the service's own modules are loaded.
const entry = entryPackage();
startTelemetry(process.env.OTEL_SERVICE_NAME || entry.name, { explicitContext: entry.explicitContext });
