// Shared harness of the browser end-to-end tests: configuration from the environment, Debian's
// Chromium with the flags this machine needs, and PASS/FAIL bookkeeping that ends with the line
// "N passed, M failed" and a non-zero exit on any failure.
//
// Env: THANGLONG_BASE_URL (required), THANGLONG_SCREENSHOT_DIR (default tests/e2e/out),
//      THANGLONG_CHROMIUM (default /usr/bin/chromium). Needs `npm ci` in web/ (playwright-core).
import { createRequire } from 'node:module';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(new URL('../../web/package.json', import.meta.url));
export const { chromium } = require('playwright-core');

export const BASE = (process.env.THANGLONG_BASE_URL ?? '').replace(/\/+$/, '');
if (!BASE) {
  console.error('THANGLONG_BASE_URL is not set (e.g. THANGLONG_BASE_URL=http://127.0.0.1:8080)');
  console.log('0 passed, 1 failed');
  process.exit(2);
}
export const SHOTS = process.env.THANGLONG_SCREENSHOT_DIR
  ? resolve(process.env.THANGLONG_SCREENSHOT_DIR)
  : fileURLToPath(new URL('./out/', import.meta.url));
mkdirSync(SHOTS, { recursive: true });
export const CHROMIUM = process.env.THANGLONG_CHROMIUM ?? '/usr/bin/chromium';
// Without the background-networking flags Chromium keeps trying hosts this closed network refuses.
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
export const TIMEOUT = 15_000;
export const url = (path) => BASE + path;
export const screenshotPath = (name) => join(SHOTS, `${name}.png`);

export const results = { passed: 0, failed: 0 };

/** Runs one named check; a thrown error fails it. Returns whether it passed. */
export async function check(name, fn) {
  try {
    const note = await fn();
    results.passed++;
    console.log(`PASS ${name}${note ? ` (${note})` : ''}`);
    return true;
  } catch (e) {
    results.failed++;
    console.log(`FAIL ${name}: ${String(e?.message ?? e).split('\n')[0]}`);
    return false;
  }
}

export function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

/** Records a failure outside any check (e.g. the browser would not start). */
export function failSetup(e) {
  results.failed++;
  console.log(`FAIL setup: ${String(e?.message ?? e).split('\n')[0]}`);
}

/** A hard stop so a hung browser never blocks CI. */
export function startWatchdog(seconds) {
  setTimeout(() => {
    console.log(`FAIL watchdog: the test did not finish within ${seconds} s`);
    console.log(`${results.passed} passed, ${results.failed + 1} failed`);
    process.exit(1);
  }, seconds * 1000).unref();
}

export function finish() {
  console.log(`screenshots in ${SHOTS}`);
  console.log(`${results.passed} passed, ${results.failed} failed`);
  process.exit(results.failed ? 1 : 0);
}
