// A night shift's triage in Debian's chromium, against a running tarian
// server; run by internal/e2e/console_triage_test.go, which sets up one
// member with four new alerts and afterwards checks what the server holds.
//
// In the queue of new alerts the analyst acknowledges one with `a`: the
// row leaves the queue and the next one takes its place as the current
// row, with the focus, so a second `a` acknowledges that one (it went
// back to the top, or nowhere, before). The connection is lost: a filter
// changed meanwhile fails, a banner says the server cannot be reached;
// once it is back the banner goes and the queue shows the filter's answer
// without a reload. On an alert's page, resolving with a note shows the
// note and offers only Reopen, which puts the alert back in progress.
//
// Environment: TARIAN_URL, CHROMIUM, SCREENSHOTS (lib.mjs); CONSOLE_USER
// and CONSOLE_PASSWORD (a provider analyst).
import { axe, base, browser, check, finish, log, login, shot, watch } from './lib.mjs';

const env = process.env;
const { ctx, close } = await browser();

const rowIDs = (page) => page.locator('tbody tr[data-alert-id]').evaluateAll((rows) => rows.map((r) => r.dataset.alertId));
const currentID = (page) => page.locator('tr.current').getAttribute('data-alert-id');
const focusedRow = (page) => page.evaluate(() => document.activeElement?.closest('tr[data-alert-id]')?.getAttribute('data-alert-id') ?? null);

try {
  const page = watch(ctx.pages()[0] ?? (await ctx.newPage()), 'triage tab');
  await login(page, env.CONSOLE_USER, env.CONSOLE_PASSWORD);

  // The queue of new alerts, walked with the keyboard.
  await page.goto(`${base}/alerts?status=new&member=gwynedd`);
  await page.locator('.live[data-live="live"]').waitFor();
  await page.locator('tbody tr[data-alert-id]').nth(3).waitFor();
  const ids = await rowIDs(page);
  check(ids.length === 4, `four new alerts in the queue, got ${ids.length}`);
  await page.getByRole('heading', { name: 'Alerts', level: 1 }).click();
  await page.keyboard.press('j');
  check((await currentID(page)) === ids[1], `j makes the second row current (${ids[1]}), got ${await currentID(page)}`);

  // a: the second row is acknowledged and leaves the queue of new ones;
  // the third takes its place as the current row and keeps the focus.
  let ack = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith(`/api/v1/alerts/${ids[1]}/ack`));
  await page.keyboard.press('a');
  check((await ack).status() === 200, 'the acknowledgement succeeds');
  await page.locator(`tr[data-alert-id="${ids[1]}"]`).waitFor({ state: 'detached' });
  await page.getByRole('status').filter({ hasText: 'Alerts acknowledged: 1.' }).waitFor();
  check((await currentID(page)) === ids[2], `after a, the next row (${ids[2]}) is current, got ${await currentID(page)}`);
  check((await focusedRow(page)) === ids[2], `after a, the focus is on the next row (${ids[2]}), got ${await focusedRow(page)}`);
  await shot(page, 'triage-after-ack');

  // a again acknowledges that one, not the first row or nothing.
  ack = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith(`/api/v1/alerts/${ids[2]}/ack`));
  await page.keyboard.press('a');
  check((await ack).status() === 200, 'the second acknowledgement succeeds');
  await page.locator(`tr[data-alert-id="${ids[2]}"]`).waitFor({ state: 'detached' });
  check(JSON.stringify(await rowIDs(page)) === JSON.stringify([ids[0], ids[3]]), `two new alerts are left: ${await rowIDs(page)}`);
  check((await currentID(page)) === ids[3], `then the last row (${ids[3]}) is current, got ${await currentID(page)}`);
  log(`acknowledged alerts ${ids[1]} and ${ids[2]} with a, a: the current row moved on`);

  // The connection goes: the filter changed meanwhile fails and a banner
  // says why; when it is back, the banner goes and the queue shows the
  // filter's answer (the acknowledged alerts) without a reload.
  await ctx.setOffline(true);
  await page.getByLabel('Status').selectOption('acknowledged');
  await page.getByTestId('offline').waitFor();
  check((await page.getByTestId('offline').innerText()).includes('cannot be reached'), 'the banner says the server cannot be reached');
  await page.getByRole('alert').filter({ hasText: 'Could not load the alerts.' }).waitFor();
  await shot(page, 'triage-offline');
  await axe(page, 'queue with the connection lost');
  await ctx.setOffline(false);
  await page.getByTestId('offline').waitFor({ state: 'detached', timeout: 20000 });
  await page.getByRole('alert').filter({ hasText: 'Could not load the alerts.' }).waitFor({ state: 'detached' });
  await page.locator(`tr[data-alert-id="${ids[1]}"] td[data-status="acknowledged"]`).waitFor();
  await page.locator(`tr[data-alert-id="${ids[2]}"] td[data-status="acknowledged"]`).waitFor();
  check((await rowIDs(page)).length === 2, `the acknowledged alerts only: ${await rowIDs(page)}`);
  log('the connection came back: banner gone, the queue reloaded');

  // An alert resolved with a note: the note is shown, and the only action
  // left is Reopen, which puts the alert back in progress.
  await page.goto(`${base}/alerts/${ids[0]}`);
  await page.getByRole('heading', { level: 1 }).waitFor();
  await page.getByLabel('Classification').selectOption('benign-positive');
  await page.getByLabel('Note', { exact: true }).fill('The logon script of the IT team.');
  await page.getByRole('button', { name: 'Resolve', exact: true }).click();
  await page.getByTestId('alert-note').filter({ hasText: 'The logon script of the IT team.' }).waitFor();
  let facts = await page.locator('dl.facts').first().innerText();
  check(facts.includes('Resolved (Benign positive)') && facts.includes('Resolution note'), `the facts show the resolution and its note:\n${facts}`);
  check((await page.getByRole('button', { name: 'Resolve', exact: true }).count()) === 0, 'a resolved alert offers no Resolve');
  check((await page.getByRole('button', { name: 'Assign', exact: true }).count()) === 0, 'a resolved alert offers no Assign');
  await shot(page, 'triage-resolved');
  await axe(page, 'resolved alert');
  await page.getByRole('button', { name: 'Reopen' }).click();
  await page.getByRole('status').filter({ hasText: 'Reopened' }).waitFor();
  facts = await page.locator('dl.facts').first().innerText();
  check(facts.includes('In progress') && !facts.includes('Resolution note'), `reopened, in progress, no resolution note:\n${facts}`);
  await page.getByRole('button', { name: 'Resolve', exact: true }).waitFor();
  log(`resolved alert ${ids[0]} with a note, saw it, reopened it`);

  // Welsh: the new words are translated.
  await page.getByTestId('lang').selectOption('cy');
  await page.getByRole('button', { name: 'Datrys', exact: true }).waitFor();
  await page.getByTestId('lang').selectOption('en');
  finish();
} finally {
  await close();
}
