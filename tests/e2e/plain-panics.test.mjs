// The plain build is built for size (scripts/build.sh), panics included: they abort. A
// panicking job on a process worker still fails alone, with its message: the worker's
// panic hook reports the panic to the pool, then the worker ends and the pool starts a
// replacement. Jobs on other workers, and those queued, run as before, in Chromium and
// in Firefox. (tests/web.rs checks the threaded build, whose panics unwind.)
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { engines, openIn, serveSite } from './harness.mjs';

// Runs in the page.
async function panicOnProcess() {
  const { load } = await import('/www/showcase/showcase.js');
  const wx = await load();
  const pool = new wx.ProcessPoolExecutor({ maxWorkers: 2 });
  // Both workers started.
  await Promise.all([pool.submit('blocks_for', 0, 200), pool.submit('blocks_for', 1, 200)]);
  const before = pool.workers;
  // One job runs on each worker; one more waits in the queue.
  const alongside = pool.submit('blocks_for', 2, 500);
  const panicking = pool.submit('panics', 'boom');
  const queued = pool.submit('blocks_for', 3, 10);
  const error = await panicking.then(() => null, (e) => e.message);
  const next = [4, 5, 6, 7].map((n) => pool.submit('blocks_for', n, 100));
  const out = {
    build: wx.build,
    before,
    panicWorker: panicking.worker,
    error,
    alongside: await alongside,
    alongsideWorker: alongside.worker,
    queued: await queued,
    next: await Promise.all(next),
    nextWorkers: next.map((job) => job.worker),
    after: pool.workers,
    alive: pool.workersAlive,
    live: wx.liveWorkers(),
  };
  await pool.shutdown();
  // A panicking initializer: no worker can start, and the job says why.
  const broken = new wx.ProcessPoolExecutor({ maxWorkers: 1, initializer: 'panics', initargs: ['no database'] });
  out.initializerError = await broken.submit('noop').then(() => null, (e) => e.message);
  await broken.shutdown();
  return out;
}

for (const browser of engines(['chromium', 'firefox', 'webkit'])) {
  describe(`${browser}, plain build: a panicking job`, () => {
    let site;
    let opened;
    let page;
    let out;

    before(async () => {
      site = await serveSite({ isolated: false });
      opened = await openIn(browser, `${site.url}/index.html`);
      page = opened.page;
      out = await page.evaluate(panicOnProcess);
    });

    after(async () => {
      await opened?.close();
      site?.close();
    });

    test('fails alone with its message; the job beside it and the queued one run', () => {
      assert.equal(out.build, 'plain');
      assert.match(out.error, /^panics\("boom"\) panicked on \d+: boom$/);
      assert.ok(out.before.includes(out.panicWorker), `${out.panicWorker} is one of ${out.before}`);
      assert.equal(out.alongside, 4);
      assert.notEqual(out.alongsideWorker, out.panicWorker);
      assert.equal(out.queued, 9);
    });

    test('an initializer that panics fails the jobs with its message', () => {
      assert.match(out.initializerError, /process pool is broken, not usable anymore: .*its initializer panics\("no database"\) failed: no database$/);
    });

    test('its worker ends; a replacement brings the pool back to full size', () => {
      assert.deepEqual(out.next, [16, 25, 36, 49]);
      assert.ok(!out.nextWorkers.includes(out.panicWorker), `no job ran on ${out.panicWorker} after: ${out.nextWorkers}`);
      assert.ok(!out.after.includes(out.panicWorker), `${out.panicWorker} is gone: ${out.after}`);
      assert.ok(!out.live.includes(out.panicWorker), `${out.panicWorker}'s Web Worker ended: ${out.live}`);
      assert.equal(out.alive, 2);
      assert.equal(out.after.length, 2);
      assert.equal(out.after.filter((pid) => !out.before.includes(pid)).length, 1, `one new worker: ${out.before} -> ${out.after}`);
    });
  });
}
