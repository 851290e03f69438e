// What the console's browser test needs around the browser: its own
// provisiond (temp data folder, port 0), a small API client, bounded waits
// that fail with a message, and Chromium from Debian via playwright-core.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const WAIT_MS = 30000;

export class TestFailure extends Error {}

export function check(cond, message) {
  if (!cond) throw new TestFailure(message);
}

/** Loads playwright-core from this folder's node_modules, or says how to get it. */
export async function loadPlaywright() {
  try {
    return await import('playwright-core');
  } catch (e) {
    throw new TestFailure(`playwright-core is not installed (${e.message}); run: npm ci --prefix tests/console`);
  }
}

export function chromiumPath() {
  const p = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
  check(fs.existsSync(p), `no Chromium at ${p}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  return p;
}

/**
 * Starts provisiond with `config` on 127.0.0.1:0 in a fresh data folder and
 * resolves once it prints "listening on http://HOST:PORT". Its output goes
 * to `<artifacts>/provisiond.log`.
 */
export async function startProvisiond({ binary, artifacts, config, consoleDir }) {
  check(binary && fs.existsSync(binary), `no provisiond binary at '${binary}' (pass --binary or PROVISIOND_BINARY)`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'provisiond-console-'));
  const configFile = path.join(dir, 'config.json');
  fs.writeFileSync(configFile, JSON.stringify(config, null, 2));
  const env = { ...process.env };
  // The test judges what the binary embeds unless told to serve a folder.
  delete env.PROVISIOND_CONSOLE_DIR;
  if (consoleDir) env.PROVISIOND_CONSOLE_DIR = consoleDir;
  const child = spawn(binary, ['--config', configFile, '--data-dir', path.join(dir, 'data'), '--listen', '127.0.0.1:0',
    '--durability', 'fast'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const log = fs.createWriteStream(path.join(artifacts, 'provisiond.log'));
  child.stderr.pipe(log, { end: false });
  const url = await new Promise((resolve, reject) => {
    let buffered = '';
    const timer = setTimeout(() => reject(new TestFailure(`provisiond did not print "listening on" within ${WAIT_MS} ms`)),
      WAIT_MS);
    child.stdout.on('data', (chunk) => {
      log.write(chunk);
      buffered += chunk.toString();
      const m = /listening on (http:\/\/[0-9.]+:\d+)/.exec(buffered);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new TestFailure(`provisiond exited early (code ${code}, signal ${signal}); see provisiond.log`));
    });
  });
  child.removeAllListeners('exit');
  // The admin API key provisiond made on its first start (0600 in the data folder).
  const adminKey = fs.readFileSync(path.join(dir, 'data', 'admin-api-key'), 'utf8').trim();
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 35000);
    await exited;
    clearTimeout(timer);
    log.end();
    if (!process.env.PROVISIOND_KEEP_TEST_DIRS) fs.rmSync(dir, { recursive: true, force: true });
  };
  return { url, stop, dir, adminKey };
}

/** A JSON client for the same provisiond (as `key`); throws on any unexpected status. */
export function apiClient(base, key) {
  async function call(method, p, body, { expect = [200, 201, 202, 204], headers = {} } = {}) {
    const init = { method, headers: { Accept: 'application/json', Authorization: `Bearer ${key}`, ...headers } };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const res = await fetch(base + p, init);
    const text = await res.text();
    check(expect.includes(res.status), `${method} ${p} answered ${res.status}: ${text.slice(0, 300)}`);
    return text ? JSON.parse(text) : null;
  }
  return {
    get: (p, o) => call('GET', p, undefined, o),
    post: (p, b, o) => call('POST', p, b, o),
    put: (p, b, o) => call('PUT', p, b, o),
  };
}

/** Polls `fn` until it returns a truthy value, or fails with `what`. */
export async function eventually(what, fn, ms = WAIT_MS) {
  const end = Date.now() + ms;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new TestFailure(`timed out after ${ms} ms waiting for ${what}` +
      (last instanceof Error ? ` (last error: ${last.message})` : ''));
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Waits for a selector in the page with a message saying what was expected. */
export async function see(page, selector, what, { state = 'visible', ms = WAIT_MS } = {}) {
  try {
    return await page.waitForSelector(selector, { state, timeout: ms });
  } catch {
    throw new TestFailure(`timed out after ${ms} ms waiting for ${what} (selector ${selector}, at ${page.url()})`);
  }
}

/** Waits until fn(arg) is true in the page. */
export async function until(page, what, fn, arg, ms = WAIT_MS) {
  try {
    await page.waitForFunction(fn, arg, { timeout: ms, polling: 100 });
  } catch {
    throw new TestFailure(`timed out after ${ms} ms waiting for ${what} (at ${page.url()})`);
  }
}
