// Shutdown and the page's lifecycle: a pool shut down without waiting, a pool freed
// (dropped) mid-run and a page navigated away mid-run leave no Web Worker running and
// no job unsettled; bad timeouts and an empty wait say what is wrong. Workers are
// counted from outside the page, as the browser sees them (Playwright's page.workers()).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bothSites, chromiumTest, engines, openPage, openWebDriverPage, queueAtOnce } from './harness.mjs';

const env = bothSites();

/** A page with `wx` loaded, and how many Web Workers it has before any pool. */
async function ready(site) {
  const page = await openPage(env.chromium, `${site.url}/tests/e2e/blank-widget.html`);
  await page.evaluate(async () => {
    const { load } = await import('/www/showcase/showcase.js');
    window.wx = await load();
  });
  page.baseline = page.workers().length;
  return page;
}

/** Waits until the page's Web Workers are back to `count` (or 5 s pass). */
async function workersBackTo(page, count) {
  for (let i = 0; i < 100 && page.workers().length > count; i++) await new Promise((r) => setTimeout(r, 50));
  return page.workers().length;
}

for (const kind of ['ThreadPoolExecutor', 'ProcessPoolExecutor']) {
  const site = () => env.siteFor(kind);

  chromiumTest(`${kind}: shutdown without waiting mid-run settles every job, then every worker goes`, async () => {
    const page = await ready(site());
    const out = await page.evaluate(async (kind) => {
      const run = async (cancelFutures) => {
        const pool = new wx[kind]({ maxWorkers: 3 });
        const jobs = Array.from({ length: 9 }, (_, i) => pool.submit('blocks_for', i, 100));
        await Promise.all(jobs.slice(0, 3).map((j) => j.started()));
        await pool.shutdown({ wait: false, cancelFutures });
        const outcomes = await Promise.all(jobs.map((j) => j.then((v) => `ok ${v}`, (e) => e.name)));
        return outcomes;
      };
      return { keep: await run(false), cancel: await run(true) };
    }, kind);
    assert.deepEqual(out.keep, [0, 1, 4, 9, 16, 25, 36, 49, 64].map((v) => `ok ${v}`), 'queued jobs still run');
    const cancelled = out.cancel.filter((o) => o === 'CancelledError').length;
    // Threads cancel all six queued jobs; processes, like Python's, may have sent some
    // ahead to a worker, and those run.
    if (kind === 'ThreadPoolExecutor') assert.equal(cancelled, 6, out.cancel.join());
    else assert.ok(cancelled >= 1 && cancelled <= 6, out.cancel.join());
    assert.deepEqual(out.cancel.slice(0, 3), ['ok 0', 'ok 1', 'ok 4'], 'the running ones finish');
    assert.ok(out.cancel.every((o, i) => o === 'CancelledError' || o === `ok ${i * i}`), out.cancel.join());
    assert.equal(await workersBackTo(page, page.baseline), page.baseline);
    assert.deepEqual(page.problems, []);
    await page.close();
  });

  chromiumTest(`${kind}: a pool freed mid-run (dropped) lets its jobs finish and its workers go`, async () => {
    const page = await ready(site());
    const outcomes = await page.evaluate(async (kind) => {
      const pool = new wx[kind]({ maxWorkers: 2 });
      const jobs = Array.from({ length: 4 }, (_, i) => pool.submit('blocks_for', i + 1, 100));
      await jobs[0].started();
      pool.free(); // what the garbage collector does with an unreachable pool
      return Promise.all(jobs.map((j) => j.then((v) => v, (e) => e.message)));
    }, kind);
    assert.deepEqual(outcomes, [1, 4, 9, 16]);
    assert.equal(await workersBackTo(page, page.baseline), page.baseline);
    await page.close();
  });
}

