// The campaigns' status, closing and reopening in Debian's chromium; run by
// internal/e2e/console_campaigns_test.go, which sets up three campaigns at
// the same three members: ACTIVE_CAMPAIGN (login.phish-wave.net, minutes
// ago), QUIET_CAMPAIGN (old.phish-wave.net, three hours ago) and
// CLOSED_CAMPAIGN (cdn.phish-wave.net, two hours ago, closed by the
// provider's token "night-bot" with a note).
//
// Environment: TARIAN_URL, CONSOLE_USER and CONSOLE_PASSWORD (a provider
// analyst), ACTIVE_CAMPAIGN, QUIET_CAMPAIGN, CLOSED_CAMPAIGN, CHROMIUM,
// SCREENSHOTS.
import { axe, base, browser, check, finish, log, login, shot, watch } from './lib.mjs';

const env = process.env;
const user = env.CONSOLE_USER;
const active = env.ACTIVE_CAMPAIGN;
const quiet = env.QUIET_CAMPAIGN;
const closed = env.CLOSED_CAMPAIGN;
const note = 'Sender blocked at every gateway; users warned.';
const { ctx, close } = await browser();

async function noEnglish(page, words) {
  const body = await page.locator('main').innerText();
  for (const en of words) check(!new RegExp(`\\b${en}\\b`).test(body), `no English "${en}" left in Welsh:\n${body}`);
}

