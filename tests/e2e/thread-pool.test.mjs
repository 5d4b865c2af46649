// The JavaScript API of the threaded build, served as a user would serve it.
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { chromiumTest, engines, launchChromium, openPage, serveSite } from './harness.mjs';

let site;
let browser;
let page;

before(async () => {
  if (!engines(['chromium']).length) return; // Playwright drives Chromium only
  site = await serveSite();
  browser = await launchChromium();
  page = await openPage(browser, `${site.url}/index.html`);
  await page.evaluate(async () => {
    const { load } = await import('/www/showcase/showcase.js');
    window.wx = await load();
  });
});

after(async () => {
  await browser?.close();
  site?.close();
});

chromiumTest('submit resolves to the result and names its worker', async () => {
  const job = await page.evaluate(async () => {
    const executor = new wx.ThreadPoolExecutor({ maxWorkers: 3 });
    const job = executor.submit('blocks', 2);
    const value = await job;
    const out = { value, worker: job.worker, done: job.done(), state: job.state, label: job.label };
    out.records = executor.records().map((r) => [r.label, r.state, r.result]);
    await executor.shutdown();
    out.alive = executor.workersAlive;
    return out;
  });
  assert.equal(job.value, 4);
  assert.match(job.worker, /^ThreadPoolExecutor-\d+_0$/);
  assert.equal(job.done, true);
  assert.equal(job.state, 'FINISHED');
  assert.equal(job.label, 'blocks(2)');
  assert.deepEqual(job.records, [['blocks(2)', 'FINISHED', '4']]);
  assert.equal(job.alive, 0);
});

chromiumTest('bad options and late submits throw with the rule in the message', async () => {
  const errors = await page.evaluate(() => {
    const attempt = (f) => {
      try {
        f();
        return null;
      } catch (e) {
        return e.message;
      }
    };
    const executor = new wx.ThreadPoolExecutor({ maxWorkers: 1 });
    executor.shutdown({ wait: false });
    return {
      zero: attempt(() => new wx.ThreadPoolExecutor({ maxWorkers: 0 })),
      text: attempt(() => new wx.ThreadPoolExecutor({ maxWorkers: 'three' })),
      typo: attempt(() => new wx.ThreadPoolExecutor({ maxWorker: 3 })),
      negative: attempt(() => new wx.ThreadPoolExecutor({ maxWorkers: -2 })),
      huge: attempt(() => new wx.ThreadPoolExecutor({ maxWorkers: 1000 })),
      nan: attempt(() => new wx.ThreadPoolExecutor({ maxWorkers: NaN })),
      late: attempt(() => executor.submit('blocks', 1)),
    };
  });
  assert.equal(errors.zero, 'ThreadPoolExecutor: max_workers must be greater than 0 (got maxWorkers: 0)');
  assert.equal(errors.text, 'ThreadPoolExecutor: maxWorkers must be a whole number greater than 0 (got "three")');
  assert.equal(errors.typo, 'ThreadPoolExecutor: unknown option "maxWorker"; the options are maxWorkers, threadNamePrefix, initializer, initargs');
  assert.equal(errors.negative, 'ThreadPoolExecutor: max_workers must be greater than 0 (got maxWorkers: -2)');
  assert.match(errors.huge, /max_workers must be at most 256 \(got 1000\): each worker is a Web Worker$/);
  assert.equal(errors.nan, 'ThreadPoolExecutor: maxWorkers must be a whole number greater than 0 (got NaN)');
  assert.equal(errors.late, 'cannot schedule new futures after shutdown');
});

chromiumTest('blocks refuses an n whose square overflows, and the pool goes on', async () => {
  const outcome = await page.evaluate(async () => {
    const executor = new wx.ThreadPoolExecutor({ maxWorkers: 1 });
    const error = await executor.submit('blocks', 2 ** 32).then(() => null, (e) => e.message);
    const after = await executor.submit('blocks_for', 3, 0);
    await executor.shutdown();
    return { error, after };
  });
  assert.match(outcome.error, /blocks\(4294967296\): n² does not fit in 64 bits; n must be at most 4294967295/);
  assert.equal(outcome.after, 9);
});

