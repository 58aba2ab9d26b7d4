// Tuning a false positive in Debian's chromium, against a running tarian
// server; run by internal/e2e/console_tuning_test.go, which sets up one
// member's two whoami alerts (hosts WS1 and WS2) and afterwards checks
// what the server holds.
//
// A provider analyst opens the WS1 alert and suppresses the rule for that
// host for a day (the host is chosen at first; choosing nothing warns that
// every alert of the rule would stop). New events come: WS1's is stopped
// (the suppression counts a hit), WS2's still joins its alert. The
// suppressions page lists it (also in Welsh); a member viewer sees it but
// can neither remove it nor suppress; the analyst removes it after a
// confirmation (Escape first: nothing removed, the focus back on Remove).
//
// Environment: TARIAN_URL, CHROMIUM, SCREENSHOTS (lib.mjs); CONSOLE_USER
// and CONSOLE_PASSWORD (a provider analyst), VIEWER_USER and
// VIEWER_PASSWORD (the member's viewer), ALERT_WS1 and ALERT_WS2 (the
// alerts' IDs), INGEST_TOKEN and EVENTS (NDJSON: a whoami on WS1, then one
// on WS2).
import { axe, base, browser, check, finish, log, login, shot, watch } from './lib.mjs';

const env = process.env;
const { ctx, close } = await browser();

try {
  const page = watch(ctx.pages()[0] ?? (await ctx.newPage()), 'tuning');
  await login(page, env.CONSOLE_USER, env.CONSOLE_PASSWORD);
  await page.goto(`${base}/alerts/${env.ALERT_WS1}`);
  await page.getByRole('heading', { name: 'whoami run', level: 1 }).waitFor();

  // Suppress: the host is chosen at first; nothing chosen warns.
  await page.getByRole('button', { name: 'Suppress similar alerts…' }).click();
  const form = page.getByTestId('suppress-form');
  await form.getByRole('heading', { name: "Stop this rule's further alerts at Tenant gwynedd" }).waitFor();
  const host = form.getByRole('checkbox', { name: 'host = WS1' });
  check(await host.isChecked(), 'the host is chosen at first');
  check((await form.getByTestId('suppress-all').count()) === 0, 'no warning while a value is chosen');
  await host.uncheck();
  await form.getByTestId('suppress-all').filter({ hasText: 'every further alert of this rule at Tenant gwynedd will be stopped' }).waitFor();
  await host.check();
  await form.getByLabel('Reason').fill("WS1 is the IT team's admin workstation");
  await form.getByLabel('For').selectOption({ label: '1 day' });
  await shot(page, 'suppress-form');
  await axe(page, 'the suppression form');
  await form.getByRole('button', { name: 'Suppress', exact: true }).click();
  const made = page.getByTestId('suppressed');
  await made.waitFor();
  const said = await made.innerText();
  check(said.includes('where host = WS1 are stopped until'), `the suppression said: ${said}`);
  log('suppressed WS1 from the alert');

  // New events: WS1's is stopped, WS2's joins its alert.
  const res = await fetch(`${base}/api/v1/ingest`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${env.INGEST_TOKEN}`, 'Content-Type': 'application/x-ndjson' },
    body: env.EVENTS,
  });
  check(res.status === 200, `ingest: ${res.status}`);
  await made.getByRole('link', { name: 'Suppressions' }).click();
  await page.waitForURL('**/suppressions');
  const row = page.locator('tr[data-suppression]');
  for (let i = 0; ; i++) {
    await row.first().waitFor();
    const cells = await row.first().locator('td').allInnerTexts();
    if (cells[cells.length - 2] === '1') break;
    check(i < 100, `the suppression's hits reach 1: ${cells.join(' | ')}`);
    await page.waitForTimeout(200);
    await page.reload();
  }
  const text = (await row.first().innerText()).replace(/\s+/g, ' ');
  for (const w of ['Tenant gwynedd', 'whoami run', 'host = WS1', "WS1 is the IT team's admin workstation", 'ceri', 'active']) check(text.includes(w), `the row shows ${w}: ${text}`);
  await shot(page, 'suppressions');
  await axe(page, 'suppressions');
  log('the suppression stopped WS1\'s new detection');

  // Welsh.
  await page.getByLabel('Language').selectOption('cy');
  await page.getByRole('heading', { name: 'Ataliadau', level: 1 }).waitFor();
  const cy = await page.locator('main').innerText();
  for (const en of ['Suppressions', 'Rule', 'Reason', 'Expires', 'Hits', 'Remove', 'active', 'Added']) check(!new RegExp(`\\b${en}\\b`).test(cy), `no English "${en}" in Welsh:\n${cy}`);
  await page.getByLabel('Iaith').selectOption('en');
  await page.getByRole('heading', { name: 'Suppressions', level: 1 }).waitFor();
  log('Welsh');

  // The member's viewer: sees it, cannot remove it, cannot suppress.
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByRole('heading', { name: 'Log in' }).waitFor();
  await login(page, env.VIEWER_USER, env.VIEWER_PASSWORD);
  await page.getByRole('link', { name: /^Suppressions:/ }).click();
  await page.waitForURL('**/suppressions');
  await row.first().waitFor();
  check((await page.getByRole('button', { name: /^Remove/ }).count()) === 0, 'no Remove for a viewer');
  await page.goto(`${base}/alerts/${env.ALERT_WS2}`);
  await page.getByRole('heading', { name: 'whoami run', level: 1 }).waitFor();
  check((await page.getByRole('button', { name: 'Suppress similar alerts…' }).count()) === 0, 'no Suppress for a viewer');
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByRole('heading', { name: 'Log in' }).waitFor();
  log('member viewer: reads, does not tune');

  // Removal, after a confirmation with the focus on Cancel.
  await login(page, env.CONSOLE_USER, env.CONSOLE_PASSWORD);
  await page.goto(`${base}/suppressions`);
  await row.first().waitFor();
  await page.getByRole('button', { name: /^Remove suppression/ }).click();
  const confirm = page.getByTestId('suppression-remove-confirm');
  await confirm.getByText('Remove the suppression of host = WS1 at Tenant gwynedd?').waitFor();
  check(await page.evaluate(() => document.activeElement?.textContent?.trim()) === 'Cancel', 'the focus is on Cancel');
  await page.keyboard.press('Escape');
  await confirm.waitFor({ state: 'detached' });
  const back = await page.evaluate(() => document.activeElement?.getAttribute('aria-label') ?? '');
  check(/^Remove suppression \d+$/.test(back), `Escape gives the focus back to Remove: ${back}`);
  await page.getByRole('button', { name: /^Remove suppression/ }).click();
  await confirm.getByRole('button', { name: 'Yes, remove it' }).click();
  await page.getByRole('status').filter({ hasText: /^Suppression \d+ removed\.$/ }).waitFor();
  await page.getByTestId('suppressions-empty').waitFor();
  log('removed after a confirmation');

  finish();
} finally {
  await close();
}
