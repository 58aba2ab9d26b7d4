// The threat-intelligence pages (intel, an indicator, campaigns, a
// campaign, advisories, an advisory) in Debian's chromium; run by
// internal/e2e/console_intel_test.go, which sets up three members whose
// alerts on the provider's indicator WAVE_ID form campaign CAMPAIGN_ID, an
// indicator HIDDEN_ID shared with powys alone, and an advisory
// POWYS_ADVISORY addressed to powys alone.
//
// Environment: TARIAN_URL, CONSOLE_USER and CONSOLE_PASSWORD (a provider
// analyst), MEMBER_USER and MEMBER_PASSWORD (a gwynedd viewer), WAVE_ID,
// HIDDEN_ID, CAMPAIGN_ID, POWYS_ADVISORY, CHROMIUM, SCREENSHOTS.
import { axe, base, browser, check, finish, log, login, shot, watch } from './lib.mjs';

const env = process.env;
const wave = env.WAVE_ID;
const hidden = env.HIDDEN_ID;
const campaign = env.CAMPAIGN_ID;
const powysAdvisory = env.POWYS_ADVISORY;
const { ctx, close } = await browser();

// The member's "not found" pages are the API's 404s, expected.
const expected = (st, method, path) =>
  st === 404 && method === 'GET' && (path === `/api/v1/intel/indicators/${hidden}` || path === `/api/v1/advisories/${powysAdvisory}`);

async function noEnglish(page, words) {
  const body = await page.locator('main').innerText();
  for (const en of words) check(!new RegExp(`\\b${en}\\b`).test(body), `no English "${en}" left in Welsh:\n${body}`);
}

