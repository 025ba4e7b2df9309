// Shared by the dashboard's browser tests and `make screenshots`: start the real cachelab binary against the
// private backends, and Debian's Chromium through playwright-core (never a downloaded browser).
import { spawn, spawnSync } from 'node:child_process';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';

const env = (name, fallback) => process.env[name] || fallback;
export const databaseUrl = () => `postgresql://cachelab@127.0.0.1:${env('PG_PORT', '54330')}/cachelab`;
export const redisUrl = () => `redis://127.0.0.1:${env('REDIS_PORT', '63800')}/0`;
const bin = () => {
  const b = process.env.CACHELAB_BIN;
  if (!b) throw new Error('CACHELAB_BIN is not set (ctest and scripts/screenshots.sh set it)');
  return b;
};

export function seed() {
  const r = spawnSync(bin(), ['seed', '--log-level', 'warn', '--database-url', databaseUrl()], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`cachelab seed failed (${r.status})`);
}

// Starts `cachelab serve --port 0 …` and resolves to {url, stop()} once it prints "listening on host:port".
export function startServer(extraArgs = []) {
  const child = spawn(bin(), ['serve', '--port', '0', '--database-url', databaseUrl(), '--redis-url', redisUrl(),
    '--log-level', 'warn', ...extraArgs], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('cachelab serve did not start within 20 s')), 20000);
    child.on('exit', (code) => reject(new Error(`cachelab serve exited with ${code} before listening`)));
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const m = out.match(/listening on ([^\s:]+):(\d+)/);
      if (!m) return;
      clearTimeout(timer);
      child.stdout.resume();
      resolve({
        url: `http://127.0.0.1:${m[2]}`,
        stop: () => new Promise((done) => {
          if (child.exitCode !== null) return done(child.exitCode);
          child.removeAllListeners('exit');
          child.on('exit', (code) => done(code));
          child.kill('SIGTERM');
        }),
      });
    });
  });
}

// Headless Debian Chromium, with the flags this machine's closed network needs (playwright gives it a
// throwaway profile of its own).
export function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
}
