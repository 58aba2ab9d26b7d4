// The administration page (web/src/admin), driven in chromium against a
// real server set up by internal/e2e/console_admin_test.go, which checks
// afterwards that the server holds what the browser did.
//
// Environment: TARIAN_URL, CHROMIUM, SCREENSHOTS (see lib.mjs);
// ADMIN_USER and ADMIN_PASSWORD (a provider-admin), GW_ADMIN and
// GW_ADMIN_PASSWORD (gwynedd's tenant-admin), GW_USER (another gwynedd
// user), POWYS_USER (a powys user), RULE_ID and RULE_TITLE (a shared rule),
// OTHER_RULE_TITLE (another), CHANNEL (a provider webhook channel's name),
// NEW_MEMBER, NEW_USER (what the browser creates).
import { axe, base, browser, check, finish, log, login, shot, watch } from './lib.mjs';

const env = process.env;
const { ctx, close } = await browser();

// The refusals the test provokes on purpose.
const allowed = (st, method, path) => st === 409 && method === 'POST' && path === '/api/v1/users';

async function tab(page, name, path) {
  await page.locator('nav.tabs').getByRole('link', { name, exact: true }).click();
  await page.waitForURL(`**/admin/${path}`);
  await page.locator(`nav.tabs a[aria-current="page"][href="/admin/${path}"]`).waitFor();
}

async function status(page, text) {
  await page.getByRole('status').filter({ hasText: text }).first().waitFor();
}

