// supervise.js --name NAME --state FILE [--port PORT] -- CMD ARGS...
// Runs one service process and starts it again when it dies, until the supervisor itself gets
// SIGTERM (or SIGINT/SIGHUP): then the signal is forwarded, the child is waited for (a service
// deregisters from Consul on SIGTERM) and nothing is restarted.
//
// Our own hundred lines rather than PM2: PM2 keeps a daemon in ~/.pm2 that outlives `npm stop` and
// the session and is shared by every checkout of the user, while `npm start` runs everything as
// plain processes of this checkout with a pid file each (infra/lib.sh start_bg/stop_pid). One
// supervisor per service fits that as it is: stop_pid TERMs the supervisor, which stops its child.
//
// Backoff between restarts: 0.5 s, doubling up to 30 s while the child keeps dying young; a child
// that stayed up 60 s resets it. The state file (key=value lines, read by scripts/status.sh)
// holds the child's pid, its start time, the restart count and the port to probe.
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');

const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 30_000;
const HEALTHY_AFTER_MS = 60_000;
// Longer than a service's own graceful stop (drain, deregister, close pools); stop_pid waits 20 s.
const STOP_GRACE_MS = Number(process.env.SUPERVISOR_STOP_GRACE_MS ?? 15_000);

function parseArgs(argv) {
  const split = argv.indexOf('--');
  if (split < 0 || split === argv.length - 1) throw new Error('usage: supervise.js --name NAME --state FILE [--port PORT] -- CMD ARGS...');
  const opts = {};
  const flags = argv.slice(0, split);
  for (let i = 0; i < flags.length; i += 2) opts[flags[i].replace(/^--/, '')] = flags[i + 1];
  if (!opts.name || !opts.state) throw new Error('--name and --state are required');
  return { name: opts.name, stateFile: opts.state, port: opts.port ?? process.env.PORT ?? '', command: argv.slice(split + 1) };
}

const { name, stateFile, port, command } = parseArgs(process.argv.slice(2));

function log(level, message, fields = {}) {
  process.stdout.write(JSON.stringify({ level, message, service: 'supervisor', supervised: name, timestamp: new Date().toISOString(), ...fields }) + '\n');
}

let child;
let childStartedAt = 0;
let restarts = 0;
let delayMs = FIRST_DELAY_MS;
let restartTimer;
let stopping = false;

function writeState(state) {
  const lines = {
    state,
    supervisor_pid: process.pid,
    child_pid: child?.pid ?? '',
    child_started_at: childStartedAt ? Math.floor(childStartedAt / 1000) : '',
    restarts,
    port,
  };
  const tmp = `${stateFile}.tmp`;
  fs.writeFileSync(
    tmp,
    Object.entries(lines)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n') + '\n',
  );
  fs.renameSync(tmp, stateFile);
}

function startChild() {
  restartTimer = undefined;
  childStartedAt = Date.now();
  // stdio inherited: the child writes to the supervisor's log file, like it did when run directly.
  child = spawn(command[0], command.slice(1), { stdio: 'inherit' });
  const started = child;
  started.once('exit', onChildExit);
  started.once('error', (err) => {
    log('error', 'cannot start the service', { err: String(err) });
    // A command that could not be spawned never emits 'exit': count it as a death all the same.
    if (started.pid === undefined) onChildExit(null, null);
  });
  writeState('running');
  log('info', 'service started', { pid: child.pid, restarts });
}

function onChildExit(code, signal) {
  const ranMs = Date.now() - childStartedAt;
  const pid = child.pid;
  child = undefined;
  if (stopping) {
    log('info', 'service stopped', { pid, code, signal });
    writeState('stopped');
    process.exit(0);
  }
  if (ranMs >= HEALTHY_AFTER_MS) delayMs = FIRST_DELAY_MS;
  restarts++;
  log('warn', 'service exited, restarting', { pid, code, signal, ranMs, restart: restarts, inMs: delayMs });
  writeState('restarting');
  restartTimer = setTimeout(startChild, delayMs);
  delayMs = Math.min(delayMs * 2, MAX_DELAY_MS);
}

function stop(signal) {
  if (stopping) return;
  stopping = true;
  if (restartTimer) clearTimeout(restartTimer);
  if (!child) {
    log('info', 'stopped while waiting to restart', { signal });
    writeState('stopped');
    process.exit(0);
  }
  log('info', 'stopping the service', { pid: child.pid, signal });
  writeState('stopping');
  child.kill(signal);
  setTimeout(() => {
    if (!child) return;
    log('warn', 'service did not stop in time, killing it', { pid: child.pid, graceMs: STOP_GRACE_MS });
    child.kill('SIGKILL');
  }, STOP_GRACE_MS).unref();
}

process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGHUP', () => stop('SIGTERM'));
startChild();
