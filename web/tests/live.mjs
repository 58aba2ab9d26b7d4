// What the console names and follows live, in Debian's chromium, against
// a running tarian server; run by internal/e2e/console_live_test.go, which
// sets up gwynedd's and powys' alerts ("Tenant gwynedd", "Tenant powys"),
// the provider's token "night-bot", gwynedd's token "gw-soar" and a case
// of gwynedd's the bot opened, escalated and commented on (and gw-soar
// commented on), and afterwards checks what the server holds.
//
// The queue names the members. An alert's page follows its alert: while
// the analyst types a note, Tarian adds an event (the count goes to 2) and
// night-bot acknowledges and assigns it; the page shows each change, says
// which token made it (also in Welsh), and the note keeps what was typed
// and the focus, so the analyst types on and resolves with it; its
// history shows each change as it comes, by whom, up to the analyst's
// resolution with the note. The analyst then comments on the resolved
// alert for the next shift (a comment of spaces cannot be added): the
// comment box empties, the history ends with the comment, by the analyst,
// line by line and its markup as text, and the alert stays resolved.
// When night-bot resolves the powys alert through the API, that alert's
// open page adds the step to its history, live, by the token's name
// (also in Welsh) and with its note; so too night-bot's comment, which
// the page also announces and which leaves the alert resolved. The case
// names its tokens and member to the provider's analyst; the member's
// analyst sees its own token's name and the provider's token only as the
// provider's.
//
// Environment: TARIAN_URL, CHROMIUM, SCREENSHOTS (lib.mjs); CONSOLE_USER
// and CONSOLE_PASSWORD (a provider analyst), MEMBER_USER and
// MEMBER_PASSWORD (a gwynedd analyst), ALERT (gwynedd's alert),
// OTHER_ALERT (powys' alert), CASE,
// BOT_TOKEN (night-bot's secret), INGEST_TOKEN (gwynedd's), AGAIN_EVENT
// (an event that joins ALERT), COMMENT (the analyst's comment on ALERT)
// and BOT_COMMENT (night-bot's on OTHER_ALERT).
import { axe, base, browser, check, finish, log, login, shot, watch } from './lib.mjs';

const env = process.env;
const { ctx, close } = await browser();

