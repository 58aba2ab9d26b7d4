// The administration page's deletes and what ends with a user
// (web/src/admin: Rules, Tokens, Users), driven in chromium against a real
// server set up by internal/e2e/console_admin_rules_test.go, which checks
// afterwards that the server holds what the browser did.
//
// Environment: TARIAN_URL, CHROMIUM, SCREENSHOTS (see lib.mjs);
// ADMIN_USER and ADMIN_PASSWORD (a provider-admin), GW_ADMIN and
// GW_ADMIN_PASSWORD (gwynedd's tenant-admin), OTHER_ADMIN (another of
// gwynedd's admins, with one token acting for it), LEAVER (a third, with one
// token acting for it, whom the browser deletes), FILTER_ID (gwynedd's own
// filter "lab"), BASE_ID ("failed logon", which the correlation CORR_ID
// "password spray" uses), RULE_ID ("whoami run", a shared rule).
import { axe, base, browser, check, finish, log, login, shot, watch } from './lib.mjs';

const env = process.env;
const { ctx, close } = await browser();

// The refusal the test provokes on purpose: deleting a rule in use.
const allowed = (st, method, path) => st === 409 && method === 'DELETE' && path === `/api/v1/rules/${env.BASE_ID}`;

async function tab(page, name, path) {
  await page.locator('nav.tabs').getByRole('link', { name, exact: true }).click();
  await page.waitForURL(`**/admin/${path}`);
  await page.locator(`nav.tabs a[aria-current="page"][href="/admin/${path}"]`).waitFor();
}

async function status(page, text) {
  await page.getByRole('status').filter({ hasText: text }).first().waitFor();
}

// focused is the focused element's accessible name, near enough: its
// aria-label, else its text.
async function focused(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    return el?.getAttribute('aria-label') || el?.textContent?.trim() || '';
  });
}

