import fs from 'node:fs';
import path from 'node:path';
import { startTelemetry } from './start';

/** The service a process runs: its workspace package's name, found above the entry script. */
function serviceOfEntryScript(): string {
  for (let dir = path.dirname(path.resolve(process.argv[1] ?? '.')); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest)) return String(JSON.parse(fs.readFileSync(manifest, 'utf8')).name ?? 'unknown').replace(/^@[^/]+\//, '');
  }
  return 'unknown';
}

// Preloaded with `node --require`, before the service's own modules are loaded.
startTelemetry(process.env.OTEL_SERVICE_NAME || serviceOfEntryScript());