chromiumTest('navigating away mid-run ends every worker of the page', async () => {
  for (const site of [env.isolated, env.plain]) {
    const page = await ready(site);
    await page.evaluate(() => {
      const threads = wx.threadsAvailable ? new wx.ThreadPoolExecutor({ maxWorkers: 3 }) : null;
      const processes = new wx.ProcessPoolExecutor({ maxWorkers: 3 });
      for (let i = 0; i < 6; i++) {
        threads?.submit('blocks_for', i, 2000);
        processes.submit('blocks_for', i, 2000);
      }
      window.keep = [threads, processes];
    });
    for (let i = 0; i < 100 && page.workers().length < page.baseline + 3; i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(page.workers().length >= page.baseline + 3, 'the pools had started workers');
    await page.goto(`${site.url}/tests/e2e/blank-widget.html`);
    assert.equal(await workersBackTo(page, 0), 0);
    await page.close();
  }
});

chromiumTest('bad timeouts and an empty wait say what is wrong, and the pool goes on', async () => {
  const page = await ready(env.plain);
  const out = await page.evaluate(async () => {
    const pool = new wx.ProcessPoolExecutor({ maxWorkers: 1 });
    const job = pool.submit('blocks_for', 2, 50);
    const attempt = async (f) => {
      try {
        await f();
        return 'no error';
      } catch (e) {
        return e.message;
      }
    };
    const zero = await wx.wait([job], { timeout: 0 });
    const result = {
      zero: [zero.done.length, zero.notDone.length],
      negative: await attempt(() => wx.wait([job], { timeout: -1 })),
      nan: await attempt(() => wx.wait([job], { timeout: NaN })),
      text: await attempt(() => wx.asCompleted([job], { timeout: 'soon' })),
      empty: await attempt(() => wx.wait([])),
      timeoutOption: await attempt(() => new wx.ProcessPoolExecutor({ jobTimeout: -5 })),
      value: await job,
    };
    await pool.shutdown();
    return result;
  });
  assert.deepEqual(out.zero, [0, 1], 'a timeout of 0 looks once and returns');
  assert.match(out.negative, /timeout must be a number of seconds, 0 or more \(got -1\)/);
  assert.match(out.nan, /timeout must be a number of seconds, 0 or more \(got NaN\)/);
  assert.match(out.text, /timeout must be a number of seconds, 0 or more \(got "soon"\)/);
  assert.match(out.empty, /Set of Tasks\/Futures is empty/);
  assert.match(out.timeoutOption, /jobTimeout must be a number of seconds, 0 or more \(got -5\)|jobTimeout/);
  assert.equal(out.value, 4);
  await page.close();
});

// What ten pools of three leave in the wasm heap once shut down and freed, read
// without forcing a garbage collection; in each pool one job traps, which ends its
// worker. Each bound was a bug:
// - threads: a worker that exited kept its 2 MB stack and thread-locals (found by the
//   chaos test), and so did a worker ended by a trap; then its name (a Web Worker
//   thread runs no thread-local destructors; found reading the heap's blocks by size).
//   What is left is wasm-bindgen's table of the thread's JS values, 512 bytes once it
//   touched one, and what the frames a trap cut short held (the pool and the job they
//   ran): about 700 bytes, then 900-1,140 once pools had a spinner's counter and jobs
//   their start's waiters (read from runs, not block by block; docs/known-limits.md);
// - processes: each worker's listener held its pool, records and all, until the
//   browser next collected garbage (seen in Firefox's chaos run, which cannot force one).
for (const kind of ['ThreadPoolExecutor', 'ProcessPoolExecutor']) {
  chromiumTest(`${kind}: pools that shut down, one worker of each ended by a trap, give their memory back at once`, async () => {
    const page = await ready(env.siteFor(kind));
    const out = await page.evaluate(async (kind) => {
      const once = async () => {
        const pool = new wx[kind]({ maxWorkers: 3 });
        const jobs = [pool.submit('traps'), pool.submit('blocks_for', 2, 20), pool.submit('blocks_for', 3, 20)];
        const settled = await Promise.allSettled(jobs);
        if (settled.map((s) => s.status).join() !== 'rejected,fulfilled,fulfilled') throw new Error(`unexpected outcomes: ${JSON.stringify(settled)}`);
        await pool.shutdown();
        const workers = new Set(jobs.map((j) => j.worker)).size;
        jobs.forEach((j) => j.free());
        pool.free();
        wx.clearRecords();
        await new Promise((r) => setTimeout(r, 20));
        return workers;
      };
      await once();
      const before = wx.heapInUse();
      let workers = 0;
      for (let i = 0; i < 10; i++) workers += await once();
      return { grew: wx.heapInUse() - before, workers };
    }, kind);
    const allowed = (kind === 'ThreadPoolExecutor' ? out.workers * 512 + 10 * 1280 : 0) + 256;
    assert.ok(out.grew <= allowed, `${out.workers} workers of ten pools left ${out.grew} bytes behind (allowed ${allowed})`);
    await page.close();
  });
}

for (const kind of ['ThreadPoolExecutor', 'ProcessPoolExecutor']) {
  chromiumTest(`${kind}: 100,000 jobs queued at once all complete`, async () => {
    const page = await ready(env.siteFor(kind));
    const out = await page.evaluate(queueAtOnce, { kind, jobs: 100_000 });
    assert.equal(out.fulfilled, 100_000);
    console.log(`${kind}: 100,000 jobs, ${out.bytesPerJob.toFixed(0)} heap bytes per queued job`);
    assert.deepEqual(page.problems, []);
    await page.close();
  });
}

/** In the page, self-contained (Firefox gets it as text): a pool shut down without
 * waiting mid-run, and a pool freed mid-run; then how many of the library's Web
 * Workers are still alive, by its own count (`liveWorkers`). */
async function midRun(kind) {
  const { load } = await import('/www/showcase/showcase.js');
  const wx = await load();
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const before = wx.liveWorkers().length;
  const shut = new wx[kind]({ maxWorkers: 3 });
  const jobs = Array.from({ length: 6 }, (_, i) => shut.submit('blocks_for', i, 100));
  await jobs[0].started();
  await shut.shutdown({ wait: false, cancelFutures: true });
  const freed = new wx[kind]({ maxWorkers: 2 });
  const more = Array.from({ length: 4 }, (_, i) => freed.submit('blocks_for', i + 1, 100));
  await more[0].started();
  freed.free();
  const outcomes = await Promise.all([...jobs, ...more].map((j) => j.then(() => 'ok', (e) => e.name)));
  for (let i = 0; i < 100 && wx.liveWorkers().length > before; i++) await sleep(50);
  return { outcomes, left: wx.liveWorkers().length - before };
}

for (const browser of engines(['firefox', 'webkit'])) for (const kind of ['ThreadPoolExecutor', 'ProcessPoolExecutor']) {
  test(`${browser}, ${kind}: pools shut down or freed mid-run settle every job and end their workers`, async () => {
    const page = await openWebDriverPage(browser, `${env.siteFor(kind).url}/tests/e2e/blank-widget.html`);
    try {
      const out = await page.evaluate(midRun, kind);
      assert.equal(out.outcomes.length, 10);
      assert.ok(out.outcomes.every((o) => o === 'ok' || o === 'CancelledError'), out.outcomes.join());
      assert.deepEqual(out.outcomes.slice(6), ['ok', 'ok', 'ok', 'ok'], 'a freed pool finishes its jobs');
      assert.equal(out.left, 0);
    } finally {
      await page.close();
    }
  });
}