try {
  // gwynedd's tenant-admin: Delete on its own filter only.
  const member = watch(ctx.pages()[0] ?? (await ctx.newPage()), 'tenant admin');
  await login(member, env.GW_ADMIN, env.GW_ADMIN_PASSWORD);
  await member.goto(`${base}/admin/rules`);
  const lab = member.locator(`tr[data-rule="${env.FILTER_ID}"]`);
  // Marked as gwynedd's own, by its name.
  await lab.filter({ hasText: "Tenant gwynedd's own filter" }).waitFor();
  await member.locator(`tr[data-rule="${env.RULE_ID}"]`).waitFor();
  check((await member.locator('tr[data-own="shared"] button[data-delete]').count()) === 0, 'no Delete on a shared rule for a tenant-admin');
  check((await member.getByRole('button', { name: 'Delete whoami run' }).count()) === 0, 'no "Delete whoami run" for a tenant-admin');
  // From the keyboard: Enter asks, the focus is on Cancel, Escape cancels
  // and gives the focus back.
  const del = member.getByRole('button', { name: 'Delete lab' });
  await del.focus();
  await member.keyboard.press('Enter');
  const confirm = member.getByTestId('rule-delete-confirm');
  await confirm.waitFor();
  await confirm.getByText("Delete Tenant gwynedd's filter “lab”").waitFor();
  const question = await confirm.innerText();
  check(question.includes('Delete Tenant gwynedd\'s filter “lab”') && question.includes(env.FILTER_ID), `the confirmation names the filter: ${question}`);
  check((await focused(member)) === 'Cancel', `the focus is on Cancel: ${await focused(member)}`);
  await axe(member, 'admin rules, confirming a delete (tenant-admin)');
  await shot(member, 'admin-rules-delete-confirm');
  await member.keyboard.press('Escape');
  await confirm.waitFor({ state: 'detached' });
  check((await focused(member)) === 'Delete lab', `the focus is back on Delete: ${await focused(member)}`);
  check((await member.locator(`tr[data-rule="${env.FILTER_ID}"]`).count()) === 1, 'Escape deletes nothing');
  await member.keyboard.press('Enter');
  await confirm.waitFor();
  await member.keyboard.press('Shift+Tab');
  check((await focused(member)) === 'Yes, delete “lab”', `Shift+Tab reaches the delete: ${await focused(member)}`);
  await member.keyboard.press('Enter');
  await status(member, 'Deleted the filter lab.');
  await lab.waitFor({ state: 'detached' });
  await confirm.waitFor({ state: 'detached' });
  check((await member.evaluate(() => document.activeElement?.id)) === 'rules-title', 'after the delete the focus is on the heading');
  log('the tenant-admin deleted its own filter from the keyboard');

  // Its tokens act for it, and the page says what that means.
  await member.goto(`${base}/admin/tokens`);
  await member.getByLabel('Role').locator('option').first().waitFor({ state: 'attached' });
  for (const name of ['gwyn bot a', 'gwyn bot b']) {
    await member.getByLabel('Role').selectOption('ingest');
    await member.getByLabel('Name').fill(name);
    await member.getByRole('button', { name: 'Create token' }).click();
    await status(member, 'Token ');
    const row = member.locator('table.admin-tokens tbody tr').filter({ hasText: name });
    await row.waitFor();
    check((await row.locator('td[data-user]').innerText()) === env.GW_ADMIN, `${name} acts for ${env.GW_ADMIN}`);
  }
  await member.getByRole('columnheader', { name: 'Acts for' }).waitFor();
  check((await member.getByTestId('token-user-help').innerText()).includes('stops working when that user is disabled or reset'), 'the help says when such a token ends');
  await axe(member, 'admin tokens (tenant-admin)');
  // Users: Delete for another of its member's users, not for its own.
  await member.goto(`${base}/admin/users`);
  await member.getByRole('button', { name: `Delete ${env.LEAVER}` }).waitFor();
  check((await member.locator(`tr[data-user="${env.GW_ADMIN}"] button[data-delete]`).count()) === 0, 'no Delete on the own row of a tenant-admin');
  await member.getByRole('button', { name: 'Log out' }).click();
  await member.getByRole('heading', { name: 'Log in' }).waitFor();
  log('the tenant-admin made two tokens that act for it');

  // The provider-admin: Delete on shared rules; a rule in use is refused.
  const page = watch(await ctx.newPage(), 'provider admin', allowed);
  await login(page, env.ADMIN_USER, env.ADMIN_PASSWORD);
  await page.goto(`${base}/admin/rules`);
  await page.getByLabel(/^Member\b/).selectOption('gwynedd');
  await page.locator(`tr[data-rule="${env.RULE_ID}"]`).waitFor();
  await page.getByRole('button', { name: 'Delete failed logon' }).click();
  const pconfirm = page.getByTestId('rule-delete-confirm');
  await pconfirm.waitFor();
  check((await pconfirm.innerText()).includes('Delete the rule “failed logon”') && (await pconfirm.innerText()).includes('for every member?'), `the shared rule's confirmation: ${await pconfirm.innerText()}`);
  await page.getByRole('button', { name: 'Yes, delete “failed logon”' }).click();
  const refusal = pconfirm.getByRole('alert');
  await refusal.waitFor();
  const why = await refusal.innerText();
  check(why.startsWith('The server refused:') && why.includes(`used by the correlation ${env.CORR_ID} ("password spray")`), `the refusal names the correlation: ${why}`);
  check((await focused(page)) === 'Cancel', `after the refusal the focus is on Cancel: ${await focused(page)}`);
  await shot(page, 'admin-rules-delete-in-use');
  await axe(page, 'admin rules, a delete refused');
  await page.getByRole('button', { name: 'Cancel' }).click();
  await pconfirm.waitFor({ state: 'detached' });
  await page.locator(`tr[data-rule="${env.BASE_ID}"]`).waitFor();
  log('a rule a correlation uses is refused, naming it');

  // In Welsh, then deleted for every member.
  await page.getByRole('button', { name: 'Delete whoami run' }).click();
  await pconfirm.waitFor();
  await page.getByLabel('Language').selectOption('cy');
  await pconfirm.getByText("Dileu'r rheol “whoami run”").waitFor();
  const cy = await pconfirm.innerText();
  for (const w of ['i bob aelod?', 'cedwir y rhybuddion', 'Ie, dileu “whoami run”', 'Canslo']) check(cy.includes(w), `Welsh confirmation has ${w}: ${cy}`);
  for (const w of ['Delete', 'Cancel', 'every member']) check(!cy.includes(w), `no English "${w}" in the Welsh confirmation: ${cy}`);
  await page.getByLabel('Iaith').selectOption('en');
  await page.getByRole('button', { name: 'Yes, delete “whoami run”' }).click();
  await status(page, 'Deleted whoami run for every member; the alerts it raised are kept.');
  await page.locator(`tr[data-rule="${env.RULE_ID}"]`).waitFor({ state: 'detached' });
  await page.getByLabel(/^Member\b/).selectOption('powys');
  await page.locator(`tr[data-rule="${env.BASE_ID}"]`).waitFor();
  check((await page.locator(`tr[data-rule="${env.RULE_ID}"]`).count()) === 0, 'whoami run is gone for powys too');
  log('a shared rule deleted for every member');

  // The tokens, each with the user it acts for.
  await tab(page, 'API tokens', 'tokens');
  for (const [name, user] of [['gwyn bot a', env.GW_ADMIN], ['gwyn bot b', env.GW_ADMIN], ['ceri bot', env.OTHER_ADMIN], ['mabon bot', env.LEAVER]]) {
    const row = page.locator('table.admin-tokens tbody tr').filter({ hasText: name });
    await row.waitFor();
    check((await row.locator('td[data-user]').innerText()) === user, `${name} acts for ${user}`);
  }

  // Disabling gwyn revokes its two tokens, and the page says so.
  await tab(page, 'Users', 'users');
  await page.getByRole('button', { name: `Disable ${env.GW_ADMIN}` }).click();
  await status(page, `User ${env.GW_ADMIN} disabled: their sessions have ended, and 2 API tokens that acted for them were revoked.`);
  await page.locator(`tr[data-user="${env.GW_ADMIN}"] td[data-state="disabled"]`).waitFor();
  // Enabled and reset: nothing left to revoke, nothing said of tokens.
  await page.getByRole('button', { name: `Enable ${env.GW_ADMIN}` }).click();
  await status(page, `User ${env.GW_ADMIN} enabled.`);
  await page.getByRole('button', { name: `Reset ${env.GW_ADMIN}` }).click();
  await status(page, `User ${env.GW_ADMIN} reset.`);
  check(!(await page.locator('.notice').innerText()).includes('token'), 'a reset that revoked nothing says nothing of tokens');
  await axe(page, 'admin users');
  log('disabling a user says its tokens were revoked');

  // A leaver: Delete asks first, naming the user and the token that goes
  // with them; the focus is on Cancel, Escape cancels. None for oneself.
  check((await page.locator(`tr[data-user="${env.ADMIN_USER}"] button[data-delete]`).count()) === 0, 'no Delete on the own row');
  const leaver = page.locator(`tr[data-user="${env.LEAVER}"]`);
  const delUser = page.getByRole('button', { name: `Delete ${env.LEAVER}` });
  await delUser.click();
  const uconfirm = page.getByTestId('user-delete-confirm');
  await uconfirm.waitFor();
  await page.getByRole('group', { name: `Delete the user ${env.LEAVER}?` }).waitFor();
  const asked = await uconfirm.innerText();
  check(asked.includes('the 1 API token that acts for them is revoked; this cannot be undone.'), `the confirmation counts the token: ${asked}`);
  check((await focused(page)) === 'Cancel', `the focus is on Cancel: ${await focused(page)}`);
  await axe(page, 'admin users, confirming a delete');
  await shot(page, 'admin-users-delete-confirm');
  await page.keyboard.press('Escape');
  await uconfirm.waitFor({ state: 'detached' });
  check((await focused(page)) === `Delete ${env.LEAVER}`, `the focus is back on Delete: ${await focused(page)}`);
  check((await leaver.count()) === 1, 'Escape deletes nothing');
  // In Welsh, then deleted: the row goes, the notice counts the token.
  await delUser.click();
  await uconfirm.waitFor();
  await page.getByLabel('Language').selectOption('cy');
  await uconfirm.getByText(`Dileu'r defnyddiwr ${env.LEAVER}?`).waitFor();
  const ucy = await uconfirm.innerText();
  for (const w of ['1 tocyn API', 'ni ellir dadwneud hyn', `Ie, dileu ${env.LEAVER}`, 'Canslo']) check(ucy.includes(w), `Welsh confirmation has ${w}: ${ucy}`);
  for (const w of ['Delete', 'Cancel', 'token ', 'undone']) check(!ucy.includes(w), `no English "${w}" in the Welsh confirmation: ${ucy}`);
  await page.getByLabel('Iaith').selectOption('en');
  await page.getByRole('button', { name: `Yes, delete ${env.LEAVER}` }).click();
  await status(page, `User ${env.LEAVER} deleted: their sessions have ended, and 1 API token that acted for them was revoked.`);
  await leaver.waitFor({ state: 'detached' });
  await uconfirm.waitFor({ state: 'detached' });
  check((await page.evaluate(() => document.activeElement?.id)) === 'users-title', 'after the delete the focus is on the heading');
  await axe(page, 'admin users, a user deleted');
  log(`${env.LEAVER} deleted, the notice counting the token revoked`);

  // In Welsh: resetting ceri revokes its one token.
  await page.getByLabel('Language').selectOption('cy');
  await page.getByRole('button', { name: `Ailosod ${env.OTHER_ADMIN}` }).click();
  await status(page, `Ailosodwyd defnyddiwr ${env.OTHER_ADMIN}, a dirymwyd 1 tocyn API a oedd yn gweithredu ar eu rhan.`);
  await shot(page, 'admin-users-revoked-cy');
  await tab(page, 'Tocynnau API', 'tokens');
  await page.getByRole('columnheader', { name: 'Yn gweithredu ar ran' }).waitFor();
  check((await page.getByTestId('token-user-help').innerText()).includes('pan gaiff y defnyddiwr hwnnw ei analluogi neu ei ailosod'), 'the Welsh help');
  await page.locator('table.admin-tokens tbody tr').first().waitFor();
  const left = await page.locator('table.admin-tokens tbody').innerText();
  check(!left.includes('bot'), `no token acting for gwyn or ceri is left: ${left}`);
  await page.getByLabel('Iaith').selectOption('en');
  log('Welsh');

  finish();
} finally {
  await close();
}
