// The console's alert-queue benchmark (bench/console_benchmark_test.go):
// a provider analyst logs in, then navigates to the queue RUNS times; each
// time, the first alert row's appearance is timed from the navigation's
// start (the page's own clock, performance.now()), with the server's time
// for the alerts request (time to first byte: its response start minus its
// request start; the server writes the answer once it is whole) and the
// transfer after it (response end minus response start). The
// last line printed is the JSON result, with the gzipped size of the
// JavaScript the console's first load fetches (from web/dist).
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { base, browser, login } from './lib.mjs';

const runs = Number(process.env.RUNS ?? '3');
const { ctx, close } = await browser();
const result = { RenderMS: [], ServerMS: [], TransferMS: [], JSGzipBytes: 0, Rows: 0 };
try {
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  await login(page, process.env.CONSOLE_USER, process.env.CONSOLE_PASSWORD);
  for (let i = 0; i < runs; i++) {
    await page.goto('about:blank');
    await page.goto(`${base}/alerts`, { waitUntil: 'commit' });
    await page.waitForFunction(() => document.querySelector('table.queue tbody tr') !== null, null, { polling: 'raf', timeout: 60000 });
    const m = await page.evaluate(() => {
      const at = performance.now();
      const req = performance.getEntriesByType('resource').find((e) => e.name.includes('/api/v1/alerts?'));
      return { at, server: req ? req.responseStart - req.requestStart : -1, transfer: req ? req.responseEnd - req.responseStart : -1, rows: document.querySelectorAll('table.queue tbody tr').length };
    });
    result.RenderMS.push(m.at);
    result.ServerMS.push(m.server);
    result.TransferMS.push(m.transfer);
    result.Rows = m.rows;
  }
  const html = readFileSync('dist/index.html', 'utf8');
  for (const [, src] of html.matchAll(/<script[^>]+src="\/([^"]+)"/g)) result.JSGzipBytes += gzipSync(readFileSync(`dist/${src}`), { level: 9 }).length;
} finally {
  await close();
}
process.stdout.write(`${JSON.stringify(result)}\n`);