try {
  const page = watch(ctx.pages()[0] ?? (await ctx.newPage()), 'campaigns');
  await login(page, user, env.CONSOLE_PASSWORD);
  const row = (id) => page.locator(`tr[data-campaign-id="${id}"]`);
  const filter = page.getByLabel('Show');

  // The list shows the open campaigns by default: one active, one quiet;
  // the one the bot closed is not among them.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Campaigns' }).click();
  await page.waitForURL('**/campaigns');
  await page.getByRole('heading', { name: 'Campaigns', level: 1 }).waitFor();
  check((await filter.inputValue()) === 'open', 'the list shows the open campaigns by default');
  await row(active).waitFor();
  await row(quiet).waitFor();
  check((await row(active).locator('td').last().innerText()).trim() === 'Active', `active campaign: ${await row(active).innerText()}`);
  check((await row(quiet).locator('td').last().innerText()).trim() === 'Quiet', `quiet campaign: ${await row(quiet).innerText()}`);
  check((await row(closed).count()) === 0, 'the closed campaign is not in the open list');
  await shot(page, 'campaigns-open');
  await axe(page, 'campaigns (open)');

  // The closed filter: the bot's closing, by the token's name; kept in
  // the URL over a reload.
  await filter.selectOption('closed');
  await page.waitForURL('**/campaigns?status=closed');
  await row(closed).waitFor();
  await row(closed).filter({ hasText: 'by night-bot (API token)' }).waitFor();
  check((await row(closed).locator('.state').innerText()) === 'Closed', 'the closed campaign reads Closed');
  check((await row(active).count()) === 0 && (await row(quiet).count()) === 0, 'no open campaign in the closed list');
  await page.reload();
  await row(closed).waitFor();
  check((await filter.inputValue()) === 'closed', 'the closed filter survives a reload');
  await axe(page, 'campaigns (closed)');
  log('the list: open by default (active, quiet), closed on request');

  // Close the active campaign with a note, from the keyboard. A note
  // longer than the server keeps is refused first, saying why.
  await filter.selectOption('open');
  await page.waitForURL(/\/campaigns$/);
  await row(active).getByRole('link').click();
  await page.waitForURL(`**/campaigns/${active}`);
  await page.getByRole('heading', { name: 'Campaign: Domain login.phish-wave.net', level: 1 }).waitFor();
  check((await page.getByTestId('campaign-state').innerText()) === 'Active', 'the campaign reads Active');
  await page.getByRole('heading', { name: 'Actions', level: 2 }).waitFor();
  const noteField = page.getByLabel('Closing note (optional)');
  await noteField.fill('é'.repeat(2049)); // 4,098 bytes in 2,049 characters
  await page.getByRole('button', { name: 'Close the campaign' }).click();
  await page.getByRole('alert').filter({ hasText: 'The note is too long: at most 4,096 bytes.' }).waitFor();
  check((await page.getByTestId('campaign-state').innerText()) === 'Active', 'a refused note closes nothing');
  await axe(page, 'campaign (note too long)');
  await noteField.fill('');
  await noteField.focus();
  await page.keyboard.type(note);
  await page.keyboard.press('Tab');
  check((await page.evaluate(() => document.activeElement?.textContent)) === 'Close the campaign', 'Tab from the note reaches Close');
  await page.keyboard.press('Enter');
  await page.getByRole('status').filter({ hasText: 'Campaign closed.' }).waitFor();
  check((await page.getByTestId('campaign-state').innerText()) === 'Closed', 'the campaign reads Closed');
  check((await page.getByTestId('campaign-closed').innerText()).endsWith(`by ${user}`), `closed by ${user}: ${await page.getByTestId('campaign-closed').innerText()}`);
  check((await page.getByTestId('campaign-note').innerText()) === note, 'the closing note is shown');
  check((await page.getByRole('alert').count()) === 0, 'no error after closing');
  check((await page.evaluate(() => document.activeElement?.textContent)) === 'Reopen the campaign', 'the focus moves to Reopen');
  check((await page.locator('tr[data-member] a[href^="/alerts/"]').count()) === 3, 'the members and their alerts stay');
  await shot(page, 'campaign-closed');
  await axe(page, 'campaign (closed)');
  log(`campaign ${active} closed with a note`);

  // The working list no longer has it; the closed one does, by the
  // analyst.
  await page.getByRole('link', { name: '← All campaigns' }).click();
  await page.waitForURL(/\/campaigns$/);
  await row(quiet).waitFor();
  check((await row(active).count()) === 0, 'the closed campaign left the open list');
  await filter.selectOption('closed');
  await row(active).filter({ hasText: `by ${user}` }).waitFor();
  await row(closed).waitFor();
  await filter.selectOption('all');
  await page.waitForURL('**/campaigns?status=all');
  for (const id of [active, quiet, closed]) await row(id).waitFor();
  log('the closed campaign is under the closed filter only');

  // Reopen: open and active again, its closing gone.
  await row(active).getByRole('link').click();
  await page.waitForURL(`**/campaigns/${active}`);
  await page.getByRole('button', { name: 'Reopen the campaign' }).click();
  await page.getByRole('status').filter({ hasText: 'Campaign reopened: it is open again.' }).waitFor();
  check((await page.getByTestId('campaign-state').innerText()) === 'Active', 'the reopened campaign reads Active');
  check((await page.getByTestId('campaign-closed').count()) === 0 && (await page.getByTestId('campaign-note').count()) === 0, 'the closing is gone');
  check((await page.evaluate(() => document.activeElement?.textContent)) === 'Close the campaign', 'the focus moves to Close');
  await page.getByRole('link', { name: '← All campaigns' }).click();
  await page.waitForURL(/\/campaigns$/);
  await row(active).waitFor();
  log(`campaign ${active} reopened`);

  // Welsh: the campaign page and the list of all.
  await page.getByLabel('Language').selectOption('cy');
  await page.goto(`${base}/campaigns/${active}`);
  await page.getByRole('heading', { name: 'Ymgyrch: Parth login.phish-wave.net', level: 1 }).waitFor();
  check((await page.getByTestId('campaign-state').innerText()) === 'Gweithredol', 'Welsh: active');
  await page.getByRole('heading', { name: 'Camau', level: 2 }).waitFor();
  await page.getByLabel('Nodyn cau (dewisol)').waitFor();
  await page.getByRole('button', { name: "Cau'r ymgyrch" }).waitFor();
  await noEnglish(page, ['Active', 'Actions', 'Close', 'Closing', 'optional', 'Reopen']);
  await axe(page, 'campaign (Welsh)');
  await page.goto(`${base}/campaigns/${closed}`);
  await page.getByRole('button', { name: 'Ailagor yr ymgyrch' }).waitFor();
  check((await page.getByTestId('campaign-state').innerText()) === 'Ar gau', 'Welsh: closed');
  // The token's name comes from the actors' API, after the page.
  await page.getByTestId('campaign-closed').filter({ hasText: 'gan night-bot' }).waitFor({ timeout: 10000 });
  check((await page.getByTestId('campaign-closed').innerText()).includes('gan night-bot'), 'Welsh: closed by the bot');
  await noEnglish(page, ['Closed', 'Closing note', 'Reopen', 'by']);
  await page.goto(`${base}/campaigns?status=all`);
  await page.getByRole('heading', { name: 'Ymgyrchoedd', level: 1 }).waitFor();
  check((await page.getByLabel('Dangos').inputValue()) === 'all', 'Welsh: the filter');
  await row(quiet).waitFor();
  check((await row(active).locator('.state').innerText()) === 'Gweithredol', 'Welsh list: active');
  check((await row(quiet).locator('.state').innerText()) === 'Tawel', 'Welsh list: quiet');
  check((await row(closed).locator('.state').innerText()) === 'Ar gau', 'Welsh list: closed');
  await noEnglish(page, ['Active', 'Quiet', 'Closed', 'Show', 'All campaigns', 'by']);
  await shot(page, 'campaigns-cy');
  await axe(page, 'campaigns (Welsh)');
  log('Welsh');
  await page.getByLabel('Iaith').selectOption('en');
  finish();
} finally {
  await close();
}