// api calls the server as a token, as another analyst's tool would.
async function api(token, method, path, body, type = 'application/json') {
  const resp = await fetch(`${base}${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': type },
    body: typeof body === 'string' ? body : JSON.stringify(body ?? {}),
  });
  check(resp.ok, `${method} ${path}: ${resp.status} ${await resp.clone().text()}`);
  return resp.json();
}

const noteValue = (page) => page.locator('#resolve-note').inputValue();
const focusedID = (page) => page.evaluate(() => document.activeElement?.id ?? '');

try {
  const page = watch(ctx.pages()[0] ?? (await ctx.newPage()), 'live tab');
  await login(page, env.CONSOLE_USER, env.CONSOLE_PASSWORD);

  // The queue: members by name.
  await page.locator('tbody tr[data-alert-id]').nth(1).waitFor();
  await page.locator('td[data-member="gwynedd"]').filter({ hasText: 'Tenant gwynedd' }).waitFor();
  await page.locator('td[data-member="powys"]').filter({ hasText: 'Tenant powys' }).waitFor();
  log('the queue names the members');

  // The alert's page, followed live.
  await page.goto(`${base}/alerts/${env.ALERT}`);
  await page.getByRole('heading', { level: 1, name: 'whoami run' }).waitFor();
  await page.locator('.live[data-live="live"]').waitFor();
  check((await page.locator('dd[data-member="gwynedd"]').innerText()) === 'Tenant gwynedd', 'the alert names its member');
  check((await page.getByTestId('alert-count').innerText()) === '1', 'one event at first');
  const note = page.getByLabel('Note', { exact: true });
  await note.click();
  await page.keyboard.type('Seen before,');

  // Tarian adds an event: the count follows, nothing is said.
  await api(env.INGEST_TOKEN, 'POST', '/api/v1/ingest', `${env.AGAIN_EVENT}\n`, 'application/x-ndjson');
  await page.getByTestId('alert-count').filter({ hasText: /^2$/ }).waitFor();
  check((await page.getByTestId('live-change').innerText()) === '', 'a new event is not a change by someone');

  // night-bot acknowledges, then assigns: each shows, and says who.
  await api(env.BOT_TOKEN, 'POST', `/api/v1/alerts/${env.ALERT}/ack`);
  await page.locator('dd[data-status="acknowledged"]').waitFor();
  await page.getByTestId('live-change').filter({ hasText: 'night-bot (API token) acknowledged this alert.' }).waitFor();
  await api(env.BOT_TOKEN, 'POST', `/api/v1/alerts/${env.ALERT}/assign`, { to: 'gwen' });
  await page.getByTestId('live-change').filter({ hasText: 'night-bot (API token) assigned this alert to gwen.' }).waitFor();
  const history = page.getByTestId('alert-history');
  await history.locator('li[data-verb="assign"]').filter({ hasText: 'night-bot (API token)' }).filter({ hasText: 'Assigned to gwen' }).waitFor();
  const facts = await page.locator('dl.facts').first().innerText();
  check(facts.includes('gwen') && facts.includes('In progress'), `the facts show the assignment:\n${facts}`);
  check((await noteValue(page)) === 'Seen before,', `the note keeps what was typed: ${await noteValue(page)}`);
  check((await focusedID(page)) === 'resolve-note', `the note keeps the focus, not ${await focusedID(page)}`);
  await shot(page, 'live-alert-changed');
  await axe(page, 'alert changed live');
  log('the alert page followed a new event, an acknowledgement and an assignment');

  // In Welsh, the same notice.
  await page.getByTestId('lang').selectOption('cy');
  await page.getByTestId('live-change').filter({ hasText: "Mae night-bot (tocyn API) wedi neilltuo'r rhybudd hwn i gwen." }).waitFor();
  await page.getByTestId('lang').selectOption('en');

  // The analyst types on and resolves with the whole note; their own
  // action is not announced as someone else's.
  await note.click();
  await note.press('End');
  await page.keyboard.type(' and the rest typed after.');
  await page.getByRole('button', { name: 'Resolve', exact: true }).click();
  await page.getByTestId('alert-note').filter({ hasText: 'Seen before, and the rest typed after.' }).waitFor();
  check((await page.getByTestId('live-change').innerText()) === '', 'the analyst\'s own resolution is not announced as another\'s');
  log('resolved with the note typed across the live changes');

  // The history: Tarian's creation, night-bot's changes, the analyst's
  // resolution with the note, oldest first.
  const resolved = history.locator('li[data-verb="resolve"]');
  await resolved.filter({ hasText: env.CONSOLE_USER }).waitFor();
  const verbs = await history.locator('li').evaluateAll((lis) => lis.map((li) => li.getAttribute('data-verb')));
  check(verbs.join(' ') === 'created ack assign resolve', `the history's steps: ${verbs.join(' ')}`);
  const created = await history.locator('li[data-verb="created"]').innerText();
  check(created.includes('Created') && created.includes("Tarian's detection"), `the history's first step: ${created}`);
  const acked = await history.locator('li[data-verb="ack"]').innerText();
  check(acked.includes('Acknowledged') && acked.includes('night-bot (API token)'), `the acknowledgement step: ${acked}`);
  let text = await resolved.innerText();
  check(text.includes('Resolved as True positive') && text.includes('Seen before, and the rest typed after.'), `the analyst's resolve step: ${text}`);
  log('the history shows each change and who made it');

  // The analyst comments on the resolved alert, for the next shift.
  const comment = page.getByLabel('Comment', { exact: true });
  const addComment = page.getByRole('button', { name: 'Add comment', exact: true });
  await comment.fill('   ');
  check(await addComment.isDisabled(), 'a comment of spaces only cannot be added');
  await comment.fill(env.COMMENT);
  await addComment.click();
  await page.getByText('Comment added.', { exact: true }).waitFor();
  const commented = history.locator('li[data-verb="comment"]');
  await commented.filter({ hasText: env.CONSOLE_USER }).waitFor();
  check((await comment.inputValue()) === '', `the comment box empties once the comment is added: ${await comment.inputValue()}`);
  text = await commented.innerText();
  check(text.includes('Comment'), `the comment step: ${text}`);
  const shown = await commented.locator('.note').innerText();
  check(shown === env.COMMENT, `the comment as typed, line by line:\n${shown}`);
  check((await commented.locator('.note *').count()) === 0, 'the markup in a comment is shown as text');
  const after = await history.locator('li').evaluateAll((lis) => lis.map((li) => li.getAttribute('data-verb')));
  check(after.join(' ') === 'created ack assign resolve comment', `the history's steps after the comment: ${after.join(' ')}`);
  check((await page.locator('dd[data-status="resolved"]').count()) === 1, 'the alert stays resolved after a comment');
  check((await page.getByTestId('alert-note').innerText()) === 'Seen before, and the rest typed after.', 'a comment leaves the resolution note');
  check((await page.getByTestId('live-change').innerText()) === '', 'the analyst\'s own comment is not announced as another\'s');
  await shot(page, 'live-alert-commented');
  await axe(page, 'alert commented');
  log('the analyst commented on the resolved alert');

  // The powys alert, open as night-bot resolves it through the API: its
  // history adds the step live, by the token's name, with the note.
  await page.goto(`${base}/alerts/${env.OTHER_ALERT}`);
  await page.locator('.live[data-live="live"]').waitFor();
  const otherHistory = page.getByTestId('alert-history');
  const steps = otherHistory.locator('li');
  check((await steps.count()) === 1, `a new alert's history is its creation only: ${await steps.allInnerTexts()}`);
  await api(env.BOT_TOKEN, 'POST', `/api/v1/alerts/${env.OTHER_ALERT}/resolve`, { as: 'false-positive', note: 'Known admin script.' });
  const botStep = otherHistory.locator('li[data-verb="resolve"]');
  await botStep.filter({ hasText: 'night-bot (API token)' }).waitFor();
  text = await botStep.innerText();
  check(text.includes('Resolved as False positive') && text.includes('Known admin script.'), `night-bot's resolve step: ${text}`);
  await page.getByTestId('live-change').filter({ hasText: 'night-bot (API token) resolved this alert.' }).waitFor();
  await page.getByTestId('lang').selectOption('cy');
  await botStep.filter({ hasText: 'Datryswyd fel Positif ffug' }).filter({ hasText: 'night-bot (tocyn API)' }).waitFor();
  await page.getByTestId('lang').selectOption('en');

  // night-bot comments on it through the API: the step shows live, by
  // the token's name, with the note; the page says so; still resolved.
  await api(env.BOT_TOKEN, 'POST', `/api/v1/alerts/${env.OTHER_ALERT}/comment`, { note: env.BOT_COMMENT });
  const botComment = otherHistory.locator('li[data-verb="comment"]');
  await botComment.filter({ hasText: 'night-bot (API token)' }).waitFor();
  text = await botComment.innerText();
  check(text.includes('Comment'), `night-bot's comment step: ${text}`);
  check((await botComment.locator('.note').innerText()) === env.BOT_COMMENT, `night-bot's comment as sent: ${text}`);
  await page.getByTestId('live-change').filter({ hasText: 'night-bot (API token) commented on this alert.' }).waitFor();
  check((await page.locator('dd[data-status="resolved"]').count()) === 1, 'the powys alert stays resolved after night-bot\'s comment');
  await page.getByTestId('lang').selectOption('cy');
  await botComment.filter({ hasText: 'Sylw' }).filter({ hasText: 'night-bot (tocyn API)' }).waitFor();
  await page.getByTestId('live-change').filter({ hasText: 'Mae night-bot (tocyn API) wedi gwneud sylw ar y rhybudd hwn.' }).waitFor();
  await page.getByTestId('lang').selectOption('en');
  await shot(page, 'live-alert-history');
  await axe(page, 'alert history');
  log('the history shows a resolution and a comment through the API live, by the token\'s name');

  // The case, for the provider: its member and both tokens by name.
  await page.goto(`${base}/cases`);
  await page.locator(`tr[data-case-id="${env.CASE}"] td[data-member="gwynedd"]`).filter({ hasText: 'Tenant gwynedd' }).waitFor();
  await page.goto(`${base}/cases/${env.CASE}`);
  await page.getByRole('heading', { level: 1, name: 'Phishing wave at gwynedd' }).waitFor();
  await page.locator('ol.comments').getByText('night-bot (API token)').first().waitFor();
  await page.locator('ol.comments').getByText('gw-soar (API token)').first().waitFor();
  let view = await page.locator('main').innerText();
  check(view.includes('Tenant gwynedd') && /Opened by\s+night-bot \(API token\)/.test(view), `the case names its member and opener:\n${view}`);
  await axe(page, 'case with token authors');
  log('the provider\'s analyst sees the tokens by name');

  // The member's analyst: its own token by name, the provider's not.
  const member = watch(await ctx.newPage(), 'member tab');
  await page.close();
  await ctx.clearCookies();
  await login(member, env.MEMBER_USER, env.MEMBER_PASSWORD);
  await member.goto(`${base}/cases/${env.CASE}`);
  await member.getByRole('heading', { level: 1, name: 'Phishing wave at gwynedd' }).waitFor();
  await member.locator('ol.comments').getByText('gw-soar (API token)').first().waitFor();
  await member.locator('ol.comments').getByText("the provider's API token").first().waitFor();
  view = await member.locator('main').innerText();
  check(view.includes('Tenant gwynedd') && !view.includes('night-bot') && !view.includes('Tenant powys'), `the member's view names its own only:\n${view}`);
  await shot(member, 'live-case-member');
  await axe(member, 'case with token authors (member)');
  log('the member sees its own token by name, the provider\'s as the provider\'s');
  finish();
} finally {
  await close();
}
