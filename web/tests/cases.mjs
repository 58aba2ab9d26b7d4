// The cases area in Debian's chromium, against a running tarian server;
// run by internal/e2e/console_cases_test.go, which sets up the members,
// the users and an alert, and afterwards checks what the server holds.
//
// A provider analyst opens a case from the alert's detail page (with the
// other alert of its incident), comments
// (a second page of the case sees the comment arrive live), adds a task
// and marks it done, adds an observable, uploads an evidence file
// (downloaded back byte for byte), escalates the case to the member, and
// reads the list and the view in Welsh. The member's analyst then sees the
// case and the comment, comments and acknowledges; an analyst of another
// member is shown "not found" at the case's URL and an empty list.
//
// Environment: TARIAN_URL, CHROMIUM, SCREENSHOTS (lib.mjs); CONSOLE_USER
// and CONSOLE_PASSWORD (a provider analyst), MEMBER_USER and
// MEMBER_PASSWORD (an analyst of the alert's member), OTHER_USER and
// OTHER_PASSWORD (an analyst of another member), ALERT and ALERT_TITLE (the
// member's alert).
import { createHash } from 'node:crypto';
import { axe, base, browser, check, finish, log, login, shot, watch } from './lib.mjs';

const env = process.env;
const alertID = env.ALERT;
const alertTitle = env.ALERT_TITLE;
const comment = 'Checked WS1: whoami came from a logon script.';
const memberComment = 'Our admin ran that script; we have reset the password.';
const task = 'Ask the member for the logon script';
const evidence = Buffer.from('logon.cmd\r\nwhoami /all\r\n');
const sha256 = createHash('sha256').update(evidence).digest('hex');

const { ctx, close } = await browser();

async function logout(page) {
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByRole('heading', { name: 'Log in' }).waitFor();
}

