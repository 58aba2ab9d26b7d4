// The hunt page in chromium, run by internal/e2e/console_hunt_test.go,
// which ingests five events (gwynedd: whoami on WS1 10 min ago, a DNS
// query for evil.example.net on WS1 30 min ago, a login from 203.0.113.7
// on WS2 3 h ago; powys: net on PC7 10 min ago, a VPN login on PC7 5 h
// ago), adds the indicator evil.example.net (TLP:AMBER, confidence 80)
// and two users.
//
// A saved search is scheduled as it is saved ("203.0.113.7", every 24
// hours: its first run searches the day up to 5 minutes ago and finds the
// 3 h old login); its alert is found in the queue by "Raised by", its
// detail leads back to the hunt, and its schedule is changed, then
// stopped.
//
// Environment: TARIAN_URL, HUNT_USER and HUNT_PASSWORD (a provider
// analyst), MEMBER_USER and MEMBER_PASSWORD (a gwynedd viewer),
// INDICATOR_ID (the evil.example.net indicator), CHROMIUM, SCREENSHOTS.
import { readFileSync } from 'node:fs';
import { axe, base, browser, check, finish, log, login, shot, watch } from './lib.mjs';

const hits = '[data-testid="hunt-results"] tbody tr.hit';
const { ctx, close } = await browser();

// settled waits until no hunt is running and n result rows are shown.
async function settled(page, n, what) {
  try {
    await page.waitForFunction(
      ([sel, n]) => document.querySelector('[data-testid="hunt-status"]')?.getAttribute('data-busy') === 'false' && document.querySelectorAll(sel).length === n,
      [hits, n],
      { timeout: 15000 },
    );
  } catch {
    const got = await page.locator(hits).count();
    const status = await page.locator('main').innerText();
    check(false, `${what}: ${n} rows, got ${got}\n${status.slice(0, 2000)}`);
  }
}

async function tenants(page) {
  return page.locator(hits).evaluateAll((rs) => rs.map((r) => r.getAttribute('data-tenant')));
}

function param(page, name) {
  return new URL(page.url()).searchParams.get(name);
}

// painted counts the canvas pixels in the bars' colour (#2f7bc4).
async function painted(page) {
  const canvas = page.locator('[data-testid="hunt-chart"] canvas').first();
  await canvas.waitFor();
  return canvas.evaluate((c) => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let bar = 0;
    let any = 0;
    for (let i = 0; i < d.length; i += 4) {
      if (d[i + 3] > 0) any++;
      if (Math.abs(d[i] - 0x2f) < 4 && Math.abs(d[i + 1] - 0x7b) < 4 && Math.abs(d[i + 2] - 0xc4) < 4 && d[i + 3] > 250) bar++;
    }
    return { bar, any };
  });
}

async function hunt(page, q) {
  await page.getByLabel('LogsQL query').fill(q);
  await page.getByRole('button', { name: 'Run', exact: true }).click();
}