try {
  const page = watch(ctx.pages()[0] ?? (await ctx.newPage()), 'provider admin', allowed);
  await login(page, env.ADMIN_USER, env.ADMIN_PASSWORD);
  await page.getByRole('link', { name: 'Administration' }).click();
  await page.waitForURL('**/admin');
  await page.getByRole('heading', { level: 1, name: 'Administration' }).waitFor();

  // Members: the list, then a new member through the form.
  await tab(page, 'Members', 'members');
  await page.locator('tr[data-member="gwynedd"]').waitFor();
  await page.locator('tr[data-member="powys"]').waitFor();
  await page.getByLabel('Member ID').fill(env.NEW_MEMBER);
  await page.getByLabel('Name').fill('Cyngor Conwy');
  await page.getByRole('button', { name: 'Add member' }).click();
  await status(page, `Member ${env.NEW_MEMBER} added.`);
  const row = page.locator(`tr[data-member="${env.NEW_MEMBER}"]`);
  await row.waitFor();
  check((await row.innerText()).includes('Cyngor Conwy'), 'the new member is listed with its name');
  await shot(page, 'admin-members');
  await axe(page, 'admin members');
  log(`member ${env.NEW_MEMBER} added`);

  // Users: every member's, then a user of the new member.
  await tab(page, 'Users', 'users');
  for (const u of [env.ADMIN_USER, env.GW_ADMIN, env.GW_USER, env.POWYS_USER]) await page.locator(`tr[data-user="${u}"]`).waitFor();
  await page.getByLabel(/^Name\b/).fill(env.NEW_USER);
  await page.getByLabel('Role').selectOption('tenant-analyst');
  await page.getByLabel(/^Member\b/).selectOption(env.NEW_MEMBER);
  await page.getByLabel('Email').fill(`${env.NEW_USER}@conwy.example`);
  await page.getByLabel('Password').fill('a long password for the analyst');
  await page.getByLabel('Require two-step verification').check();
  await page.getByRole('button', { name: 'Create user' }).click();
  await status(page, `User ${env.NEW_USER} created.`);
  const user = page.locator(`tr[data-user="${env.NEW_USER}"]`);
  await user.waitFor();
  const userText = await user.innerText();
  // The member by the name just given it.
  for (const w of ['Cyngor Conwy', 'member analyst', 'Required, not yet enrolled', 'Enabled']) check(userText.includes(w), `the new user's row shows ${w}: ${userText}`);
  // The same name again: the server's own refusal is shown.
  await page.getByLabel(/^Name\b/).fill(env.NEW_USER);
  await page.getByRole('button', { name: 'Create user' }).click();
  await page.getByRole('alert').filter({ hasText: `The server refused: a user called ${env.NEW_USER} exists` }).waitFor();
  // The member filter.
  await page.getByLabel('Show').selectOption('powys');
  await page.waitForFunction(() => document.querySelectorAll('table.admin-users tbody tr').length === 1);
  await page.locator(`tr[data-user="${env.POWYS_USER}"]`).waitFor();
  await page.getByLabel('Show').selectOption('');
  // Disable, then enable again.
  await page.getByRole('button', { name: `Disable ${env.NEW_USER}` }).click();
  await user.locator('td[data-state="disabled"]').waitFor();
  await status(page, `User ${env.NEW_USER} disabled`);
  await page.getByRole('button', { name: `Enable ${env.NEW_USER}` }).click();
  await user.locator('td[data-state="enabled"]').waitFor();
  await status(page, `User ${env.NEW_USER} enabled.`);
  // Reset: a one-time password, shown once.
  await page.getByRole('button', { name: `Reset ${env.NEW_USER}` }).click();
  await status(page, `User ${env.NEW_USER} reset.`);
  check((await page.getByTestId('user-password').innerText()).length >= 12, 'the one-time password is shown');
  await shot(page, 'admin-users');
  await axe(page, 'admin users');
  log(`user ${env.NEW_USER} created, disabled and enabled`);

  // Tokens: create one (the secret shown once), see it listed, revoke it.
  await tab(page, 'API tokens', 'tokens');
  await page.getByLabel('Role').selectOption('ingest');
  await page.getByLabel(/^Member\b/).selectOption(env.NEW_MEMBER);
  await page.getByLabel('Name').fill('conwy syslog');
  const nextYear = `${new Date().getFullYear() + 1}-06-30`;
  await page.getByLabel('Expires').fill(nextYear);
  await page.getByRole('button', { name: 'Create token' }).click();
  const secret = page.getByTestId('token-secret');
  await secret.waitFor();
  check((await secret.innerText()).startsWith('trn_'), 'the secret is shown');
  await page.getByText('Copy it now: it is shown only once').waitFor();
  const tokRow = page.locator('table.admin-tokens tbody tr').filter({ hasText: 'conwy syslog' });
  await tokRow.waitFor();
  const tokText = await tokRow.innerText();
  check(tokText.includes('Cyngor Conwy') && tokText.includes('ingest') && !tokText.includes('Never'), `the token's row: ${tokText}`);
  check(!tokText.includes(await secret.innerText()), 'the list never shows the secret');
  const tokID = await tokRow.getAttribute('data-token');
  await axe(page, 'admin tokens');
  // Away and back: the secret is gone for good.
  await tab(page, 'Users', 'users');
  await tab(page, 'API tokens', 'tokens');
  await tokRow.waitFor();
  check((await page.getByTestId('token-secret').count()) === 0, 'the secret is shown only once');
  await page.getByRole('button', { name: `Revoke token ${tokID}` }).click();
  await status(page, `Token ${tokID} revoked`);
  await page.locator(`tr[data-token="${tokID}"]`).waitFor({ state: 'detached' });
  log(`token ${tokID} created and revoked`);

  // Sources: cloud sources of a member, the notification channels, a test.
  await tab(page, 'Sources', 'sources');
  await page.getByRole('heading', { name: 'Cloud sources' }).waitFor();
  await page.getByText('No cloud sources.').waitFor();
  const hook = page.locator('table.admin-channels tbody tr').filter({ hasText: env.CHANNEL });
  await hook.waitFor();
  check(!(await hook.innerText()).includes('e2e-hook-secret'), 'no channel secret shown');
  await page.getByRole('button', { name: `Send test to ${env.CHANNEL}` }).click();
  await status(page, `Test notification delivered to ${env.CHANNEL}.`);
  await axe(page, 'admin sources');
  log('test notification sent');

  // Rules: gwynedd's, filters, counts, disable one for gwynedd only.
  await tab(page, 'Rules', 'rules');
  await page.getByLabel(/^Member\b/).selectOption('gwynedd');
  const counts = page.getByTestId('rule-counts');
  const rules = page.locator('table.admin-rules tbody tr');
  await page.locator(`tr[data-rule="${env.RULE_ID}"]`).waitFor();
  await page.waitForFunction(() => document.querySelector('[data-testid="rule-counts"]')?.textContent?.includes('Rules: 2. Enabled: 2; disabled: 0;'));
  await page.getByLabel('Search title, ID or tag').fill('whoami');
  await page.waitForFunction(() => document.querySelectorAll('table.admin-rules tbody tr').length === 1);
  check((await rules.first().innerText()).includes(env.RULE_TITLE), 'the text filter');
  await page.getByLabel('Search title, ID or tag').fill('');
  await page.getByLabel('Severity').selectOption('medium');
  await page.waitForFunction(() => document.querySelectorAll('table.admin-rules tbody tr').length === 1);
  check((await rules.first().innerText()).includes(env.OTHER_RULE_TITLE), 'the level filter');
  await page.getByLabel('Severity').selectOption('');
  const sources = await page.getByLabel('Log source').locator('option').allInnerTexts();
  check(sources.includes('windows/process_creation/-'), `the log source filter offers windows/process_creation/-: ${sources}`);
  await page.getByLabel('Log source').selectOption('windows/process_creation/-');
  await page.waitForFunction(() => document.querySelectorAll('table.admin-rules tbody tr').length === 2);
  await page.getByLabel('Log source').selectOption('');
  const rule = page.locator(`tr[data-rule="${env.RULE_ID}"]`);
  await page.getByRole('button', { name: `Disable ${env.RULE_TITLE}` }).click();
  await status(page, `Disabled ${env.RULE_TITLE}.`);
  await rule.locator('td[data-state="disabled"]').waitFor();
  await page.waitForFunction(() => document.querySelector('[data-testid="rule-counts"]')?.textContent?.includes('Rules: 2. Enabled: 1; disabled: 1;'));
  check((await counts.innerText()).includes('disabled: 1;'), 'the counts follow');
  await page.getByRole('button', { name: `Enable ${env.RULE_TITLE}` }).waitFor();
  // Per member: powys still runs it.
  await page.getByLabel(/^Member\b/).selectOption('powys');
  await page.waitForFunction(() => document.querySelector('[data-testid="rule-counts"]')?.textContent?.includes('Rules: 2. Enabled: 2; disabled: 0;'));
  await rule.locator('td[data-state="enabled"]').waitFor();
  await page.getByLabel(/^Member\b/).selectOption('gwynedd');
  await rule.locator('td[data-state="disabled"]').waitFor();
  await page.getByLabel('Status').selectOption('disabled');
  await page.waitForFunction(() => document.querySelectorAll('table.admin-rules tbody tr').length === 1);
  await page.getByLabel('Status').selectOption('');
  await shot(page, 'admin-rules');
  await axe(page, 'admin rules');
  log(`rule ${env.RULE_ID} disabled for gwynedd`);

  // Audit: verified, and what the browser did is in it.
  await tab(page, 'Audit', 'audit');
  await page.locator('[data-intact="true"]').waitFor();
  check((await page.locator('[data-intact="true"]').innerText()).startsWith('Verified: the audit trail is intact'), 'verification OK');
  for (const a of ['tenant.create', 'user.create', 'user.disable', 'user.enable', 'token.create', 'token.revoke', 'rule.disable', 'notify.channel.test']) {
    await page.locator(`table.admin-audit tr[data-action="${a}"]`).first().waitFor();
  }
  await page.getByRole('combobox', { name: /^Chain/ }).selectOption('gwynedd');
  await page.locator('[data-intact="true"]').waitFor();
  await page.locator('table.admin-audit tr[data-action="rule.disable"]').first().waitFor();
  await page.waitForFunction(() => {
    const scopes = [...document.querySelectorAll('table.admin-audit tbody tr td[data-scope]')].map((td) => `${td.dataset.scope}=${td.textContent}`);
    return scopes.length > 0 && scopes.every((s) => s === 'gwynedd=Tenant gwynedd');
  });
  await shot(page, 'admin-audit');
  await axe(page, 'admin audit');
  log('audit verified');

  // Welsh: the tabs, headings and labels change, no English left.
  await tab(page, 'Users', 'users');
  await page.getByLabel('Language').selectOption('cy');
  await page.getByRole('heading', { level: 1, name: 'Gweinyddu' }).waitFor();
  await page.getByRole('heading', { name: 'Creu defnyddiwr' }).waitFor();
  const nav = await page.locator('nav.tabs').innerText();
  for (const w of ['Aelodau', 'Defnyddwyr', 'Tocynnau API', 'Ffynonellau', 'Rheolau', 'Archwilio']) check(nav.includes(w), `Welsh tab ${w}`);
  await page.getByRole('button', { name: `Analluogi ${env.NEW_USER}` }).waitFor();
  check((await user.locator('td[data-state]').innerText()) === "Wedi'i alluogi", 'Welsh state');
  const checkWelsh = async (what, words) => {
    const text = await page.locator('main').innerText();
    for (const en of words) check(!new RegExp(`\\b${en}\\b`).test(text), `no English "${en}" left in Welsh ${what}:\n${text}`);
  };
  await checkWelsh('users', ['Users', 'Members', 'Create user', 'Disable', 'Enable', 'Enabled', 'Role', 'Name', 'Password', 'Reset', 'Actions', 'Created', 'Show']);
  await shot(page, 'admin-users-cy');
  await tab(page, 'Rheolau', 'rules');
  await page.getByLabel(/^Aelod\b/).selectOption('gwynedd');
  await page.getByRole('button', { name: `Galluogi ${env.RULE_TITLE}` }).waitFor();
  await checkWelsh('rules', ['Rules', 'Enabled', 'Disabled', 'Log source', 'Severity', 'Search', 'rules']);
  await tab(page, 'Archwilio', 'audit');
  await page.locator('[data-intact="true"]').filter({ hasText: "Wedi'i ddilysu" }).waitFor();
  await checkWelsh('audit', ['Verified', 'Chain', 'Time', 'Action', 'Audit']);
  await tab(page, 'Tocynnau API', 'tokens');
  await page.getByRole('heading', { name: 'Creu tocyn API' }).waitFor();
  await checkWelsh('tokens', ['Create', 'Expires', 'Tokens', 'Role']);
  await tab(page, 'Ffynonellau', 'sources');
  await page.getByRole('heading', { name: 'Sianeli hysbysu' }).waitFor();
  await checkWelsh('sources', ['Cloud', 'Notification', 'Send test', 'Name']);
  await tab(page, 'Aelodau', 'members');
  await page.getByRole('heading', { name: 'Ychwanegu aelod' }).waitFor();
  await checkWelsh('members', ['Members', 'Add', 'Name', 'Created', 'Member']);
  await axe(page, 'admin members (Welsh)');
  await page.getByLabel('Iaith').selectOption('en');
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByRole('heading', { name: 'Log in' }).waitFor();
  log('Welsh');

  // gwynedd's tenant-admin: no members tab, its own users and rules only.
  const member = watch(await ctx.newPage(), 'tenant admin');
  await login(member, env.GW_ADMIN, env.GW_ADMIN_PASSWORD);
  await member.goto(`${base}/admin`);
  await member.getByRole('heading', { level: 1, name: 'Administration' }).waitFor();
  const tabs = member.getByRole('navigation', { name: 'Administration pages' });
  await tabs.getByRole('link', { name: 'Users' }).waitFor();
  check((await tabs.getByRole('link', { name: 'Members' }).count()) === 0, 'no members tab for a tenant-admin');
  await member.locator(`tr[data-user="${env.GW_USER}"]`).waitFor();
  const seen = await member.locator('table.admin-users tbody').innerText();
  for (const u of [env.POWYS_USER, env.ADMIN_USER, env.NEW_USER]) check(!seen.includes(u), `the tenant-admin does not see ${u}`);
  check((await member.getByLabel(/^Member\b/).count()) === 0, 'no member picker');
  await member.getByLabel('Role').locator('option').first().waitFor({ state: 'attached' });
  const grant = await member.getByLabel('Role').locator('option').allInnerTexts();
  check(!grant.some((r) => r.startsWith('provider')), `a tenant-admin grants member roles only: ${grant}`);
  await axe(member, 'admin users (tenant-admin)');
  await member.goto(`${base}/admin/members`);
  await member.getByRole('heading', { level: 1, name: 'Not found' }).waitFor();
  await member.goto(`${base}/admin/rules`);
  await member.locator(`tr[data-rule="${env.RULE_ID}"] td[data-state="disabled"]`).waitFor();
  await member.waitForFunction(() => document.querySelector('[data-testid="rule-counts"]')?.textContent?.includes('Enabled: 1; disabled: 1;'));
  await shot(member, 'admin-rules-member');
  await axe(member, 'admin rules (tenant-admin)');
  await member.goto(`${base}/admin/tokens`);
  // The roles the page offers come with its data: wait for them.
  await member.getByLabel('Role').locator('option').first().waitFor({ state: 'attached' });
  const tokenRoles = await member.getByLabel('Role').locator('option').allInnerTexts();
  check(tokenRoles.length === 3 && tokenRoles.includes('ingest'), `a tenant-admin's token roles: ${tokenRoles}`);
  await member.goto(`${base}/admin/audit`);
  await member.locator('[data-intact="true"]').waitFor();
  const scopes = await member.locator('table.admin-audit tbody tr td[data-scope]').evaluateAll((tds) => tds.map((td) => `${td.dataset.scope}=${td.textContent}`));
  check(scopes.length > 0 && scopes.every((s) => s === 'gwynedd=Tenant gwynedd'), `the tenant-admin's audit trail is gwynedd's only, by name: ${scopes}`);
  await member.goto(`${base}/admin/sources`);
  await member.getByText('No notification channels.').waitFor();
  check(!(await member.locator('main').innerText()).includes(env.CHANNEL), "no provider's channel for a member");
  await axe(member, 'admin sources (tenant-admin)');
  log('tenant-admin: own users and rules only');

  finish();
} finally {
  await close();
}
