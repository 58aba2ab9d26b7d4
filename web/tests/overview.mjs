// The overview page, driven in chromium against a running tarian server;
// run by internal/e2e/console_overview_test.go, which raises alerts of
// four severities at two members, declares a source that has gone silent
// (its silence alert raised) and one never heard from.
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

// get reads a GET endpoint as the page's session may: status, content
// type and body (JSON when it is).
async function get(page, path) {
  return page.evaluate(async (p) => {
    const r = await fetch(p, { credentials: 'same-origin' });
    const type = r.headers.get('content-type') ?? '';
    return { status: r.status, type, body: type.startsWith('application/json') ? await r.json() : await r.text() };
  }, path);
}

// thisMonth is the current month in UTC, the report's default.
const thisMonth = new Date().toISOString().slice(0, 7);
const lastMonth = (() => {
  const d = new Date();
  d.setUTCDate(1);
  d.setUTCMonth(d.getUTCMonth() - 1);
  return d.toISOString().slice(0, 7);
})();

// reportHref is the link the report control must build.
function reportHref(tenant, month, lang, format) {
  return `/api/v1/reports?${new URLSearchParams({ tenant, month, lang, format })}`;
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
  const total = Object.values(everyone).reduce((a, b) => a + b, 0);
  sameCounts(all.body.by_severity, everyone, 'the API against the alerts list');
  await page.locator('[data-testid="overview-total"]').filter({ hasText: `Alerts raised in the last 30 days: ${total}` }).waitFor();
  sameCounts(await legend(page), all.body.by_severity, 'every member');
  const high = await barPixels(page, [209, 53, 43]);
  const critical = await barPixels(page, [122, 16, 32]);
  check(high > 20 && critical > 20, `bars drawn on the canvas: ${high} high, ${critical} critical pixels`);
  log(`chart: ${JSON.stringify(await legend(page))}, ${high} high and ${critical} critical pixels`);

  // Service levels, open alerts, rules and techniques.
  const sla = page.locator('[data-testid="overview-sla"]');
  check(!(await sla.locator('[data-testid="overview-mttd"]').innerText()).startsWith('No data'), 'MTTD measured');
  check((await sla.locator('[data-testid="overview-mttd"]').innerText()).includes(`over ${total} alerts`), `MTTD over the ${total} alerts`);
  check((await sla.locator('[data-testid="overview-mtta"]').innerText()).startsWith('No data yet'), 'no MTTA: nothing acknowledged');
  check((await sla.locator('tr[data-status="new"] td.num').innerText()) === String(total), `${total} new alerts open`);
  const rules = page.locator('[data-testid="overview-rules"]');
  for (const title of ['whoami run', 'net user run', 'certutil download', 'hostname run']) await rules.getByRole('cell', { name: title }).waitFor();
  check((await rules.locator('tr[data-rule]').first().innerText()).includes('whoami run'), 'whoami (3 alerts) tops the rules');
  check((await rules.locator('tr[data-technique="T1033"] td.num').innerText()) === '3', 'T1033 on 3 alerts');
  check((await rules.locator('tr[data-technique="T1105"] td.num').innerText()) === '1', 'T1105 on 1 alert');

  // Log sources' health: five hosts and the declared firewall; OLD1,
  // declared with a 10 s silence, silent and marked; the firewall waiting.
  const sources = page.locator('[data-testid="overview-sources"]');
  await sources.locator('tr[data-source-host]').first().waitFor();
  check((await sources.locator('tr[data-source-host]').count()) === 6, `6 sources, got ${await sources.locator('tr[data-source-host]').count()}`);
  const old = sources.locator('tr[data-source-host="OLD1"]');
  check((await old.getAttribute('data-health')) === 'silent', 'OLD1 silent');
  check((await old.locator('[data-testid="source-state"]').innerText()).includes('Silent'), 'OLD1 says it is silent');
  check(await old.locator('[data-testid="source-state"]').evaluate((e) => e.classList.contains('breached')), 'the silent state marked as a breach');
  check((await old.innerText()).includes('powys-legacy'), 'OLD1 named by its declaration');
  const fw = sources.locator('tr[data-source-name="powys-firewall"]');
  check((await fw.getAttribute('data-health')) === 'waiting', 'the declared firewall waiting');
  check((await fw.innerText()).includes('never'), 'the firewall never heard from');
  const ws1 = sources.locator('tr[data-source-host="WS1"]');
  check((await ws1.getAttribute('data-health')) === 'ok', 'WS1 ok');
  check((await ws1.innerText()).includes('http'), 'the receiver shown');
  check((await ws1.innerText()).includes('learning'), 'no baseline yet: learning');
  await sources.getByText('Sources: 6 (silent: 1, dropped: 0, waiting: 1)').waitFor();
  const api6 = await get(page, '/api/v1/sources?tenant=*');
  check(api6.status === 200 && api6.body.sources.length === 6, `the API's sources: ${api6.status} ${JSON.stringify(api6.body).slice(0, 300)}`);
  log('sources: OLD1 silent, the firewall waiting');

  // Onboarding: one scorecard per member, as the API's.
  const onboarding = page.locator('[data-testid="overview-onboarding"]');
  await onboarding.locator('tr[data-scorecard]').first().waitFor();
  check((await onboarding.locator('tr[data-scorecard]').count()) === 2, 'two scorecards');
  const cards = await get(page, '/api/v1/scorecard?tenant=*');
  check(cards.status === 200 && cards.body.scorecards.length === 2, `the API's scorecards: ${cards.status}`);
  for (const c of cards.body.scorecards) {
    const row = onboarding.locator(`tr[data-scorecard="${c.tenant}"]`);
    check((await row.locator('[data-testid="scorecard-score"]').innerText()) === `${c.score} out of 100`, `${c.tenant}'s score ${c.score}`);
    check((await row.locator('[data-testid="scorecard-seen"]').innerText()).startsWith(String(c.sources.seen)), `${c.tenant}'s sources seen`);
    check((await row.locator('[data-testid="scorecard-coverage"]').innerText()).includes(`covered: ${c.coverage.covered}, blind: ${c.coverage.blind}`), `${c.tenant}'s techniques`);
    const searched = row.locator('[data-testid="scorecard-searches"]');
    if (c.tenant === 'gwynedd') {
      check(c.coverage.searches === 1 && (await searched.innerText()) === 'scheduled searches: 1', `gwynedd's scheduled search counted: ${c.coverage.searches}`);
    } else {
      check(c.coverage.searches === 0 && (await searched.count()) === 0, `${c.tenant} counts none of gwynedd's searches`);
    }
  }
  const powysCard = onboarding.locator('tr[data-scorecard="powys"]');
  check((await powysCard.locator('[data-testid="scorecard-declared"]').innerText()) === '1 of 2', 'powys: 1 of 2 declared sources heard');
  const next = await powysCard.locator('[data-testid="scorecard-next"]').innerText();
  check(next.includes('Connect powys-firewall') && next.includes('Restore the silent sources (1)'), `powys's next steps: ${next}`);
  check((await onboarding.locator('tr[data-scorecard="gwynedd"] [data-testid="scorecard-declared"]').innerText()) === 'none declared', 'gwynedd declared none');
  // What to send next, its counts in the singular or plural as they fall.
  let sends = 0;
  for (const c of cards.body.scorecards) {
    const g = (c.coverage.next ?? [])[0];
    if (!g || !(g.techniques ?? []).length) continue;
    const n = g.techniques.length;
    const want = `Send ${g.source} logs: ${g.rules} rule${g.rules === 1 ? '' : 's'} would cover ${n} blind technique${n === 1 ? '' : 's'}`;
    const text = await onboarding.locator(`tr[data-scorecard="${c.tenant}"] [data-testid="scorecard-next"]`).innerText();
    check(text.includes(want) && !text.includes('(s)'), `${c.tenant}'s next steps: want "${want}" in ${text}`);
    sends++;
  }
  check(sends > 0, 'a scorecard suggests logs to send next');
  log(`onboarding scorecards (${sends} with logs to send next)`);

  // The monthly report: a member, a month, a language and a format make
  // the link; the session's cookie opens it.
  const report = page.locator('[data-testid="overview-report"]');
  const link = report.locator('[data-testid="report-link"]');
  check((await report.getByLabel('Month').inputValue()) === thisMonth, 'the current month by default');
  await report.getByLabel('Report for').selectOption('powys');
  await report.getByLabel('Month').fill(lastMonth);
  await report.getByLabel('Report language').selectOption('cy');
  check((await link.getAttribute('href')) === reportHref('powys', lastMonth, 'cy', 'html'), `the link follows the month: ${await link.getAttribute('href')}`);
  await report.getByLabel('Month').fill(thisMonth);
  const href = reportHref('powys', thisMonth, 'cy', 'html');
  check((await link.getAttribute('href')) === href, `the report link: ${await link.getAttribute('href')}, want ${href}`);
  const html = await get(page, href);
  check(html.status === 200 && html.type.startsWith('text/html') && html.body.includes('Adroddiad misol'), `the Welsh HTML report: ${html.status} ${html.type}`);
  const [tab] = await Promise.all([ctx.waitForEvent('page'), link.click()]);
  await tab.waitForLoadState();
  check(new URL(tab.url()).pathname + new URL(tab.url()).search === href, `the report opened in a tab: ${tab.url()}`);
  check((await tab.content()).includes('Adroddiad misol'), 'the opened tab is the report');
  await tab.close();
  await report.getByLabel('Format').selectOption('pdf');
  const pdfHref = reportHref('powys', thisMonth, 'cy', 'pdf');
  check((await link.getAttribute('href')) === pdfHref && (await link.getAttribute('download')) !== null, 'the PDF link downloads');
  const pdf = await get(page, pdfHref);
  check(pdf.status === 200 && pdf.type === 'application/pdf' && pdf.body.startsWith('%PDF'), `the PDF report: ${pdf.status} ${pdf.type}`);
  await report.getByLabel('Format').selectOption('html');
  log(`report link ${href}`);

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
  await sources.getByText('Sources: 3 (silent: 0, dropped: 0, waiting: 0)').waitFor();
  check((await onboarding.locator('tr[data-scorecard]').count()) === 1, "gwynedd's scorecard only");
  check((await link.getAttribute('href')).includes('tenant=powys'), 'the report keeps the member chosen for it');
  check((await barPixels(page, [209, 53, 43])) > 20, 'gwynedd\'s bars drawn');
  log('member picker narrows to gwynedd');

  // Another period: 7 days, the same alerts.
  await page.getByLabel('Period').selectOption('7');
  await page.locator('[data-testid="overview-total"]').filter({ hasText: 'Alerts raised in the last 7 days: 4' }).waitFor();
  await page.locator('[data-testid="overview-chart"] figcaption').filter({ hasText: 'last 7 days' }).waitFor();
  sameCounts(await legend(page), gw.by_severity, 'gwynedd over 7 days');

  // Welsh: headings, labels and table heads change, no English left.
  await page.getByTestId('lang').selectOption('cy');
  await page.getByRole('heading', { name: 'Trosolwg', level: 1 }).waitFor();
  for (const h of ['Rhybuddion yn ôl difrifoldeb', 'Lefelau gwasanaeth', 'Y prif reolau', 'Y prif dechnegau ATT&CK', 'Ffynonellau logiau', 'Cynefino', 'Adroddiad misol']) {
    await page.getByRole('heading', { name: h }).waitFor();
  }
  await page.getByLabel('Cyfnod').waitFor();
  await page.getByLabel('Aelod').waitFor();
  await page.getByLabel('Iaith yr adroddiad').waitFor();
  await sources.getByText('Ffynonellau: 3 (tawel: 0, wedi gostwng: 0, yn aros: 0)').waitFor();
  await page.locator('[data-testid="overview-chart"] .legend li').filter({ hasText: 'Uchel: 2' }).waitFor();
  const body = await page.locator('main').innerText();
  for (const en of ['Overview', 'Alerts', 'Severity', 'Service', 'Top', 'Rule', 'Technique', 'Log sources', 'Silent', 'Waiting', 'State', 'Receiver', 'Baseline', 'learning', 'Unparsed', 'Dead', 'Onboarding', 'Score', 'Declared', 'covered', 'blind', 'Monthly', 'Report', 'Month', 'Format', 'Period', 'Member', 'Host', 'False', 'Mean time', 'High', 'Critical', 'Last', 'days', 'over', 'open']) {
    check(!new RegExp(`\\b${en}\\b`).test(body), `no English "${en}" left in Welsh:\n${body}`);
  }
  await shot(page, 'overview-cy');
  await axe(page, 'overview in Welsh');
  await page.getByTestId('lang').selectOption('en');
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
  await onboarding.locator('tr[data-scorecard="gwynedd"]').waitFor();
  check((await onboarding.locator('tr[data-scorecard]').count()) === 1, "the member's own scorecard only");
  check((await report.getByLabel('Report for').count()) === 0, 'no report member picker for a member');
  await report.getByLabel('Report language').selectOption('en');
  const ownHref = reportHref('gwynedd', thisMonth, 'en', 'html');
  check((await link.getAttribute('href')) === ownHref, `the member's report link: ${await link.getAttribute('href')}`);
  const own2 = await get(page, ownHref);
  check(own2.status === 200 && own2.type.startsWith('text/html') && own2.body.includes('Monthly report'), `the member's own report: ${own2.status} ${own2.type}`);
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
