// Jobs from a JavaScript module of the test's own (tests/e2e/modules/own-jobs.mjs) on
// a ProcessPoolExecutor: `new ProcessPoolExecutor({ module })`, with the semantics of
// registered jobs (wait, asCompleted, cancel, job timeouts, killed and replaced
// workers, records), and bad input that fails its job, not the pool. Each engine, on a
// page without isolation (plain build) and on an isolated one.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { engines, openIn, serveSite } from './harness.mjs';

async function exercise() {
  const { load } = await import('/www/showcase/showcase.js');
  const wx = await load();
  const outcome = async (job) => {
    try {
      return { value: await job };
    } catch (e) {
      return { name: e.name, message: e.message };
    }
  };
  const out = { build: wx.build };
  const module = '/tests/e2e/modules/own-jobs.mjs';
  const pool = new wx.ProcessPoolExecutor({ maxWorkers: 2, module });

  const sum = pool.submit('add', 2, 3);
  out.sum = await sum;
  out.sumWorker = sum.worker;
  out.sumLabel = sum.record().label;
  out.mapped = await pool.map('echo', [1, 'two', { three: [3] }, null], { chunksize: 2 });

  // wait and asCompleted: the quick job completes first.
  const slow = pool.submit('spin', 400);
  const quick = pool.submit('spin', 10);
  const { done, notDone } = await wx.wait([slow, quick], { returnWhen: 'FIRST_COMPLETED' });
  out.firstDone = done.map((j) => j.label);
  out.stillGoing = notDone.map((j) => j.label);
  out.completedOrder = (await wx.asCompleted([slow, quick])).map((j) => j.label);
  out.slowRanIn = (await slow).worker;

  // cancel: with both workers busy, a queued job can be cancelled and rejects.
  const busy = [pool.submit('spin', 300), pool.submit('spin', 300)];
  await Promise.all(busy.map((j) => j.started()));
  const queued = pool.submit('add', 1, 1);
  out.cancelled = queued.cancel();
  out.cancelledOutcome = await outcome(queued);
  await Promise.all(busy);

  // Bad input fails the job, with the job and the cause; the pool goes on.
  out.unknown = await outcome(pool.submit('nope', 1));
  out.threw = await outcome(pool.submit('throws', 'out of range'));
  out.uncloneable = await outcome(pool.submit('givesAFunction'));
  out.async = await outcome(pool.submit('isAsync'));
  out.after = await pool.submit('add', 20, 22);

  // A killed worker fails its job; its replacement runs the next.
  const victim = pool.submit('spin', 5000);
  await victim.started();
  out.killed = pool.killWorker(Number(victim.worker));
  out.victim = await outcome(victim);
  out.afterKill = await pool.submit('add', 1, 2);
  out.records = pool.records().map((r) => ({ label: r.label, worker: r.worker, outcome: r.outcome }));
  await pool.shutdown();

  // A job timeout terminates the worker; the next job runs on a new one.
  const timed = new wx.ProcessPoolExecutor({ maxWorkers: 1, module, jobTimeout: 0.2 });
  out.timedOut = await outcome(timed.submit('spin', 3000));
  out.afterTimeout = await timed.submit('add', 5, 5);
  out.timedRecords = timed.records().map((r) => r.outcome);
  await timed.shutdown();

  // A module that fails to load fails every job, saying why; the pool itself works.
  const broken = new wx.ProcessPoolExecutor({ maxWorkers: 1, module: '/tests/e2e/modules/fails-to-load.mjs' });
  out.broken = await outcome(broken.submit('add', 1, 1));
  out.brokenAgain = await outcome(broken.submit('add', 1, 1));
  await broken.shutdown();
  return out;
}

for (const isolated of [false, true]) {
  for (const browser of engines(['chromium', 'firefox', 'webkit'])) {
    test(`${browser}, jobs from a JavaScript module on processes (${isolated ? 'isolated' : 'plain'} page)`, async () => {
      const site = await serveSite({ isolated });
      const opened = await openIn(browser, `${site.url}/tests/e2e/blank.html`);
      try {
        const out = await opened.page.evaluate(exercise);
        assert.equal(out.sum, 5);
        assert.match(out.sumWorker, /^100\d\d$/, 'a process worker ran it');
        assert.equal(out.sumLabel, 'add(2, 3)');
        assert.deepEqual(out.mapped, [1, 'two', { three: [3] }, null]);
        assert.deepEqual(out.firstDone, ['spin(10)']);
        assert.deepEqual(out.stillGoing, ['spin(400)']);
        assert.deepEqual(out.completedOrder, ['spin(10)', 'spin(400)']);
        assert.match(out.slowRanIn, /^\d+$/, 'the module sees its worker (self.name is the pid)');
        assert.equal(out.cancelled, true);
        assert.equal(out.cancelledOutcome.name, 'CancelledError');
        assert.match(out.unknown.message, /^nope\(1\) failed: the module \S+own-jobs\.mjs exports no function "nope"; it exports: add, echo, givesAFunction, isAsync, spin, throws$/);
        assert.equal(out.unknown.name, 'JobError');
        assert.equal(out.threw.message, 'throws("out of range") failed: it threw RangeError: out of range');
        assert.match(out.uncloneable.message, /^givesAFunction\(\) failed: its result cannot be cloned to the page \(DataCloneError/);
        assert.match(out.async.message, /^isAsync\(\) failed: it returned a Promise/);
        assert.equal(out.after, 42);
        assert.equal(out.killed, true);
        assert.equal(out.victim.name, 'BrokenProcessPool');
        assert.match(out.victim.message, /^\d+ died while running spin\(5000\): terminated by kill_worker/);
        assert.equal(out.afterKill, 3);
        const outcomes = Object.fromEntries(out.records.map((r) => [r.label, r.outcome]));
        assert.equal(outcomes['add(2, 3)'], 'ok');
        assert.equal(outcomes['throws("out of range")'], 'failed');
        assert.equal(outcomes['spin(5000)'], 'workerDied');
        assert.equal(outcomes['add(1, 1)'], 'cancelled');
        assert.ok(out.records.every((r) => r.outcome === 'cancelled' || /^100\d\d$/.test(r.worker)), JSON.stringify(out.records));
        assert.equal(out.timedOut.name, 'TimeoutError');
        assert.match(out.timedOut.message, /^spin\(3000\) timed out after 200 ms on \d+, which was terminated$/);
        assert.equal(out.afterTimeout, 10);
        assert.deepEqual(out.timedRecords, ['timedOut', 'ok']);
        for (const broken of [out.broken, out.brokenAgain]) {
          assert.match(broken.message, /^add\(1, 1\) failed: the module \S+fails-to-load\.mjs could not be imported: Error: this module fails as it loads$/);
        }
      } finally {
        await opened.close();
        site.close();
      }
    });
  }
}
