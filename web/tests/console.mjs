// Drives the console in Debian's chromium through playwright-core, against
// a running tarian server; run by internal/e2e/console_test.go, which sets
// up the server, the user and the alerts. Every failed expectation throws,
// and node exits non-zero with the reason.
//
// Environment: TARIAN_URL, CONSOLE_USER and CONSOLE_PASSWORD (a provider
// analyst), MEMBER_USER, MEMBER_PASSWORD and MEMBER_CODE (a member viewer
// enrolled in MFA and one of its recovery codes), ENROL_USER and
// ENROL_PASSWORD (a member analyst who must enrol in MFA), MEMBER_ALERT (the
// member viewer's alert), OTHER_ALERT (an alert of another member), CHROMIUM (the browser), SCREENSHOTS (a directory for
// screenshots, optional).
import { createHmac } from 'node:crypto';
import { axe, base, browser, check, finish, log, shot, watch } from './lib.mjs';

// totp is RFC 6238's code (SHA-1, 6 digits, 30 s) of a base32 key: the
// authenticator app of the enrolment step.
function totp(key) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const ch of key) bits += alphabet.indexOf(ch).toString(2).padStart(5, '0');
  const bytes = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 30000)));
  const mac = createHmac('sha1', bytes).update(counter).digest();
  const o = mac[mac.length - 1] & 0xf;
  return String((mac.readUInt32BE(o) & 0x7fffffff) % 1000000).padStart(6, '0');
}

const user = process.env.CONSOLE_USER;
const password = process.env.CONSOLE_PASSWORD;
const { ctx, close } = await browser();

