// The overview page, driven in chromium against a running tarian server;
// run by internal/e2e/console_overview_test.go, which raises alerts of
// four severities at two members and ingests a source gone quiet.
//
// Environment (besides lib.mjs's): CONSOLE_USER and CONSOLE_PASSWORD (a
// provider analyst), MEMBER_USER and MEMBER_PASSWORD (a viewer of
// gwynedd), EXPECT_LEVELS (alerts per member and level, from the alerts
// list, as JSON).
import { axe, browser, check, finish, log, login, shot, watch } from './lib.mjs';

const expected = JSON.parse(process.env.EXPECT_LEVELS);
const levels = { critical: 'Critical', high: 'High', medium: 'Medium', low: 'Low', informational: 'Informational' };
const { ctx, close } = await browser();

// legend reads the chart's legend: level → total.
async function legend(page) {
  const out = {};
  for (const text of await page.locator('[data-testid="overview-chart"] .legend li').allInnerTexts()) {
    const [label, n] = text.split(':');
    const level = Object.keys(levels).find((l) => levels[l] === label.trim());
    check(level, `a legend entry of a known level: ${text}`);
    out[level] = Number(n.trim().replace(/[^\d]/g, ''));
  }
  return out;
}

// api reads the metrics as the page's session may.
async function api(page, query) {
  return page.evaluate(async (q) => {
    const from = new Date();
    from.setUTCHours(0, 0, 0, 0);
    from.setUTCDate(from.getUTCDate() - 29);
    const r = await fetch(`/api/v1/metrics/soc?from=${encodeURIComponent(from.toISOString())}&step=1d${q}`, { credentials: 'same-origin' });
    return { status: r.status, body: r.ok ? await r.json() : null };
  }, query);
}

// sameCounts checks the legend shows want (level → n; absent is 0).
function sameCounts(got, want, what) {
  for (const l of Object.keys(levels)) check((got[l] ?? 0) === (want[l] ?? 0), `${what}: ${l} ${got[l]}, want ${want[l] ?? 0} (legend ${JSON.stringify(got)})`);
}

function sum(...ms) {
  const out = {};
  for (const m of ms) for (const [k, v] of Object.entries(m)) out[k] = (out[k] ?? 0) + v;
  return out;
}

// barPixels counts the chart canvas's pixels of a colour (r, g, b): the
// chart is drawn, not merely laid out.
async function barPixels(page, rgb) {
  return page.locator('[data-testid="overview-chart"] canvas').evaluate((c, [r, g, b]) => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) if (Math.abs(d[i] - r) < 8 && Math.abs(d[i + 1] - g) < 8 && Math.abs(d[i + 2] - b) < 8 && d[i + 3] > 200) n++;
    return n;
  }, rgb);
}

async function openOverview(page) {
  await page.getByRole('navigation').getByRole('link', { name: 'Overview' }).click();
  await page.waitForURL('**/overview');
  await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
  await page.locator('[data-testid="overview-chart"] canvas').waitFor();
}