chromiumTest('wait, asCompleted, gather and map from JavaScript', async () => {
  const out = await page.evaluate(async () => {
    const executor = new wx.ThreadPoolExecutor({ maxWorkers: 3 });
    // All three threads started first: the orderings below are about job lengths,
    // not about how long a new Web Worker takes to start.
    await Promise.all([1, 2, 3].map((n) => executor.submit('blocks_for', n, 50)));
    const slow = executor.submit('blocks_for', 3, 300);
    const fast = executor.submit('blocks_for', 2, 20);
    const first = await wx.wait([slow, fast], { returnWhen: 'FIRST_COMPLETED' });
    const timedOut = await wx.wait([slow], { timeout: 0.01 });
    const order = await wx.asCompleted([
      executor.submit('blocks_for', 1, 150),
      executor.submit('blocks_for', 2, 10),
      executor.submit('blocks_for', 3, 80),
    ]);
    const gathered = await wx.gather([executor.submit('blocks', 3), executor.submit('blocks', 1)]);
    const withErrors = await wx.gather([executor.submit('blocks', 2), executor.submit('nope')], {
      returnExceptions: true,
    });
    const mapped = await executor.map('blocks', [3, 1, 2]);
    await slow;
    await executor.shutdown();
    return {
      first: first.done.map((j) => j.label),
      notDone: first.notDone.map((j) => j.label),
      timedOut: [timedOut.done.length, timedOut.notDone.length],
      order: order.map((j) => j.label),
      gathered,
      withErrors: [withErrors[0], withErrors[1] instanceof Error, withErrors[1].message],
      mapped,
    };
  });
  assert.deepEqual(out.first, ['blocks_for(2, 20)']);
  assert.deepEqual(out.notDone, ['blocks_for(3, 300)']);
  assert.deepEqual(out.timedOut, [0, 1]);
  assert.deepEqual(out.order, ['blocks_for(2, 10)', 'blocks_for(3, 80)', 'blocks_for(1, 150)']);
  assert.deepEqual(out.gathered, [9, 1]);
  assert.equal(out.withErrors[0], 4);
  assert.equal(out.withErrors[1], true);
  assert.match(out.withErrors[2], /^nope\(\) failed: no job is registered as "nope"; registered jobs: /);
  assert.deepEqual(out.mapped, [9, 1, 4]);
});

chromiumTest('cancel works only while a job waits, and a cancelled job rejects', async () => {
  const out = await page.evaluate(async () => {
    const executor = new wx.ThreadPoolExecutor({ maxWorkers: 1 });
    const running = executor.submit('blocks_for', 1, 200);
    const queued = executor.submit('blocks', 5);
    await running.started();
    const refused = running.cancel();
    const accepted = queued.cancel();
    const rejection = await queued.then(
      () => null,
      (e) => [e.name, e.message],
    );
    await executor.shutdown();
    return { refused, accepted, rejection, cancelled: queued.cancelled(), result: await running };
  });
  assert.equal(out.refused, false);
  assert.equal(out.accepted, true);
  assert.deepEqual(out.rejection, ['CancelledError', 'cancelled']);
  assert.equal(out.cancelled, true);
  assert.equal(out.result, 1);
});

chromiumTest('runInExecutor(null) and toThread use the default executor', async () => {
  const out = await page.evaluate(async () => {
    const a = wx.runInExecutor(null, 'blocks', 4);
    const b = wx.toThread('blocks', 5);
    return [await a, a.worker, await b, b.worker];
  });
  assert.equal(out[0], 16);
  assert.match(out[1], /^asyncio_\d$/);
  assert.equal(out[2], 25);
  assert.match(out[3], /^asyncio_\d$/);
});

chromiumTest('the page stays free of console errors', () => {
  assert.deepEqual(page.problems, []);
});

// Regression: in Chromium, rounds of 10,000 jobs on a warm pool used to stall the page
// within a few rounds (a worker hung in the engine, holding the pool's lock, after
// touching freshly grown wasm memory). Five rounds on a fresh page, each fully settled.
chromiumTest('rounds of 10,000 jobs on a warm pool all settle', async () => {
  const fresh = await openPage(browser, `${site.url}/index.html`);
  const rounds = await fresh.evaluate(async () => {
    const { load } = await import('/www/showcase/showcase.js');
    const wx = await load();
    const executor = new wx.ThreadPoolExecutor({ maxWorkers: 2 });
    await wx.gather([executor.submit('noop'), executor.submit('noop')]);
    const settled = [];
    for (let round = 0; round < 5; round++) {
      wx.clearRecords();
      const jobs = Array.from({ length: 10_000 }, () => executor.submit('noop'));
      const values = await wx.gather(jobs);
      settled.push(values.length === jobs.length && jobs.filter((j) => j.state === 'FINISHED').length);
    }
    await executor.shutdown();
    return settled;
  });
  assert.deepEqual(rounds, [10_000, 10_000, 10_000, 10_000, 10_000]);
  assert.deepEqual(fresh.problems, []);
  await fresh.close();
});