try {
  // Expected refusals: another member's alert (404), the raw archive when
  // it has not written the record yet (404; the page says so), and the
  // wrong enrolment code (400).
  const expected = (st, method, path) =>
    (st === 404 && method === 'GET' && (path === `/api/v1/alerts/${process.env.OTHER_ALERT}` || path === '/api/v1/raw')) ||
    (st === 400 && path === '/api/v1/session/mfa/confirm');
  const page = watch(ctx.pages()[0] ?? (await ctx.newPage()), 'first tab', expected);

  // Not logged in: the login page, in English.
  await page.goto(`${base}/`);
  await page.waitForURL('**/login');
  check((await page.getAttribute('html', 'lang')) === 'en', 'lang="en" at first');
  await page.getByRole('heading', { name: 'Log in' }).waitFor();
  await shot(page, 'login');
  await axe(page, 'login');

  // A wrong password is refused with the server's one message.
  await page.getByLabel('Username').fill(user);
  await page.getByLabel('Password').fill('not the password at all');
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('alert').filter({ hasText: 'Wrong username, password or code.' }).waitFor();

  // The queue asks the server for the riskiest alerts of all, not only
  // the newest page sorted here.
  const alertsRequest = (sort) => page.waitForRequest((r) => {
    const u = new URL(r.url());
    return u.pathname === '/api/v1/alerts' && u.searchParams.get('sort') === sort;
  });
  const riskiest = alertsRequest('risk');
  await page.getByLabel('Username').fill(user);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL('**/alerts');
  await riskiest;
  log('logged in');

  // The queue shows both members' alerts, riskiest first.
  const rows = page.locator('table.queue tbody tr');
  await rows.filter({ hasText: 'whoami run' }).waitFor();
  await rows.filter({ hasText: 'net user run' }).waitFor();
  check((await rows.count()) === 2, `2 alerts in the queue, got ${await rows.count()}`);
  const first = rows.nth(0);
  check((await first.innerText()).includes('whoami run') && (await first.innerText()).includes('gwynedd'), 'whoami (gwynedd, high) first');
  check((await rows.nth(1).innerText()).includes('powys'), 'net user (powys) second');
  await page.locator('.live[data-live="live"]').waitFor();
  const whoamiID = await first.getAttribute('data-alert-id');
  const netID = await rows.nth(1).getAttribute('data-alert-id');
  await shot(page, 'queue');
  await axe(page, 'queue');

  // Filters: severity high leaves only whoami.
  await page.getByLabel('Severity').selectOption('high');
  await page.waitForFunction(() => document.querySelectorAll('table.queue tbody tr').length === 1);
  check((await rows.nth(0).innerText()).includes('whoami run'), 'severity filter keeps whoami');
  await page.getByLabel('Severity').selectOption('');
  await page.waitForFunction(() => document.querySelectorAll('table.queue tbody tr').length === 2);
  // ATT&CK tactic (only whoami's rule is tagged discovery) and rule; the
  // filters are kept in the URL, so a reload keeps them.
  await page.getByLabel('ATT&CK tactic').selectOption('discovery');
  await page.waitForFunction(() => document.querySelectorAll('table.queue tbody tr').length === 1);
  check((await rows.nth(0).innerText()).includes('whoami run'), 'tactic filter keeps whoami');
  check(page.url().includes('tactic=discovery'), `tactic in the URL: ${page.url()}`);
  await page.reload();
  await page.locator('table.queue tbody tr').first().waitFor();
  check((await rows.count()) === 1 && (await page.getByLabel('ATT&CK tactic').inputValue()) === 'discovery', 'tactic filter kept over a reload');
  await page.getByLabel('ATT&CK tactic').selectOption('');
  await page.getByLabel(/^Rule /).selectOption({ label: 'net user run' });
  await page.waitForFunction(() => document.querySelectorAll('table.queue tbody tr').length === 1);
  check((await rows.nth(0).innerText()).includes('net user run'), 'rule filter keeps net user');
  await page.getByLabel(/^Rule /).selectOption('');
  await page.waitForFunction(() => document.querySelectorAll('table.queue tbody tr').length === 2);
  // Raised by: both came from detection rules, none from source health;
  // the server is asked for that producer's alerts only.
  const byHealth = page.waitForRequest((r) => new URL(r.url()).searchParams.get('producer') === 'health');
  await page.getByLabel('Raised by').selectOption({ label: 'Log-source health' });
  await byHealth;
  await page.waitForFunction(() => document.querySelectorAll('table.queue tbody tr').length === 0);
  check(page.url().includes('producer=health'), `producer in the URL: ${page.url()}`);
  await page.getByLabel('Raised by').selectOption({ label: 'Detection rule' });
  await page.waitForFunction(() => document.querySelectorAll('table.queue tbody tr').length === 2);
  await page.getByLabel('Raised by').selectOption('');
  await page.getByLabel('Assignee').selectOption('@none');
  await page.waitForFunction(() => document.querySelectorAll('table.queue tbody tr').length === 2);
  // Newest first asks for the newest page; back to risk for the riskiest.
  const newest = alertsRequest(null);
  await page.getByLabel('Sort').selectOption('newest');
  await newest;
  await page.waitForFunction(() => document.querySelectorAll('table.queue tbody tr').length === 2);
  check((await rows.nth(0).innerText()).includes('net user run'), 'newest first: net user (raised last) first');
  // By SLA the server sends the alerts whose deadline comes first of all.
  const bySLA = alertsRequest('sla');
  await page.getByLabel('Sort').selectOption('sla');
  await bySLA;
  await page.waitForFunction(() => document.querySelectorAll('table.queue tbody tr').length === 2);
  const risk = alertsRequest('risk');
  await page.getByLabel('Sort').selectOption('risk');
  await risk;
  await page.waitForFunction(() => document.querySelectorAll('table.queue tbody tr').length === 2);

  // A second tab follows the stream.
  const watcher = watch(await ctx.newPage(), 'second tab');
  await watcher.goto(`${base}/alerts`);
  await watcher.locator('.live[data-live="live"]').waitFor();
  await watcher.locator(`tr[data-alert-id="${netID}"] td[data-status="new"]`).waitFor();

  // Keyboard: j moves down, k back up, a acknowledges the current row.
  await page.locator('body').click({ position: { x: 5, y: 5 } });
  await page.keyboard.press('j');
  await page.locator(`tr.current[data-alert-id="${netID}"]`).waitFor();
  await page.keyboard.press('k');
  await page.locator(`tr.current[data-alert-id="${whoamiID}"]`).waitFor();
  await page.keyboard.press('a');
  await page.locator(`tr[data-alert-id="${whoamiID}"] td[data-status="acknowledged"]`).waitFor();
  // The live stream may show the change before the request has answered:
  // the queue takes new actions once it has.
  await page.getByRole('status').filter({ hasText: 'Alerts acknowledged: 1.' }).waitFor();
  log(`acknowledged alert ${whoamiID} with the keyboard`);
  // ... and the other tab shows it without a reload.
  await watcher.locator(`tr[data-alert-id="${whoamiID}"] td[data-status="acknowledged"]`).waitFor();
  log('the change arrived live in the second tab');

  // x selects the other alert; bulk acknowledge.
  await page.keyboard.press('j');
  await page.keyboard.press('x');
  await page.locator(`tr.picked[data-alert-id="${netID}"]`).waitFor();
  await page.getByRole('button', { name: 'Acknowledge selected (1)' }).click();
  await page.locator(`tr[data-alert-id="${netID}"] td[data-status="acknowledged"]`).waitFor();
  await watcher.locator(`tr[data-alert-id="${netID}"] td[data-status="acknowledged"]`).waitFor();
  log(`bulk-acknowledged alert ${netID}`);
  // Bulk assign: to another analyst; the "unassigned" filter then hides it.
  await page.keyboard.press('x');
  await page.getByLabel('Assign to').fill('gwen');
  await page.getByRole('button', { name: 'Assign selected (1)' }).click();
  await page.getByRole('status').filter({ hasText: 'Alerts assigned: 1.' }).waitFor();
  await page.waitForFunction(() => document.querySelectorAll('table.queue tbody tr').length === 1);
  await watcher.locator(`tr[data-alert-id="${netID}"]`).filter({ hasText: 'gwen' }).waitFor();
  await page.getByLabel('Assignee').selectOption('');
  await page.waitForFunction(() => document.querySelectorAll('table.queue tbody tr').length === 2);
  log(`bulk-assigned alert ${netID}`);
  // A click on a row's checkbox leaves the focus there: the keys still work.
  await page.locator(`tr[data-alert-id="${netID}"] input[type="checkbox"]`).click();
  await page.locator(`tr.current[data-alert-id="${netID}"]`).waitFor();
  await page.keyboard.press('k');
  await page.locator(`tr.current[data-alert-id="${whoamiID}"]`).waitFor();
  await page.locator(`tr[data-alert-id="${netID}"] input[type="checkbox"]`).click();
  await watcher.close();

  // Welsh: every label of the queue changes, and the choice is remembered.
  await page.getByLabel('Language').selectOption('cy');
  await page.getByRole('heading', { name: 'Rhybuddion' }).waitFor();
  check((await page.getAttribute('html', 'lang')) === 'cy', 'lang="cy" after switching');
  const headers = await page.locator('table.queue thead').innerText();
  for (const w of ['Difrifoldeb', 'Risg', 'Statws', 'Aelod', 'Gwelwyd ddiwethaf']) check(headers.includes(w), `Welsh column ${w} in ${headers}`);
  await page.getByRole('button', { name: 'Allgofnodi' }).waitFor();
  check((await page.locator(`tr[data-alert-id="${whoamiID}"] td[data-status]`).innerText()) === "Wedi'i gydnabod", 'Welsh status');
  const body = await page.locator('body').innerText();
  for (const en of ['Alerts', 'Severity', 'Status', 'Log out', 'Acknowledged', 'Member']) check(!new RegExp(`\\b${en}\\b`).test(body), `no English "${en}" left in Welsh:\n${body}`);
  await shot(page, 'queue-cy');
  await page.reload();
  await page.getByRole('heading', { name: 'Rhybuddion' }).waitFor();
  check((await page.getAttribute('html', 'lang')) === 'cy', 'Welsh remembered over a reload');
  log('Welsh');

  // Enter opens the current alert.
  await page.locator('body').click({ position: { x: 5, y: 5 } });
  await page.locator(`tr.current[data-alert-id="${whoamiID}"]`).waitFor();
  await page.keyboard.press('Enter');
  await page.waitForURL(`**/alerts/${whoamiID}`);
  await page.getByRole('heading', { name: 'whoami run', level: 1 }).waitFor();
  await page.getByRole('heading', { name: 'Endidau' }).waitFor();
  const detail = await page.locator('main').innerText();
  for (const w of ['WS1', 'Tarian tests', 'attack.t1033', 'Wedi\'i gydnabod', 'gwynedd']) check(detail.includes(w), `detail shows ${w}`);
  // The matched event in its layers: the source's own names (as Sigma
  // rules use them), ECS, and the record as received from the archive.
  const ev = page.locator('details.event').first();
  await ev.getByRole('heading', { name: 'Meysydd y ffynhonnell (fel y mae\'r rheolau\'n eu henwi)' }).waitFor();
  const evText = await ev.innerText();
  for (const w of ['Image', 'whoami.exe', 'process.executable', 'host.name', 'tarian.seq']) check(evText.includes(w), `event layers show ${w}:\n${evText}`);
  await ev.getByRole('button', { name: "Dangos y cofnod fel y'i derbyniwyd" }).click();
  await ev.locator('pre.original').waitFor();
  check((await ev.locator('pre.original').innerText()).length > 0, 'the original record is shown');
  // Resolve from the detail page.
  await page.getByLabel('Dosbarthiad').selectOption('benign-positive');
  await page.getByRole('button', { name: 'Datrys' }).click();
  await page.locator('dd[data-status="resolved"]').waitFor();
  await shot(page, 'detail-cy');
  await axe(page, 'alert detail');
  log('detail opened and resolved');
  // The incident number opens the queue narrowed to that incident's
  // alerts; the way back from an alert returns to the queue as it was.
  await page.locator('dl.facts a[href*="incident="]').click();
  await page.waitForURL((u) => u.pathname === '/alerts' && u.searchParams.has('incident'));
  await page.getByTestId('incident-filter').waitFor();
  await rows.filter({ hasText: 'whoami run' }).waitFor();
  check((await rows.count()) === 1, `incident ${await page.getByTestId('incident-filter').innerText()}: 1 alert, got ${await rows.count()}`);
  await page.goBack();
  await page.getByRole('heading', { name: 'whoami run', level: 1 }).waitFor();
  await page.getByRole('link', { name: '← Pob rhybudd' }).click();
  await page.waitForURL((u) => u.pathname === '/alerts' && u.searchParams.has('incident'));
  await page.getByTestId('incident-filter').waitFor();
  log('incident filter, and back to the queue as it was');
  await page.goBack();
  await page.getByRole('heading', { name: 'whoami run', level: 1 }).waitFor();
  // An entity's events around the alert: the hunt for its host, from an
  // hour before its first event to an hour after its last, in its member.
  await page.getByRole('link', { name: /^Hela am WS1:/ }).click();
  await page.waitForURL((u) => u.pathname === '/hunt');
  const around = new URL(page.url()).searchParams;
  const span = Date.parse(around.get('to')) - Date.parse(around.get('from'));
  check(around.get('q') === 'host.name:="WS1"' && around.get('tenant') === 'gwynedd' && span >= 2 * 3600_000 && span < 3 * 3600_000, `the host's hunt: ${page.url()}`);
  await page.locator('[data-testid="hunt-results"] tbody tr.hit').first().waitFor();
  await page.goBack();
  await page.getByRole('heading', { name: 'whoami run', level: 1 }).waitFor();
  log('an entity hunted around the alert');

  // A reload of a console path loads the app; then log out.
  await page.reload();
  await page.getByRole('heading', { name: 'whoami run', level: 1 }).waitFor();
  await page.getByRole('button', { name: 'Allgofnodi' }).click();
  await page.getByRole('heading', { name: 'Mewngofnodi' }).waitFor();
  // A notification's link to an alert, followed without a session: the
  // login first, then that alert.
  await page.goto(`${base}/alerts/${process.env.MEMBER_ALERT}`);
  await page.waitForURL('**/login');
  log('logged out');

  // A member viewer who must use MFA, still in Welsh: refused without a
  // code, in with a recovery code and taken to the alert it was sent;
  // only its own member's alert, no acknowledging, and another member's
  // alert is not found.
  await page.getByRole('heading', { name: 'Mewngofnodi' }).waitFor();
  await page.getByLabel('Enw defnyddiwr').fill(process.env.MEMBER_USER);
  await page.getByLabel('Cyfrinair').fill(process.env.MEMBER_PASSWORD);
  await page.getByRole('button', { name: 'Mewngofnodi' }).click();
  await page.getByRole('alert').filter({ hasText: 'Enw defnyddiwr, cyfrinair neu god anghywir.' }).waitFor();
  await page.getByLabel('Cyfrinair').fill(process.env.MEMBER_PASSWORD);
  await page.getByLabel('Cod dilysu (os ydych yn defnyddio un)').fill(process.env.MEMBER_CODE);
  await page.getByRole('button', { name: 'Mewngofnodi' }).click();
  await page.waitForURL(`**/alerts/${process.env.MEMBER_ALERT}`);
  await page.getByRole('heading', { name: 'whoami run', level: 1 }).waitFor();
  log('the alert linked to opens after the sign-in');
  await page.locator('nav').getByRole('link', { name: 'Rhybuddion', exact: true }).click();
  await page.waitForURL('**/alerts');
  await rows.filter({ hasText: 'whoami run' }).waitFor();
  await page.locator('.live[data-live="live"]').waitFor();
  check((await rows.count()) === 1, `the member sees 1 alert, got ${await rows.count()}`);
  const memberView = await page.locator('main').innerText();
  check(!memberView.includes('net user run') && !memberView.includes('powys'), 'no other member in the member view');
  check((await page.getByRole('button', { name: /^Cydnabod/ }).count()) === 0, 'no acknowledge button for a viewer');
  await shot(page, 'queue-member-cy');
  await page.goto(`${base}/alerts/${process.env.OTHER_ALERT}`);
  await page.getByRole('heading', { name: 'Heb ei ganfod' }).waitFor();
  log('member viewer: own alert only, another member\'s not found');
  await page.getByRole('button', { name: 'Allgofnodi' }).click();
  await page.getByRole('heading', { name: 'Mewngofnodi' }).waitFor();

  // A user whose account requires two-step verification and who has not
  // enrolled: the console enrols it (QR code and key, a code from the
  // "app", recovery codes shown once), then opens the queue.
  await page.getByTestId('lang').selectOption('en');
  await page.getByLabel('Username').fill(process.env.ENROL_USER);
  await page.getByLabel('Password').fill(process.env.ENROL_PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('heading', { name: 'Two-step verification' }).waitFor();
  check((await page.locator('nav').count()) === 1 && (await page.locator('table.queue').count()) === 0, 'no queue before enrolling');
  await page.getByRole('button', { name: 'Set up' }).click();
  const secret = (await page.getByTestId('mfa-secret').innerText()).replace(/\s/g, '');
  check(/^[A-Z2-7]{16,}$/.test(secret), `a base32 key is shown: ${secret}`);
  const qrInk = await page.locator('canvas.qr').evaluate((c) => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let dark = 0;
    for (let i = 0; i < d.length; i += 4) if (d[i] < 128) dark++;
    return dark / (d.length / 4);
  });
  check(qrInk > 0.2 && qrInk < 0.7, `the QR code is drawn (${qrInk} dark)`);
  await shot(page, 'mfa-enrol');
  await axe(page, 'two-step enrolment');
  await page.getByLabel('The 6-digit code the app shows').fill('000000');
  await page.getByRole('button', { name: 'Confirm' }).click();
  await page.getByRole('alert').filter({ hasText: 'That code is not right' }).waitFor();
  await page.getByLabel('The 6-digit code the app shows').fill(totp(secret));
  await page.getByRole('button', { name: 'Confirm' }).click();
  const codes = page.getByTestId('recovery-codes').locator('li');
  await codes.first().waitFor();
  check((await codes.count()) === 10, `10 recovery codes, got ${await codes.count()}`);
  await page.getByRole('button', { name: 'I have saved them' }).click();
  await page.waitForURL('**/alerts');
  await page.getByRole('heading', { name: 'Alerts' }).waitFor();
  log('two-step verification enrolled in the console');
  await page.getByRole('button', { name: 'Log out' }).click();

  finish();
} finally {
  await close();
}
