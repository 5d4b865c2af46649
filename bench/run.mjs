// `npm run bench`: measures web-executors in headless Chromium on the served site and
// prints a table; the figures are also written to bench/results.json.
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import { launchChromium, openPage, serveSite } from '../tests/e2e/harness.mjs';

const N = 50_000_000;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const spread = (xs) => Math.max(...xs) - Math.min(...xs);

const site = await serveSite();
const browser = await launchChromium();
try {
  const page = await openPage(browser, `${site.url}/index.html`);
  const figures = await page.evaluate(
    async ({ N, ROUNDS }) => {
      const { load } = await import('/www/web-executors.js');
      const wx = await load();
      const time = async (f) => {
        const t0 = performance.now();
        await f();
        return performance.now() - t0;
      };
      // Workers are started (and warm) before timing: the loop is what is measured.
      const one = new wx.ThreadPoolExecutor({ maxWorkers: 1 });
      const two = new wx.ThreadPoolExecutor({ maxWorkers: 2 });
      await Promise.all([one.submit('noop'), two.submit('noop'), two.submit('noop'), wx.toThread('noop')]);
      const runs = { oneWorker: [], twoWorkers: [], rayonTwo: [] };
      for (let i = 0; i < ROUNDS; i++) {
        runs.oneWorker.push(await time(() => one.submit('sum_sqrt', N)));
        runs.twoWorkers.push(
          await time(() => wx.gather([two.submit('sum_sqrt_range', 0, N / 2), two.submit('sum_sqrt_range', N / 2, N)])),
        );
        runs.rayonTwo.push(await time(() => wx.toThread('par_sum_sqrt', N)));
      }
      await Promise.all([one.shutdown(), two.shutdown()]);
      return runs;
    },
    { N, ROUNDS },
  );
  const version = browser.version();
  const rows = [
    ['CPU loop, 1 worker (one job)', figures.oneWorker],
    ['CPU loop, 2 workers (two jobs of half)', figures.twoWorkers],
    ['CPU loop, rayon on the default pool of 2', figures.rayonTwo],
  ];
  console.log(`\nweb-executors benchmark — sum of sqrt(i) for i < ${N.toLocaleString('en')}`);
  console.log(`Chromium ${version}, ${os.cpus().length} cores, ${ROUNDS} rounds each\n`);
  console.log('| measurement | median ms | spread ms | speed-up vs 1 worker |');
  console.log('|---|---:|---:|---:|');
  const base = median(figures.oneWorker);
  for (const [name, xs] of rows) {
    console.log(`| ${name} | ${median(xs).toFixed(1)} | ${spread(xs).toFixed(1)} | ${(base / median(xs)).toFixed(2)}× |`);
  }
  const results = {
    date: new Date().toISOString(),
    machine: { cores: os.cpus().length, browser: `Chromium ${version}` },
    cpuLoop: Object.fromEntries(rows.map(([name, xs]) => [name, { medianMs: median(xs), spreadMs: spread(xs), runs: xs }])),
  };
  await writeFile(new URL('./results.json', import.meta.url), JSON.stringify(results, null, 2) + '\n');
  console.log('\nwritten to bench/results.json');
} finally {
  await browser.close();
  site.close();
}