try {
  const page = watch(ctx.pages()[0] ?? (await ctx.newPage()), 'overview', (st, method, path) => st === 403 && method === 'GET' && path === '/api/v1/metrics/soc');
  await login(page, process.env.CONSOLE_USER, process.env.CONSOLE_PASSWORD);
  await openOverview(page);

  // Every member together: the legend's totals are the API's and the
  // alerts list's; the bars are drawn.
  const all = await api(page, '&tenant=*');
  check(all.status === 200, `metrics for the provider: ${all.status}`);
  const everyone = sum(expected.gwynedd, expected.powys);
  sameCounts(all.body.by_severity, everyone, 'the API against the alerts list');
  await page.locator('[data-testid="overview-total"]').filter({ hasText: 'Alerts raised in the last 30 days: 6' }).waitFor();
  sameCounts(await legend(page), all.body.by_severity, 'every member');
  const high = await barPixels(page, [209, 53, 43]);
  const critical = await barPixels(page, [122, 16, 32]);
  check(high > 20 && critical > 20, `bars drawn on the canvas: ${high} high, ${critical} critical pixels`);
  log(`chart: ${JSON.stringify(await legend(page))}, ${high} high and ${critical} critical pixels`);

  // Service levels, open alerts, rules and techniques.
  const sla = page.locator('[data-testid="overview-sla"]');
  check(!(await sla.locator('[data-testid="overview-mttd"]').innerText()).startsWith('No data'), 'MTTD measured');
  check((await sla.locator('[data-testid="overview-mttd"]').innerText()).includes('over 6 alerts'), 'MTTD over the 6 alerts');
  check((await sla.locator('[data-testid="overview-mtta"]').innerText()).startsWith('No data yet'), 'no MTTA: nothing acknowledged');
  check((await sla.locator('tr[data-status="new"] td.num').innerText()) === '6', 'six new alerts open');
  const rules = page.locator('[data-testid="overview-rules"]');
  for (const title of ['whoami run', 'net user run', 'certutil download', 'hostname run']) await rules.getByRole('cell', { name: title }).waitFor();
  check((await rules.locator('tr[data-rule]').first().innerText()).includes('whoami run'), 'whoami (3 alerts) tops the rules');
  check((await rules.locator('tr[data-technique="T1033"] td.num').innerText()) === '3', 'T1033 on 3 alerts');
  check((await rules.locator('tr[data-technique="T1105"] td.num').innerText()) === '1', 'T1105 on 1 alert');

  // Log sources of the last 24 hours: five hosts, OLD1 quiet.
  const sources = page.locator('[data-testid="overview-sources"]');
  await sources.locator('tr[data-source-host]').first().waitFor();
  check((await sources.locator('tr[data-source-host]').count()) === 5, `5 sources, got ${await sources.locator('tr[data-source-host]').count()}`);
  check((await sources.locator('tr[data-source-host="OLD1"]').getAttribute('data-health')) === 'quiet', 'OLD1 quiet');
  check((await sources.locator('tr[data-source-host="WS1"]').getAttribute('data-health')) === 'ok', 'WS1 receiving');
  check((await sources.locator('tr[data-source-host="WS1"]').innerText()).includes('windows.sysmon_operational'), 'the dataset shown');
  await sources.getByText('Sources: 5 (quiet: 1)').waitFor();
  check((await sources.innerText()).includes('last 24 hours'), 'the sources say they are over the last 24 hours');
  await shot(page, 'overview');
  await axe(page, 'overview');

  // The member picker narrows every part to one member.
  await page.getByLabel('Member').selectOption('gwynedd');
  await page.locator('[data-testid="overview-total"]').filter({ hasText: 'last 30 days: 4' }).waitFor();
  const gw = all.body.tenants.find((x) => x.tenant === 'gwynedd');
  sameCounts(gw.by_severity, expected.gwynedd, "gwynedd's measures against its alerts");
  sameCounts(await legend(page), gw.by_severity, 'gwynedd picked');
  check(!(await rules.innerText()).includes('net user run'), 'no powys rule for gwynedd');
  check((await rules.locator('tr[data-technique="T1033"] td.num').innerText()) === '2', 'T1033 on 2 of gwynedd\'s alerts');
  check((await sources.locator('tr[data-source-host]').count()) === 3, 'gwynedd has 3 sources');
  check((await sources.locator('tr[data-source-host="PC7"]').count()) === 0, 'no powys source for gwynedd');
  check((await barPixels(page, [209, 53, 43])) > 20, 'gwynedd\'s bars drawn');
  log('member picker narrows to gwynedd');

  // Another period: 7 days, the same alerts.
  await page.getByLabel('Period').selectOption('7');
  await page.locator('[data-testid="overview-total"]').filter({ hasText: 'Alerts raised in the last 7 days: 4' }).waitFor();
  await page.locator('[data-testid="overview-chart"] figcaption').filter({ hasText: 'last 7 days' }).waitFor();
  sameCounts(await legend(page), gw.by_severity, 'gwynedd over 7 days');

  // Welsh: headings, labels and table heads change, no English left.
  await page.getByLabel('Language').selectOption('cy');
  await page.getByRole('heading', { name: 'Trosolwg', level: 1 }).waitFor();
  for (const h of ['Rhybuddion yn ôl difrifoldeb', 'Lefelau gwasanaeth', 'Y prif reolau', 'Y prif dechnegau ATT&CK', 'Ffynonellau logiau']) {
    await page.getByRole('heading', { name: h }).waitFor();
  }
  await page.getByLabel('Cyfnod').waitFor();
  await page.getByLabel('Aelod').waitFor();
  await page.locator('[data-testid="overview-chart"] .legend li').filter({ hasText: 'Uchel: 2' }).waitFor();
  const body = await page.locator('main').innerText();
  for (const en of ['Overview', 'Alerts', 'Severity', 'Service', 'Top', 'Rule', 'Technique', 'Log sources', 'Quiet', 'Receiving', 'Period', 'Member', 'Health', 'Dataset', 'Host', 'False', 'Mean time', 'High', 'Critical', 'Last', 'days', 'over', 'open']) {
    check(!new RegExp(`\\b${en}\\b`).test(body), `no English "${en}" left in Welsh:\n${body}`);
  }
  await shot(page, 'overview-cy');
  await axe(page, 'overview in Welsh');
  await page.getByLabel('Iaith').selectOption('en');
  await page.getByRole('heading', { name: 'Overview', level: 1 }).waitFor();
  log('Welsh');

  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByRole('heading', { name: 'Log in' }).waitFor();

  // A member viewer: its own member only, no picker, and another
  // member's measures refused.
  await login(page, process.env.MEMBER_USER, process.env.MEMBER_PASSWORD);
  await openOverview(page);
  await page.locator('[data-testid="overview-total"]').filter({ hasText: 'last 30 days: 4' }).waitFor();
  check((await page.getByLabel('Member').count()) === 0, 'no member picker for a member');
  const own = await api(page, '');
  check(own.status === 200 && own.body.tenant === 'gwynedd', `the member's own metrics: ${own.status} ${own.body?.tenant}`);
  sameCounts(own.body.by_severity, expected.gwynedd, "the member's measures against its alerts");
  sameCounts(await legend(page), own.body.by_severity, 'the member');
  await sources.locator('tr[data-source-host]').first().waitFor();
  check((await sources.locator('tr[data-source-host]').count()) === 3, 'the member sees its 3 sources');
  const view = await page.locator('main').innerText();
  for (const other of ['powys', 'PC7', 'OLD1', 'net user run']) check(!view.includes(other), `no ${other} in the member's overview`);
  check((await api(page, '&tenant=powys')).status === 403, "another member's metrics refused");
  await shot(page, 'overview-member');
  await axe(page, 'overview (member)');
  log("member viewer: own member only, another's refused");

  finish();
} finally {
  await close();
}