try {
  const page = watch(ctx.pages()[0] ?? (await ctx.newPage()), 'intel', expected);
  await login(page, env.CONSOLE_USER, env.CONSOLE_PASSWORD);
  const nav = page.getByRole('navigation', { name: 'Main' });

  // The indicators: the provider reads every one, the one shared with
  // powys alone too; the retro-hunts of both are done.
  await nav.getByRole('link', { name: 'Intel' }).click();
  await page.waitForURL('**/intel');
  await page.getByRole('heading', { name: 'Threat intelligence', level: 1 }).waitFor();
  const rows = page.locator('table.indicators tbody tr');
  await rows.filter({ hasText: 'login.phish-wave.net' }).waitFor();
  await rows.filter({ hasText: 'powys-only.example' }).waitFor();
  await page.locator('table.hunts').getByRole('link', { name: 'login.phish-wave.net' }).first().waitFor();
  check((await rows.filter({ hasText: 'login.phish-wave.net' }).locator('.tlp[data-tlp="amber"]').innerText()) === 'TLP:AMBER', 'TLP badge');
  await page.locator('tr[data-hunt-status="done"]').first().waitFor();
  log('indicators and retro-hunts listed');

  // Add an indicator through the form: the server normalises the value.
  await page.locator('#ind-value').fill('Bad-Actor.Example.');
  await page.locator('#ind-type').selectOption('domain');
  await page.locator('#ind-tlp').selectOption('green');
  await page.locator('#ind-confidence').fill('70');
  await page.locator('#ind-days').fill('14');
  await page.locator('#ind-description').fill('Seen in a phishing kit');
  await page.getByRole('button', { name: 'Add indicator' }).click();
  await page.getByRole('status').filter({ hasText: 'Indicator added: bad-actor.example.' }).waitFor();
  const added = rows.filter({ hasText: 'bad-actor.example' });
  await added.waitFor();
  check((await added.innerText()).includes('TLP:GREEN') && (await added.innerText()).includes('70'), 'the added indicator is listed green, 70');
  log('indicator added');

  // Import a CSV file: two indicators, one line refused with its reason.
  await page.locator('#imp-file').setInputFiles({
    name: 'iocs.csv',
    mimeType: 'text/csv',
    buffer: Buffer.from('type,value,tlp\nipv4,198.51.100.23,green\ndomain,import-one.example,amber\nipv4,not-an-address,green\n'),
  });
  await page.getByRole('button', { name: 'Import file' }).click();
  await page.getByRole('status').filter({ hasText: 'Imported iocs.csv.' }).waitFor();
  check((await page.locator('[data-count="imported"]').innerText()) === '2', 'two imported');
  check((await page.locator('[data-count="skipped"]').innerText()) === '1', 'one skipped');
  check((await page.locator('[data-testid="import-summary"] + table').innerText()).includes('not-an-address') || (await page.locator('main').innerText()).includes('line 4'), 'the refused line is listed');
  await rows.filter({ hasText: '198.51.100.23' }).waitFor();
  await rows.filter({ hasText: 'import-one.example' }).waitFor();
  log('CSV imported');

  // Filters: the API's type, the page's text search.
  const filters = page.getByRole('form', { name: 'Indicator filters' });
  await filters.getByLabel('Type').selectOption('ipv4');
  await page.waitForFunction(() => [...document.querySelectorAll('table.indicators tbody tr')].every((r) => r.textContent.includes('198.51.100.23')));
  await filters.getByLabel('Type').selectOption('');
  await rows.filter({ hasText: 'login.phish-wave.net' }).waitFor();
  await filters.getByLabel('Search this page').fill('phish-wave');
  await page.waitForFunction(() => document.querySelectorAll('table.indicators tbody tr').length === 1);
  await filters.getByLabel('Search this page').fill('');
  await page.waitForFunction(() => document.querySelectorAll('table.indicators tbody tr').length === 5);
  await shot(page, 'intel-intel');
  await axe(page, 'intel');

  // Paging: 60 more addresses make a second page of the API's 50.
  const many = Array.from({ length: 60 }, (_, i) => `203.0.113.${i + 100}`).join('\n');
  await page.locator('#imp-file').setInputFiles({ name: 'many.txt', mimeType: 'text/plain', buffer: Buffer.from(`${many}\n`) });
  await page.getByRole('button', { name: 'Import file' }).click();
  await page.getByRole('status').filter({ hasText: 'Imported many.txt.' }).waitFor();
  check((await page.locator('[data-count="imported"]').innerText()) === '60', 'sixty imported');
  await page.waitForFunction(() => document.querySelectorAll('table.indicators tbody tr').length === 50);
  await page.getByRole('button', { name: 'Next page' }).click();
  await page.getByText('Page 2', { exact: true }).waitFor();
  await page.waitForFunction(() => document.querySelectorAll('table.indicators tbody tr').length === 15);
  await rows.filter({ hasText: '203.0.113.159' }).waitFor();
  check(await page.getByRole('button', { name: 'Next page' }).isDisabled(), 'no third page');
  await page.getByRole('button', { name: 'Previous page' }).click();
  await page.getByText('Page 1', { exact: true }).waitFor();
  await rows.filter({ hasText: 'login.phish-wave.net' }).waitFor();
  log('paging');

  // The wave's indicator: a sighting at each member, each with its alert.
  await rows.filter({ hasText: 'login.phish-wave.net' }).getByRole('link').click();
  await page.waitForURL(`**/intel/indicators/${wave}`);
  await page.getByRole('heading', { name: 'login.phish-wave.net', level: 1 }).waitFor();
  const sightings = page.locator('table.sightings tbody tr');
  await sightings.first().waitFor();
  for (const m of ['gwynedd', 'powys', 'conwy']) {
    const row = page.locator(`tr[data-sighting-tenant="${m}"]`);
    check((await row.count()) === 1, `a sighting at ${m}`);
    check((await row.getByRole('link').getAttribute('href')).match(/^\/alerts\/\d+$/), `${m}'s sighting links its alert`);
  }
  const facts = await page.locator('dl.facts').innerText();
  for (const w of ['TLP:AMBER', '90', 'Every member', 'The provider', 'Active']) check(facts.includes(w), `indicator facts show ${w}: ${facts}`);
  await shot(page, 'intel-indicator');
  await axe(page, 'indicator');
  log('indicator with its three sightings');

  // Revoke the imported address.
  await page.getByRole('link', { name: '← All indicators' }).click();
  await rows.filter({ hasText: '198.51.100.23' }).getByRole('link').click();
  await page.getByRole('heading', { name: '198.51.100.23', level: 1 }).waitFor();
  await page.getByRole('button', { name: 'Revoke indicator' }).click();
  await page.getByRole('button', { name: 'Yes, revoke it' }).click();
  await page.locator('dd[data-state="revoked"]').waitFor();
  await page.getByRole('status').filter({ hasText: 'Indicator revoked.' }).waitFor();
  log('imported indicator revoked');
  // Gone from the list, back with "include revoked".
  await page.getByRole('link', { name: '← All indicators' }).click();
  await rows.filter({ hasText: 'login.phish-wave.net' }).waitFor();
  check((await rows.filter({ hasText: '198.51.100.23' }).count()) === 0, 'a revoked indicator is not listed by default');
  await page.getByLabel('Include revoked').check();
  await page.locator('tr[data-state="revoked"]').filter({ hasText: '198.51.100.23' }).waitFor();

  // Campaigns: the wave at three members; the campaign links each alert.
  await nav.getByRole('link', { name: 'Campaigns' }).click();
  await page.waitForURL('**/campaigns');
  await page.getByRole('heading', { name: 'Campaigns', level: 1 }).waitFor();
  const crow = page.locator(`tr[data-campaign-id="${campaign}"]`);
  await crow.waitFor();
  const ctext = await crow.innerText();
  check(ctext.includes('login.phish-wave.net') && ctext.includes('3') && ctext.includes('Active') && ctext.includes('Domain'), `campaign row: ${ctext}`);
  await shot(page, 'intel-campaigns');
  await axe(page, 'campaigns');
  await crow.getByRole('link').click();
  await page.waitForURL(`**/campaigns/${campaign}`);
  await page.getByRole('heading', { name: 'Campaign: Domain login.phish-wave.net', level: 1 }).waitFor();
  for (const m of ['gwynedd', 'powys', 'conwy']) check((await page.locator(`tr[data-member="${m}"] a[href^="/alerts/"]`).count()) >= 1, `campaign links ${m}'s alert`);
  // Each member by its name (the test server names each "Tenant <id>").
  await page.locator('tr[data-member="conwy"] td').first().filter({ hasText: /^Tenant conwy$/ }).waitFor();
  check((await page.locator('ol.timeline').innerText()).includes('at Tenant powys:'), 'the timeline names the members');
  check((await page.locator('ol.timeline li').count()) >= 3, 'timeline of three alerts');
  await shot(page, 'intel-campaign');
  await axe(page, 'campaign');
  const alertHref = await page.locator('tr[data-member="powys"] a').first().getAttribute('href');
  await page.locator('tr[data-member="powys"] a').first().click();
  await page.waitForURL(`**${alertHref}`);
  await page.getByRole('heading', { level: 1 }).waitFor();
  log('campaign and its alerts');

  // Advisories: publish one to every member, advising the wave's indicator.
  await nav.getByRole('link', { name: 'Advisories' }).click();
  await page.waitForURL('**/advisories');
  await page.getByRole('heading', { name: 'Advisories', level: 1 }).waitFor();
  check((await page.locator(`tr[data-advisory-id="${powysAdvisory}"]`).innerText()).includes('0 of 1'), 'the powys advisory: 0 of 1');
  await page.locator('#adv-title-en').fill('Phishing wave against councils');
  await page.locator('#adv-title-cy').fill('Ton gwe-rwydo yn erbyn cynghorau');
  await page.locator('#adv-summary-en').fill('Block <b>login.phish-wave.net</b> at the proxy.');
  await page.locator('#adv-summary-cy').fill('Rhwystrwch <b>login.phish-wave.net</b> wrth y dirprwy.');
  await page.locator('#adv-actions-en').fill('Search mail since Monday.');
  await page.locator('#adv-actions-cy').fill('Chwiliwch y post ers dydd Llun.');
  await page.getByLabel('Find an indicator').fill('phish-wave');
  await page.getByRole('checkbox', { name: /login\.phish-wave\.net/ }).check();
  await page.getByRole('button', { name: 'Publish advisory' }).click();
  await page.waitForURL(/\/advisories\/\d+$/);
  const published = page.url().split('/').pop();
  await page.getByRole('heading', { name: 'Phishing wave against councils', level: 1 }).waitFor();
  check((await page.locator('tr[data-acked="no"]').count()) === 3, 'three members yet to acknowledge');
  await page.locator(`a[href="/intel/indicators/${wave}"]`).filter({ hasText: 'login.phish-wave.net' }).waitFor();
  await axe(page, 'advisory (provider)');
  await page.getByRole('link', { name: '← All advisories' }).click();
  const prow = page.locator(`tr[data-advisory-id="${published}"]`);
  await prow.waitFor();
  check((await prow.innerText()).includes('0 of 3'), 'the new advisory: 0 of 3');
  await shot(page, 'intel-advisories');
  await axe(page, 'advisories');
  log(`advisory ${published} published`);

  // Welsh: the advisories, the intel page and a campaign.
  await page.getByLabel('Language').selectOption('cy');
  await page.getByRole('heading', { name: 'Cynghorion', level: 1 }).waitFor();
  check((await prow.innerText()).includes('Ton gwe-rwydo yn erbyn cynghorau') && (await prow.innerText()).includes('0 o 3'), 'Welsh advisory row');
  for (const w of ['Teitl', 'Cyhoeddwyd', 'Aelodau a gydnabu']) check((await page.locator('table.advisories thead').innerText()).includes(w), `Welsh column ${w}`);
  await page.getByRole('heading', { name: 'Cyhoeddi cyngor' }).waitFor();
  await noEnglish(page, ['Advisories', 'Title', 'Published', 'Publish', 'Summary', 'Members', 'Phishing wave against councils', 'Powys only']);
  await page.getByRole('navigation', { name: 'Prif lywio' }).getByRole('link', { name: 'Cudd-wybodaeth' }).click();
  await page.getByRole('heading', { name: 'Cudd-wybodaeth am fygythiadau', level: 1 }).waitFor();
  for (const w of ['Gwerth', 'Math', 'Hyder', 'Ffynhonnell', 'Dilys tan', 'Cyflwr']) check((await page.locator('table.indicators thead').innerText()).includes(w), `Welsh column ${w}`);
  await page.getByRole('heading', { name: 'Ychwanegu dangosydd' }).waitFor();
  await page.getByRole('heading', { name: 'Helfeydd ôl-weithredol' }).waitFor();
  await noEnglish(page, ['Value', 'Type', 'Confidence', 'Valid until', 'Active', 'Revoked', 'Domain', 'Retro-hunts', 'Add an indicator', 'Import', 'Events scanned', 'Done', 'Page']);
  await shot(page, 'intel-intel-cy');
  await axe(page, 'intel (Welsh)');
  await page.goto(`${base}/campaigns/${campaign}`);
  await page.getByRole('heading', { name: 'Ymgyrch: Parth login.phish-wave.net', level: 1 }).waitFor();
  await noEnglish(page, ['Campaign', 'Members', 'Timeline', 'Status', 'Open', 'Active', 'Actions', 'First seen', 'alert']);
  log('Welsh');
  await page.getByLabel('Iaith').selectOption('en');
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByRole('heading', { name: 'Log in' }).waitFor();

  // The member viewer: the advisory to every member, not powys'.
  await login(page, env.MEMBER_USER, env.MEMBER_PASSWORD);
  check((await nav.getByRole('link', { name: 'Campaigns' }).count()) === 0, 'no Campaigns menu for a member');
  await nav.getByRole('link', { name: 'Advisories' }).click();
  const mrow = page.locator(`tr[data-advisory-id="${published}"]`);
  await mrow.waitFor();
  check((await page.locator(`tr[data-advisory-id="${powysAdvisory}"]`).count()) === 0, 'the member does not list powys\' advisory');
  check((await mrow.locator('td[data-acked="no"]').count()) === 1, 'not yet acknowledged');
  await mrow.getByRole('link').click();
  await page.getByRole('heading', { name: 'Phishing wave against councils', level: 1 }).waitFor();
  check((await page.locator('[data-testid="advisory-summary"]').innerText()) === 'Block <b>login.phish-wave.net</b> at the proxy.', 'the summary is plain text');
  check((await page.locator('main b').count()) === 0, 'no markup from the advisory');
  check((await page.locator('table.recipients').count()) === 0, 'a member sees no other member\'s acknowledgement');
  await page.locator(`a[href="/intel/indicators/${wave}"]`).filter({ hasText: 'login.phish-wave.net' }).waitFor();
  await page.getByRole('button', { name: 'Acknowledge advisory' }).click();
  await page.locator('dd[data-acked="yes"]').waitFor();
  await page.getByRole('status').filter({ hasText: 'Advisory acknowledged.' }).waitFor();
  check(await page.getByRole('button', { name: 'Acknowledge advisory' }).isDisabled(), 'acknowledged once');
  await shot(page, 'intel-advisory');
  await axe(page, 'advisory (member)');
  await page.getByRole('link', { name: '← All advisories' }).click();
  await mrow.locator('td[data-acked="yes"]').waitFor();
  log('member acknowledged the advisory');

  // Not found: powys' advisory, a campaign, the indicator shared with powys.
  await page.goto(`${base}/advisories/${powysAdvisory}`);
  await page.getByRole('heading', { name: 'Not found', level: 1 }).waitFor();
  await page.goto(`${base}/campaigns/${campaign}`);
  await page.getByRole('heading', { name: 'Not found', level: 1 }).waitFor();
  await page.goto(`${base}/campaigns`);
  await page.getByRole('heading', { name: 'Not found', level: 1 }).waitFor();
  await page.goto(`${base}/intel/indicators/${hidden}`);
  await page.getByRole('heading', { name: 'Not found', level: 1 }).waitFor();
  await axe(page, 'indicator not found');

  // The member's indicators: the wave, not powys'; no forms; its own
  // sighting only, and no revoking.
  await page.goto(`${base}/intel`);
  await rows.filter({ hasText: 'login.phish-wave.net' }).waitFor();
  check((await rows.filter({ hasText: 'powys-only.example' }).count()) === 0, 'the member does not list powys\' indicator');
  check((await page.getByRole('heading', { name: 'Add an indicator' }).count()) === 0, 'no add form for a viewer');
  check((await page.getByRole('heading', { name: 'Import intelligence' }).count()) === 0, 'no import form for a viewer');
  await rows.filter({ hasText: 'login.phish-wave.net' }).getByRole('link').click();
  await page.getByRole('heading', { name: 'login.phish-wave.net', level: 1 }).waitFor();
  await page.locator('tr[data-sighting-tenant="gwynedd"]').waitFor();
  check((await page.locator('table.sightings tbody tr').count()) === 1, 'the member sees its own sighting only');
  const mine = await page.locator('main').innerText();
  check(!mine.includes('powys') && !mine.includes('conwy'), 'no other member on the member\'s indicator page');
  check((await page.getByRole('button', { name: 'Revoke indicator' }).count()) === 0, 'no revoking for a viewer');
  await axe(page, 'indicator (member)');
  log('member: own objects only, others not found');

  finish();
} finally {
  await close();
}