try {
  // Refusals the test asks for: a bad query, a saved search's name taken.
  const page = watch(ctx.pages()[0] ?? (await ctx.newPage()), 'hunt', (st, method, path) =>
    (st === 400 && method === 'GET' && path === '/api/v1/search') || (st === 409 && method === 'POST' && path === '/api/v1/searches'));
  await login(page, process.env.HUNT_USER, process.env.HUNT_PASSWORD);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Hunt' }).click();
  await page.waitForURL('**/hunt');
  await page.getByRole('heading', { name: 'Hunt', level: 1 }).waitFor();
  log('provider analyst on the hunt page');

  // Every member, the last 24 hours (the default).
  await hunt(page, '*');
  await settled(page, 5, 'all members, 24 h');
  const all = await tenants(page);
  check(all.filter((x) => x === 'gwynedd').length === 3 && all.filter((x) => x === 'powys').length === 2, `3 gwynedd and 2 powys events: ${all}`);
  check(param(page, 'q') === '*' && param(page, 'from') === '-24h' && param(page, 'tenant') === '*', `the hunt is in the URL: ${page.url()}`);
  const first = await page.locator(hits).first().innerText();
  check(first.includes('WS1') || first.includes('PC7'), `the newest event shows its host: ${first}`);

  // The histogram: its total, and bars drawn on the canvas.
  await page.locator('[data-testid="hunt-status"]').filter({ hasText: 'Events in the time range: 5.' }).waitFor();
  const legend = await page.locator('[data-testid="hunt-chart"] .legend').innerText();
  check(legend.includes('Events: 5'), `the chart's legend has the total: ${legend}`);
  const px = await painted(page);
  check(px.bar > 40, `the histogram has bars on its canvas: ${JSON.stringify(px)}`);
  log(`histogram: ${px.bar} bar pixels, ${px.any} painted`);

  // A facet narrows the hunt, and the URL and history follow.
  await page.locator('[data-facet="host.name"] button.value[data-value="WS2"]').click();
  await settled(page, 1, 'facet host.name = WS2');
  check((await page.getByLabel('LogsQL query').inputValue()) === 'host.name:="WS2"', 'the facet wrote host.name:="WS2" in the query');
  check(param(page, 'q') === 'host.name:="WS2"', `the narrowed query is in the URL: ${page.url()}`);
  check((await page.locator(hits).first().innerText()).includes('ann'), 'the WS2 event is ann\'s');
  // ... and Back returns to the hunt before it.
  await page.goBack();
  await settled(page, 5, 'back');
  check((await page.getByLabel('LogsQL query').inputValue()) === '*', 'back restores the query');
  await page.goForward();
  await settled(page, 1, 'forward');
  log('facet narrowed the hunt; back and forward follow the URL');

  // Time ranges: the last hour, then a custom range of the last 4 hours.
  await page.getByLabel('Time range').selectOption('1h');
  await hunt(page, '*');
  await settled(page, 3, 'last hour');
  check(param(page, 'from') === '-1h', `from=-1h in the URL: ${page.url()}`);
  await page.getByLabel('Time range').selectOption('');
  const fourHoursAgo = await page.evaluate(() => {
    const d = new Date(Date.now() - 4 * 3600e3);
    const p = (n) => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
  });
  await page.getByLabel('From', { exact: true }).fill(fourHoursAgo);
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  await settled(page, 4, 'custom range, last 4 h');
  check(!Number.isNaN(Date.parse(param(page, 'from') ?? '')), `an absolute from in the URL: ${page.url()}`);
  check(await page.locator('[data-testid="hunt-chart"] canvas').count() === 1, 'a histogram for the custom range');

  // One member.
  await page.getByLabel('Time range').selectOption('24h');
  await page.getByLabel('Member').selectOption('gwynedd');
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  await settled(page, 3, 'gwynedd only');
  check((await tenants(page)).every((x) => x === 'gwynedd'), 'only gwynedd events');
  check(param(page, 'tenant') === 'gwynedd', `tenant=gwynedd in the URL: ${page.url()}`);
  await page.getByLabel('Member').selectOption('*');
  // The limit caps the rows, not the count over time.
  await page.getByLabel('Result limit').fill('2');
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  await settled(page, 2, 'limit 2');
  await page.locator('[data-testid="hunt-status"]').filter({ hasText: 'Events in the time range: 5. Results shown: 2.' }).waitFor();
  check(param(page, 'limit') === '2', `limit=2 in the URL: ${page.url()}`);
  await page.getByLabel('Result limit').fill('100');
  log('time ranges, the member picker and the limit');

  // An event's every field, its raw record, and a pivot to the indicators.
  await hunt(page, 'evil.example.net');
  await settled(page, 1, 'evil.example.net');
  await page.getByRole('button', { name: 'Every field of result 1' }).click();
  const field = page.locator('tr[data-field="dns.question.name"]');
  check((await field.innerText()).includes('evil.example.net'), 'the expanded event has dns.question.name');
  await page.getByRole('button', { name: 'Show the raw record' }).click();
  await page.locator('[data-testid="raw-record"]').filter({ hasText: '"dns.question.name":"evil.example.net"' }).waitFor();
  await field.getByRole('button', { name: /^Pivot/ }).click();
  check((await page.locator('[data-testid="pivot-value"]').innerText()) === 'evil.example.net', 'pivot on the value');
  await page.getByRole('button', { name: 'Look up as indicator' }).click();
  const lookup = page.locator('[data-testid="pivot-lookup"]');
  await lookup.filter({ hasText: 'Known indicator:' }).waitFor();
  check((await lookup.innerText()).includes('TLP:AMBER, confidence 80'), `its TLP and confidence: ${await lookup.innerText()}`);
  const href = await lookup.getByRole('link').getAttribute('href');
  check(href === `/intel/indicators/${process.env.INDICATOR_ID}`, `a link to the indicator: ${href}`);
  log('expanded event, raw record, known indicator found');

  // Pivot from a facet: an unknown address, added as an indicator.
  await hunt(page, '*');
  await settled(page, 5, 'all again');
  // source.ip is in 2 of 5 events: past the first dozen facets.
  check(await page.locator('[data-facet="source.ip"]').count() === 0, 'a short list of facets at first');
  await page.getByRole('button', { name: /^Show every field/ }).click();
  const ip = page.locator('[data-facet="source.ip"] li').filter({ has: page.locator('button.value[data-value="203.0.113.7"]') });
  await ip.getByRole('button', { name: /^Pivot/ }).click();
  await page.getByRole('button', { name: 'Look up as indicator' }).click();
  await lookup.filter({ hasText: 'Not a known indicator (IPv4 address).' }).waitFor();
  const add = page.locator('form.add');
  check((await add.getByLabel('Type').inputValue()) === 'ipv4', 'the type is guessed: ipv4');
  await add.getByLabel('Marking (TLP)').selectOption('green');
  await add.getByLabel('Confidence (0–100)').fill('70');
  await add.getByLabel('Name (optional)').fill('Seen while hunting');
  await add.getByRole('button', { name: 'Add indicator' }).click();
  const added = page.locator('[data-testid="pivot-added"]');
  await added.filter({ hasText: 'Indicator added: Seen while hunting' }).waitFor();
  check(/^\/intel\/indicators\/indicator--/.test((await added.getByRole('link').getAttribute('href')) ?? ''), 'a link to the new indicator');
  await page.getByRole('button', { name: 'Look up as indicator' }).click();
  await lookup.filter({ hasText: 'TLP:GREEN, confidence 70' }).waitFor();
  log('unknown address added as an indicator, then found');
  await page.getByRole('button', { name: 'Search for this value' }).click();
  await settled(page, 1, 'search for 203.0.113.7');
  check((await page.getByLabel('LogsQL query').inputValue()) === '"203.0.113.7"', 'a new query for the value');

  // A bad query shows the server's message; a query with no hits says so.
  await page.getByLabel('LogsQL query').fill('foo(');
  await page.getByLabel('LogsQL query').press('Control+Enter');
  const error = page.locator('[data-testid="hunt-error"]');
  await error.waitFor();
  const server = await page.evaluate(() => fetch('/api/v1/search?q=foo(&tenant=*').then((r) => r.json()));
  check(server.error === 'bad_query' && (await error.innerText()) === `The query is not valid LogsQL: ${server.message}`, `the server's message: ${await error.innerText()}`);
  check(await page.getByRole('alert').filter({ hasText: 'not valid LogsQL' }).count() === 1, 'the error is an alert');
  await hunt(page, 'nosuchwordanywhere');
  await page.locator('[data-testid="hunt-empty"]').filter({ hasText: 'No events match the query in this time range.' }).waitFor();
  check(await error.count() === 0, 'the error is gone');
  log('bad query and empty results');

  // History: distinct queries, newest first, the bad one not kept; one re-runs.
  await page.locator('[data-testid="hunt-history"] summary').click();
  const history = await page.locator('[data-testid="hunt-history"] li').allInnerTexts();
  const queries = history.map((h) => h.replace(/^Run again:\s*/, '').trim());
  check(queries[0] === 'nosuchwordanywhere' && queries.includes('host.name:="WS2"') && queries.includes('*') && queries.includes('"203.0.113.7"') && !queries.includes('foo('), `history: ${JSON.stringify(queries)}`);
  check(new Set(queries).size === queries.length, 'history is distinct');
  await page.locator('[data-testid="hunt-history"] li').filter({ hasText: 'host.name:="WS2"' }).getByRole('button').click();
  await settled(page, 1, 'history re-run');
  // A reload keeps the hunt (the URL) and the history (local storage).
  await page.reload();
  await settled(page, 1, 'reload');
  check((await page.getByLabel('LogsQL query').inputValue()) === 'host.name:="WS2"', 'the reload keeps the query');
  check((await page.locator('[data-testid="hunt-history"] summary').innerText()).includes(`(${queries.length})`), 'the history survives a reload');
  log('history and reload');

  // Saved searches, the team's (apart from each person's history): the
  // editor's query saved under a name, the same name in another case
  // refused, a click runs one, a delete asks first. One stays, for the
  // server to hold afterwards.
  const saved = page.getByTestId('hunt-saved');
  await saved.locator('summary').click();
  await saved.getByText('No saved searches yet').waitFor();
  await page.getByLabel('LogsQL query').fill('host.name:="WS1"');
  await saved.getByLabel('Name').fill('WS1 activity');
  await saved.getByLabel('What it looks for (optional)').fill('the workstation bob uses');
  await saved.getByRole('button', { name: 'Save this query' }).click();
  await saved.getByRole('status').filter({ hasText: 'Saved “WS1 activity”.' }).waitFor();
  await saved.getByLabel('Name').fill('ws1 ACTIVITY');
  await saved.getByRole('button', { name: 'Save this query' }).click();
  await saved.getByRole('alert').filter({ hasText: 'There is already a saved search called “ws1 ACTIVITY”.' }).waitFor();
  // The second is scheduled as it is saved: every 24 hours, from one
  // result, at High. It runs at once, over the day up to 5 minutes ago.
  await page.getByLabel('LogsQL query').fill('"203.0.113.7"');
  const saveForm = saved.getByRole('form', { name: 'Save this query' });
  await saveForm.getByLabel('Name').fill('Logins from 203.0.113.7');
  await saveForm.getByLabel('What it looks for (optional)').fill('');
  check(await saveForm.getByLabel('Every').count() === 0, 'no schedule fields until asked for');
  await saveForm.getByLabel('Run on its own and alert').check();
  check((await saveForm.getByLabel('Every').inputValue()) === '15m' && (await saveForm.getByLabel('Threshold (results)').inputValue()) === '1' &&
    (await saveForm.getByLabel('Alert severity').inputValue()) === 'medium', 'a new schedule: every 15 min, from 1 result, medium');
  check(JSON.stringify(await saveForm.getByLabel('Every').locator('option').allInnerTexts()) === JSON.stringify(['5 min', '15 min', '1 hour', '6 hours', '24 hours']), 'the intervals offered');
  await saveForm.getByLabel('Every').selectOption('24h');
  await saveForm.getByLabel('Alert severity').selectOption('high');
  await saveForm.getByLabel('Threshold (results)').fill('0');
  check(await saveForm.getByRole('button', { name: 'Save this query' }).isDisabled(), 'a threshold of 0 is not sent');
  await saveForm.getByLabel('Threshold (results)').fill('1');
  await saveForm.getByRole('button', { name: 'Save this query' }).click();
  await saved.getByRole('status').filter({ hasText: 'Saved “Logins from 203.0.113.7”: it now runs on its own.' }).waitFor();
  check(!(await saveForm.getByLabel('Run on its own and alert').isChecked()) && (await saveForm.getByLabel('Every').count()) === 0, 'the save form is reset');
  const logins = saved.locator('li').filter({ hasText: 'Logins from 203.0.113.7' });
  await logins.getByTestId('search-schedule').filter({ hasText: 'Runs every 24 hours · alerts at 1 or more · High' }).waitFor();
  // The panel reloads itself until the first run is recorded.
  await logins.getByTestId('search-run').filter({ hasText: /^Last run .+: 1 found, alerted 1 member$/ }).waitFor({ timeout: 25000 });
  check((await saved.locator('li').filter({ hasText: 'WS1 activity' }).getByTestId('search-schedule').count()) === 0, 'a search not scheduled shows no schedule');
  log(`scheduled search: ${await logins.getByTestId('search-schedule').innerText()}`);
  await hunt(page, '*');
  await settled(page, 5, 'every event before the saved search');
  await saved.getByRole('button', { name: 'Run WS1 activity' }).click();
  await settled(page, 2, 'the saved search');
  check((await page.getByLabel('LogsQL query').inputValue()) === 'host.name:="WS1"', 'the saved search is in the editor');
  check(param(page, 'q') === 'host.name:="WS1"', `the saved search is in the URL: ${page.url()}`);
  // The results shown, as CSV: every field, @timestamp and tenant first.
  const [csvFile] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download the 2 results as CSV' }).click()]);
  const csv = readFileSync(await csvFile.path(), 'utf8').split('\r\n').filter((l) => l !== '');
  check(/^tarian-hunt-.*\.csv$/.test(csvFile.suggestedFilename()), `the file's name: ${csvFile.suggestedFilename()}`);
  check(csv.length === 3 && csv[0].startsWith('@timestamp,tenant,') && csv[0].includes(',host.name,') && csv.slice(1).every((l) => l.includes(',gwynedd,') && l.includes('WS1')), `the CSV:\n${csv.join('\n')}`);
  check(csv.some((l) => l.includes(`"'=HYPERLINK(""http://evil.example.net/x"",""open"")"`)), `a formula in an event is not one in the CSV:\n${csv.join('\n')}`);
  // A search not scheduled: its schedule form has a new schedule's
  // defaults, takes the focus, and Cancel closes it.
  await saved.getByRole('button', { name: 'Schedule WS1 activity', exact: true }).click();
  const ws1Form = saved.getByRole('form', { name: 'Schedule of WS1 activity' });
  check((await ws1Form.getByLabel('Every').inputValue()) === '15m' && (await ws1Form.getByLabel('Threshold (results)').inputValue()) === '1' &&
    (await ws1Form.getByLabel('Alert severity').inputValue()) === 'medium', 'the schedule form has the defaults');
  check(await ws1Form.getByLabel('Every').evaluate((el) => el === document.activeElement), 'the schedule form has the focus');
  await shot(page, 'hunt-schedule');
  await axe(page, 'hunt (schedule form open)');
  await ws1Form.getByRole('button', { name: 'Cancel' }).click();
  await ws1Form.waitFor({ state: 'detached' });
  check(await saved.getByRole('button', { name: 'Schedule WS1 activity', exact: true }).evaluate((el) => el === document.activeElement), 'Cancel gives the focus back');
  await saved.getByRole('button', { name: 'Delete WS1 activity' }).click();
  const confirmDelete = page.getByTestId('search-delete-confirm');
  await confirmDelete.getByText('Delete the saved search “WS1 activity” for everyone who uses it?').waitFor();
  await confirmDelete.getByRole('button', { name: 'Yes, delete “WS1 activity”' }).click();
  await saved.getByRole('status').filter({ hasText: 'Deleted “WS1 activity”.' }).waitFor();
  await saved.locator('li').filter({ hasText: 'WS1 activity' }).waitFor({ state: 'detached' });
  check((await saved.locator('li').count()) === 1, 'one saved search left');
  log('saved searches: saved, refused twice, run, deleted');

  // The scheduled search's alert, in the queue raised by scheduled
  // searches: gwynedd's (its login), titled by the search.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Alerts' }).click();
  await page.waitForURL('**/alerts**');
  await page.getByLabel('Raised by').selectOption({ label: 'Scheduled search' });
  await page.waitForURL((u) => u.pathname === '/alerts' && u.searchParams.get('producer') === 'search');
  const searchAlerts = page.locator('table.queue tbody tr');
  await searchAlerts.filter({ hasText: 'Logins from 203.0.113.7' }).waitFor();
  check((await searchAlerts.count()) === 1, `one alert raised by a scheduled search: ${await searchAlerts.allInnerTexts()}`);
  const alertRow = await searchAlerts.first().innerText();
  check(alertRow.includes('High') && alertRow.includes('Tenant gwynedd') && /search:\d+/.test(alertRow) && alertRow.includes('WS2'), `the search's alert: ${alertRow}`);
  await searchAlerts.first().getByRole('link', { name: 'Logins from 203.0.113.7' }).click();
  await page.getByRole('heading', { name: 'Logins from 203.0.113.7', level: 1 }).waitFor();
  check((await page.locator('section[aria-labelledby="rule-title"]').innerText()).includes('Scheduled search'), 'the detail says a scheduled search raised it');
  // Its saved search, hunted in its member around its event (3 h ago).
  const back = page.getByRole('link', { name: 'Open the saved search in Hunt' });
  await back.waitFor();
  await shot(page, 'hunt-search-alert');
  const backURL = new URL(await back.getAttribute('href'), base);
  const [from, to] = [Date.parse(backURL.searchParams.get('from') ?? ''), Date.parse(backURL.searchParams.get('to') ?? '')];
  // An hour before the event (ingested 3 h before the test began) to a
  // minute after it.
  const hourBefore = Date.now() - 4 * 3600e3;
  check(backURL.pathname === '/hunt' && backURL.searchParams.get('q') === '"203.0.113.7"' && backURL.searchParams.get('tenant') === 'gwynedd' &&
    from <= hourBefore && from > hourBefore - 600e3 && to - from === 3660e3, `the hunt of the saved search: ${backURL}`);
  await back.click();
  await page.waitForURL((u) => u.pathname === '/hunt');
  await settled(page, 1, 'the saved search from its alert');
  check((await tenants(page)).every((x) => x === 'gwynedd') && (await page.getByLabel('LogsQL query').inputValue()) === '"203.0.113.7"', 'the alert\'s search, in its member');
  log('the search\'s alert: in the queue by "Raised by", back to its hunt');

  // Tags and a delay set through the API (the form has neither): the list
  // shows the tags, and the console's change keeps both.
  const apiSearch = (change) => page.evaluate(async (change) => {
    const session = await (await fetch('/api/v1/session', { credentials: 'same-origin' })).json();
    const { searches } = await (await fetch('/api/v1/searches', { credentials: 'same-origin' })).json();
    const s = searches.find((x) => x.name === 'Logins from 203.0.113.7');
    if (!change) return s;
    const resp = await fetch(`/api/v1/searches/${s.id}`, {
      method: 'PUT', credentials: 'same-origin', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': session.csrf_token },
      body: JSON.stringify({ name: s.name, query: s.query, description: s.description, schedule: { ...s.schedule, ...change } }),
    });
    return resp.status;
  }, change);
  check((await apiSearch({ delay: '2m', tags: ['attack.t1133', 'attack.initial-access'] })) === 200, 'tags and a delay set through the API');
  await page.reload();
  await logins.getByTestId('search-tags').filter({ hasText: 'attack.t1133' }).waitFor();

  // Its schedule changed: the form has the schedule as it is.
  await saved.getByRole('button', { name: 'Change schedule of Logins from 203.0.113.7' }).click();
  const loginsForm = saved.getByRole('form', { name: 'Schedule of Logins from 203.0.113.7' });
  check((await loginsForm.getByLabel('Every').inputValue()) === '24h' && (await loginsForm.getByLabel('Threshold (results)').inputValue()) === '1' &&
    (await loginsForm.getByLabel('Alert severity').inputValue()) === 'high', 'the schedule form has the schedule');
  await loginsForm.getByLabel('Every').selectOption('6h');
  await loginsForm.getByLabel('Threshold (results)').fill('3');
  await loginsForm.getByLabel('Alert severity').selectOption('critical');
  await loginsForm.getByRole('button', { name: 'Save schedule of Logins from 203.0.113.7' }).click();
  await saved.getByRole('status').filter({ hasText: 'Scheduled “Logins from 203.0.113.7”.' }).waitFor();
  await loginsForm.waitFor({ state: 'detached' });
  check(await saved.getByRole('button', { name: 'Change schedule of Logins from 203.0.113.7' }).evaluate((el) => el === document.activeElement), 'the focus is back on Change schedule');
  await logins.getByTestId('search-schedule').filter({ hasText: 'Runs every 6 hours · alerts at 3 or more · Critical' }).waitFor();
  check((await logins.locator('code').first().innerText()) === '"203.0.113.7"', 'the query is kept');
  const kept = (await apiSearch(null)).schedule;
  check(kept.delay === '2m' && JSON.stringify(kept.tags) === '["attack.t1133","attack.initial-access"]' && kept.every === '6h', `the change keeps the API's delay and tags: ${JSON.stringify(kept)}`);
  log('schedule changed');
  // Back to every member's last 24 hours, from the alert's range and member.
  await page.getByLabel('Time range').selectOption('24h');
  await page.getByLabel('Member').selectOption('*');

  // A stats pipe: its rows as a table of their columns, one per group and
  // member, and no histogram.
  await hunt(page, '* | stats by (host.name) count() as n');
  await settled(page, 3, 'stats by host.name');
  const stats = await page.locator(hits).allInnerTexts();
  for (const [tenant, host, n] of [['gwynedd', 'WS1', '2'], ['gwynedd', 'WS2', '1'], ['powys', 'PC7', '2']]) {
    // The member by its name (the test server names each "Tenant <id>").
    check(stats.some((r) => r.split('\t').join(' ') === `Tenant ${tenant} ${host} ${n}`), `a stats row Tenant ${tenant} ${host} ${n}: ${JSON.stringify(stats)}`);
  }
  await page.getByText('No histogram: the query').waitFor();
  check(await page.locator('[data-testid="hunt-chart"]').count() === 0, 'no histogram for stats');
  log('stats pipe');

  // The page as a whole: screenshot and accessibility.
  await hunt(page, '*');
  await settled(page, 5, 'all for the screenshot');
  await page.getByRole('button', { name: 'Every field of result 1' }).click();
  await page.locator('tr.detail').waitFor();
  await page.locator('[data-facet="host.name"] li').first().getByRole('button', { name: /^Pivot/ }).click();
  await page.getByRole('button', { name: 'Look up as indicator' }).click();
  await lookup.filter({ hasText: /indicator/ }).waitFor();
  await shot(page, 'hunt');
  await axe(page, 'hunt');

  // Welsh.
  await page.getByLabel('Language').selectOption('cy');
  await page.getByRole('heading', { name: 'Helfa', level: 1 }).waitFor();
  await page.getByLabel('Ymholiad LogsQL').waitFor();
  await page.getByLabel('Cyfnod amser').waitFor();
  await page.getByLabel('Uchafswm canlyniadau').waitFor();
  await page.getByRole('button', { name: 'Rhedeg', exact: true }).waitFor();
  await page.getByRole('heading', { name: 'Meysydd' }).waitFor();
  await page.getByRole('heading', { name: 'Dilyn gwerth' }).waitFor();
  const heads = await page.locator('table.hits > thead').innerText();
  for (const w of ['Amser', 'Aelod', 'Gwesteiwr', 'Defnyddiwr', 'Cod digwyddiad', 'Crynodeb']) check(heads.includes(w), `Welsh column ${w} in ${heads}`);
  check((await page.locator('[data-testid="hunt-status"]').innerText()).includes('Digwyddiadau yn y cyfnod amser: 5.'), 'Welsh total');
  const body = await page.locator('main').innerText();
  const schedule = await page.locator('[data-testid="hunt-saved"] [data-testid="search-schedule"]').innerText();
  check(schedule.includes('Yn rhedeg bob 6 awr · rhybudd ar 3 neu fwy · Critigol') && schedule.includes('Rhedodd ddiwethaf'), `the schedule in Welsh: ${schedule}`);
  await page.getByRole('button', { name: 'Newid amserlen Logins from 203.0.113.7' }).waitFor();
  await page.getByRole('button', { name: 'Atal amserlen Logins from 203.0.113.7' }).waitFor();
  for (const en of ['Run', 'Runs', 'Results', 'Fields', 'Time range', 'Recent queries', 'Host', 'Summary', 'Pivot', 'Filter', 'Events', 'Member', 'Look up', 'Add indicator', 'Show the raw record', 'Loading', 'Last run', 'Schedule', 'alerted', 'found']) {
    check(!new RegExp(`\\b${en}\\b`).test(body), `no English "${en}" left in Welsh:\n${body}`);
  }
  await shot(page, 'hunt-cy');
  await axe(page, 'hunt (Welsh)');
  await page.getByLabel('Iaith').selectOption('en');
  await page.getByRole('heading', { name: 'Hunt', level: 1 }).waitFor();
  log('Welsh');

  // The schedule stopped: the search stays, no longer scheduled.
  await saved.getByRole('button', { name: 'Stop schedule of Logins from 203.0.113.7' }).click();
  await saved.getByRole('status').filter({ hasText: '“Logins from 203.0.113.7” no longer runs on its own.' }).waitFor();
  await logins.getByTestId('search-schedule').waitFor({ state: 'detached' });
  check(await saved.getByRole('button', { name: 'Schedule Logins from 203.0.113.7', exact: true }).evaluate((el) => el === document.activeElement), 'the focus is on the search\'s Schedule… button');
  check((await saved.getByRole('button', { name: /Stop schedule/ }).count()) === 0, 'nothing left to stop');
  log('schedule stopped');
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByRole('heading', { name: 'Log in' }).waitFor();

  // A member viewer: its own member's events only, whatever the URL says;
  // no member picker, no adding indicators.
  await login(page, process.env.MEMBER_USER, process.env.MEMBER_PASSWORD);
  await page.goto(`${base}/hunt?q=*&from=-24h&tenant=powys`);
  await settled(page, 3, 'member viewer');
  check((await tenants(page)).every((x) => x === 'gwynedd'), 'the member sees gwynedd events only');
  const memberView = await page.locator('main').innerText();
  check(!memberView.includes('PC7') && !memberView.includes('powys') && !memberView.includes('POWYS'), 'nothing of powys in the member view');
  check(await page.getByLabel('Member').count() === 0, 'no member picker for a member');
  check((await painted(page)).bar > 40, 'the member has a histogram too');
  await hunt(page, 'vpn');
  await page.locator('[data-testid="hunt-empty"]').waitFor();
  await hunt(page, '*');
  await settled(page, 3, 'member viewer again');
  await page.locator('[data-facet="host.name"] li').first().getByRole('button', { name: /^Pivot/ }).click();
  await page.getByRole('button', { name: 'Look up as indicator' }).waitFor();
  check(await page.getByRole('button', { name: 'Add indicator' }).count() === 0, 'a viewer cannot add indicators');
  check((await page.getByTestId('hunt-saved').locator('li').count()) === 0, 'the provider\'s saved searches are not the member\'s');
  await page.getByTestId('hunt-saved').locator('summary').click();
  await page.getByTestId('hunt-saved').getByText('No saved searches yet.', { exact: true }).waitFor();
  check(await page.getByRole('button', { name: 'Save this query' }).count() === 0, 'a viewer cannot save searches');
  await shot(page, 'hunt-member');
  await axe(page, 'hunt (member viewer)');
  log('member viewer: own events only');

  finish();
} finally {
  await close();
}
