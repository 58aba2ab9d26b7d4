// What every browser test of the console shares: Debian's chromium through
// playwright-core with a fresh profile, a watch for page errors, console
// errors and failed requests, expectations, screenshots, logging in, and
// axe-core's accessibility check. Each test script (console.mjs,
// cases.mjs, ...) is run by a Go test in internal/e2e against a real
// tarian server, with TARIAN_URL, CHROMIUM and SCREENSHOTS set.
import { chromium } from 'playwright-core';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

export const base = process.env.TARIAN_URL;
const shots = process.env.SCREENSHOTS;
const timeout = 30000;
const script = basename(process.argv[1] ?? 'console.mjs', '.mjs');

export function log(msg) {
  process.stdout.write(`${script} test: ${msg}\n`);
}

export function check(ok, what) {
  if (!ok) throw new Error(`expectation failed: ${what}`);
}

export async function shot(page, name) {
  if (shots) await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

// problems collects what went wrong on any watched page; finish() fails
// the test when it is not empty.
export const problems = [];

// watch records a page's errors: an uncaught exception, a console error
// (a CSP violation is one), a failed request. allowed(status, method, path)
// says which failed requests the test expects (the session check before
// login always is).
export function watch(page, name, allowed = () => false) {
  page.on('pageerror', (e) => problems.push(`${name}: page error: ${e.message}`));
  // Chromium logs each failed request as a console error "Failed to load
  // resource"; the response handler judges those.
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(`${name}: console error: ${m.text()}`);
  });
  page.on('response', (r) => {
    const path = new URL(r.url()).pathname;
    const method = r.request().method();
    if (r.status() >= 400 && !(r.status() === 401 && path === '/api/v1/session') && !allowed(r.status(), method, path)) {
      problems.push(`${name}: ${r.status()} ${method} ${path}`);
    }
  });
  return page;
}

// browser launches headless chromium with a fresh profile and returns its
// context and a cleanup function.
export async function browser() {
  const profile = mkdtempSync(join(tmpdir(), 'tarian-chromium-'));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1400, height: 900 },
  });
  ctx.setDefaultTimeout(timeout);
  const close = async () => {
    await ctx.close();
    rmSync(profile, { recursive: true, force: true });
  };
  return { ctx, close };
}

// login logs in through the login page (in English) and waits for the
// alert queue.
export async function login(page, user, password, code = '') {
  await page.goto(`${base}/login`);
  await page.getByLabel('Username').fill(user);
  await page.getByLabel('Password').fill(password);
  if (code) await page.getByLabel(/^Verification code/).fill(code);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL('**/alerts');
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

// axe runs axe-core's WCAG 2.x A and AA rules (2.2 included) on the page
// as it is and fails on any serious or critical violation. The script is
// evaluated through the DevTools protocol, which the page's CSP does not
// govern; the page itself is unchanged.
export async function axe(page, name) {
  if (!(await page.evaluate('typeof window.axe === "object"'))) await page.evaluate(axeSource);
  const result = await page.evaluate(() =>
    window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] }, resultTypes: ['violations'] }),
  );
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const detail = bad.map((v) => `${v.impact} ${v.id}: ${v.help}\n    ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('\n    ')}`).join('\n  ');
  check(bad.length === 0, `axe-core on ${name}: ${bad.length} serious or critical violations\n  ${detail}`);
  log(`axe-core: ${name} has no serious or critical violation (${result.violations.length} minor)`);
}

// finish fails on any recorded problem, then prints the line the Go test
// waits for.
export function finish() {
  check(problems.length === 0, `no page or console errors:\n${problems.join('\n')}`);
  log('ok');
}