try {
  let caseID = '';
  const page = watch(ctx.pages()[0] ?? (await ctx.newPage()), 'cases tab', (st, method, path) => st === 404 && method === 'GET' && path === `/api/v1/cases/${caseID}`);
  await login(page, env.CONSOLE_USER, env.CONSOLE_PASSWORD);

  // The alert's detail page: one button opens a case from it.
  await page.goto(`${base}/alerts/${alertID}`);
  await page.getByRole('heading', { name: alertTitle, level: 1 }).waitFor();
  // It asks for the title first (a case is not undone): Cancel leaves
  // nothing, the second time opens it.
  await page.getByRole('button', { name: 'Open a case' }).click();
  check((await page.getByLabel('Case title').inputValue()) === alertTitle, 'the case title starts as the alert\'s');
  await page.getByRole('button', { name: 'Cancel' }).click();
  await page.getByRole('button', { name: 'Open a case' }).click();
  // The alert's incident holds one more open alert: the case takes it
  // too unless unticked.
  const incident = page.getByTestId('open-case-incident');
  await incident.waitFor();
  check(/other open alerts of incident \d+ \(1\)/.test(await incident.innerText()), `the offer names the incident's other alert: ${await incident.innerText()}`);
  check(await incident.locator('input[type="checkbox"]').isChecked(), 'the incident\'s alerts are taken by default');
  // A template starts the case with its tasks.
  await page.getByLabel('Start with the tasks of').selectOption({ label: 'Account compromise (6 tasks)' });
  await page.getByRole('button', { name: 'Open the case' }).click();
  await page.waitForURL(/\/cases\/\d+$/);
  caseID = new URL(page.url()).pathname.split('/').pop();
  await page.getByRole('heading', { name: alertTitle, level: 1 }).waitFor();
  await page.locator('.live[data-live="live"]').waitFor();
  let view = await page.locator('main').innerText();
  for (const w of ['Open', 'gwynedd', 'not yet: the provider\'s alone', `Alert ${alertID}`, 'WS1', 'Case opened', '6 tasks from the Account compromise template']) check(view.includes(w), `the new case shows ${w}:\n${view}`);
  check((await page.locator(`a[href="/alerts/${alertID}"]`).count()) === 1, 'the case links its alert');
  check((await page.locator('.tasks li[data-done="no"]').count()) === 6, `the template's 6 tasks, open: ${await page.locator('.tasks').innerText()}`);
  await page.locator('.tasks li').first().filter({ hasText: "Reset the account's password and end its sessions and tokens" }).waitFor();
  log(`opened case ${caseID} from alert ${alertID}`);

  // A second page of the case follows the stream.
  const watcher = watch(await ctx.newPage(), 'second tab');
  await watcher.goto(`${base}/cases/${caseID}`);
  await watcher.locator('.live[data-live="live"]').waitFor();

  // Comment; the other page shows it without a reload.
  await page.getByLabel('New comment').fill(comment);
  await page.getByRole('button', { name: 'Add comment' }).click();
  await page.locator('.comments li').filter({ hasText: comment }).waitFor();
  await watcher.locator('.comments li').filter({ hasText: comment }).waitFor();
  log('the comment arrived live on the second page');

  // A task, marked done.
  await page.getByLabel('New task').fill(task);
  await page.getByRole('button', { name: 'Add task' }).click();
  await page.locator('.tasks li[data-done="no"]').filter({ hasText: task }).waitFor();
  await page.getByRole('button', { name: `Mark “${task}” done` }).click();
  await page.locator('.tasks li[data-done="yes"]').filter({ hasText: task }).waitFor();
  await watcher.locator('.tasks li[data-done="yes"]').filter({ hasText: task }).waitFor();

  // An observable by hand.
  await page.getByLabel('Type', { exact: true }).fill('ip');
  await page.getByLabel('Value', { exact: true }).fill('203.0.113.7');
  await page.getByRole('button', { name: 'Add observable' }).click();
  await page.locator('table.observables tr').filter({ hasText: '203.0.113.7' }).filter({ hasText: 'added by hand' }).waitFor();

  // Evidence: uploaded, shown with its digest, downloaded back unchanged.
  await page.getByLabel('File', { exact: true }).setInputFiles({ name: 'logon.txt', mimeType: 'text/plain', buffer: evidence });
  await page.getByRole('button', { name: 'Upload evidence' }).click();
  const row = page.locator(`table.evidence tr[data-sha256="${sha256}"]`);
  await row.waitFor();
  const rowText = await row.innerText();
  check(rowText.includes('logon.txt') && rowText.includes(`${evidence.length} bytes`), `evidence row: ${rowText}`);
  const href = await row.getByRole('link', { name: 'Download logon.txt' }).getAttribute('href');
  const got = await page.request.get(`${base}${href}`);
  check(got.ok() && Buffer.compare(await got.body(), evidence) === 0, `download of ${href}: ${got.status()}`);
  const exported = await page.request.get(`${base}/api/v1/cases/${caseID}/export?format=html`);
  check(exported.ok() && (await exported.text()).includes('whoami came from a logon script'), 'the HTML export holds the comment');
  log('task, observable and evidence added');

  // Escalate to the member; both pages show it.
  await page.getByRole('button', { name: 'Escalate to the member' }).click();
  await page.locator('dd[data-escalated="yes"]').waitFor();
  await watcher.locator('dd[data-escalated="yes"]').waitFor();
  check((await page.getByRole('button', { name: 'Escalate to the member' }).count()) === 0, 'no second escalation');
  const timeline = await page.locator('ol.timeline').innerText();
  for (const w of ['Escalated to the member', 'Evidence added: logon.txt', 'Observable added: ip 203.0.113.7', `Task done: ${task}`, `Alert ${alertID} linked`]) {
    check(timeline.includes(w), `timeline has ${w}:\n${timeline}`);
  }
  await watcher.close();
  await shot(page, 'cases-view');
  await axe(page, 'case view');
  log('escalated');

  // The alert now leads to its case.
  await page.goto(`${base}/alerts/${alertID}`);
  await page.getByRole('link', { name: `In case ${caseID}: ${alertTitle}` }).click();
  await page.waitForURL(`**/cases/${caseID}`);

  // The list.
  await page.getByRole('link', { name: '← All cases' }).click();
  await page.waitForURL('**/cases');
  const listRow = page.locator(`table.cases tr[data-case-id="${caseID}"]`);
  await listRow.waitFor();
  const listText = await listRow.innerText();
  for (const w of [alertTitle, 'gwynedd', 'High', 'Open', 'escalated']) check(listText.includes(w), `list row shows ${w}: ${listText}`);
  await page.locator('.live[data-live="live"]').waitFor();
  await page.getByLabel('Status').selectOption('closed');
  await page.getByText('No cases match.').waitFor();
  await page.getByLabel('Status').selectOption('open');
  await listRow.waitFor();
  await shot(page, 'cases-list');
  await axe(page, 'case list');

  // Welsh: the list and the view.
  await page.getByLabel('Language').selectOption('cy');
  await page.getByRole('heading', { name: 'Achosion', level: 1 }).waitFor();
  const head = await page.locator('table.cases thead').innerText();
  for (const w of ['Achos', 'Teitl', 'Aelod', 'Difrifoldeb', 'Statws', 'Newidiwyd']) check(head.includes(w), `Welsh column ${w} in ${head}`);
  check((await listRow.locator('td[data-status]').innerText()) === 'Agored', 'Welsh status in the list');
  let body = await page.locator('main').innerText();
  for (const en of ['Cases', 'Updated', 'Title', 'Open', 'Status', 'Severity', 'Assigned to', 'escalated']) check(!new RegExp(`\\b${en}\\b`).test(body), `no English "${en}" in the Welsh list:\n${body}`);
  await shot(page, 'cases-list-cy');
  await listRow.getByRole('link').click();
  await page.getByRole('heading', { name: 'Llinell amser' }).waitFor();
  for (const h of ['Gweithredoedd', 'Sylwadau', 'Tasgau', 'Arsylwadwyon', 'Rhybuddion cysylltiedig', 'Tystiolaeth']) await page.getByRole('heading', { name: h, level: 2 }).waitFor();
  body = await page.locator('main').innerText();
  for (const en of ['Actions', 'Comments', 'Tasks', 'Observables', 'Evidence', 'Timeline', 'Linked alerts', 'Escalated', 'Case opened', 'Opened', 'Severity', 'Assign', 'Upload', 'Download', 'added by hand', 'bytes']) {
    check(!new RegExp(`\\b${en}\\b`).test(body), `no English "${en}" in the Welsh case:\n${body}`);
  }
  for (const w of ['Uwchgyfeiriwyd at yr aelod', 'Ychwanegwyd tystiolaeth: logon.txt', 'Agorwyd yr achos']) check(body.includes(w), `Welsh timeline has ${w}`);
  // The evidence file picker speaks Welsh too (the browser's own would not).
  check((await page.getByTestId('case-file-chosen').innerText()) === "Dim ffeil wedi'i dewis" && body.includes('Dewis ffeil'), 'the file picker in Welsh');
  await shot(page, 'cases-view-cy');
  await page.getByLabel('Iaith').selectOption('en');
  await page.getByRole('heading', { name: 'Timeline' }).waitFor();
  log('Welsh');
  await logout(page);

  // The member's analyst: the escalated case, its comment; comments and
  // acknowledges, and has none of the provider's actions.
  await login(page, env.MEMBER_USER, env.MEMBER_PASSWORD);
  await page.goto(`${base}/cases`);
  await page.locator(`table.cases tr[data-case-id="${caseID}"]`).getByRole('link').click();
  await page.getByRole('heading', { name: alertTitle, level: 1 }).waitFor();
  await page.locator('.comments li').filter({ hasText: comment }).waitFor();
  for (const b of ['Escalate to the member', 'Close the case', 'Add task', 'Upload evidence', 'Assign']) {
    check((await page.getByRole('button', { name: b }).count()) === 0, `no "${b}" for the member`);
  }
  await page.getByLabel('New comment').fill(memberComment);
  await page.getByRole('button', { name: 'Add comment' }).click();
  await page.locator('.comments li').filter({ hasText: memberComment }).filter({ hasText: 'member analyst' }).waitFor();
  await page.getByRole('button', { name: 'Acknowledge the case' }).click();
  await page.locator('dd[data-escalated="yes"]').filter({ hasText: 'acknowledged by the member' }).waitFor();
  await shot(page, 'cases-view-member');
  await axe(page, 'case view (member)');
  log('the member read, commented and acknowledged');
  // The alert leads the member to the case escalated to it.
  await page.goto(`${base}/alerts/${alertID}`);
  const inCase = page.getByRole('link', { name: `In case ${caseID}: ${alertTitle}` });
  await inCase.waitFor();
  check((await page.getByRole('button', { name: 'Open a case' }).count()) === 0, 'no "Open a case" for the member');
  await inCase.click();
  await page.waitForURL(`**/cases/${caseID}`);
  await logout(page);

  // Another member's analyst: not found, and an empty list.
  await login(page, env.OTHER_USER, env.OTHER_PASSWORD);
  await page.goto(`${base}/cases/${caseID}`);
  await page.getByRole('heading', { name: 'Not found', level: 1 }).waitFor();
  check(!(await page.locator('main').innerText()).includes(alertTitle), 'nothing of the case shown to another member');
  await page.goto(`${base}/cases`);
  await page.getByText('No cases match.').waitFor();
  log('another member: not found');
  await logout(page);

  console.log(`CASE=${caseID}`);
  finish();
} finally {
  await close();
}
