// The process pool and the plain build through the JavaScript API, in Chromium and in
// Firefox, on a cross-origin isolated page and on one served without the two headers.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { engines, openIn, serveSite } from './harness.mjs';

// Runs in the page: every scenario and check at once, the data back for asserting.
async function exercise() {
  const { load } = await import('/www/showcase/showcase.js');
  const wx = await load();
  const out = { build: wx.build, threadsAvailable: wx.threadsAvailable, whyNoThreads: wx.whyNoThreads };
  const attempt = (f) => {
    try {
      f();
      return null;
    } catch (e) {
      return e.message;
    }
  };

  // Scenario 2: blocking squares on three processes, on a cold pool (its first run on
  // the page). A worker that takes long to start on two busy cores still gets a job:
  // the pool keeps one of the queued jobs for each worker it is starting, as Python's
  // workers all take from one queue.
  out.squares = await wx.runScenario('blocking-squares-processes', { maxWorkers: 3 });
  out.squareRecords = wx.records().map((r) => ({ worker: r.worker, started: r.started, finished: r.finished, note: r.note }));
  out.squareLog = wx.logLinesByProcess();

  // Scenario 5: the CPU loop on a pool of 4 while the main loop goes on.
  wx.clearRecords();
  out.sum = await wx.runScenario('cpu-bound', { n: 20_000_000 });
  out.cpuLog = wx.logEntries().filter((l) => l.logger === 'main' || l.logger === 'cpu_task').map((l) => l.message);

  // Scenario 6: the same jobs on threads and processes.
  wx.clearRecords();
  out.comparison = await wx.runScenario('choose-executor', { gets: 3, n: 20_000_000, url: 'index.html' });
  out.comparisonLog = wx.logEntries().filter((l) => l.logger === 'main').map((l) => l.message);

  // The default executor, and threads where there are none.
  const onDefault = wx.toThread('blocks', 6);
  out.defaultResult = await onDefault;
  out.defaultWorker = onDefault.worker;
  out.threadPoolError = attempt(() => new wx.ThreadPoolExecutor({ maxWorkers: 2 }));

  // The ProcessPoolExecutor API.
  const pool = new wx.ProcessPoolExecutor({ maxWorkers: 2, maxTasksPerChild: 50 });
  out.mapped = await pool.map('blocks', [3, 1, 2], { chunksize: 2 });
  const victim = pool.submit('blocks_for', 9, 5000);
  await victim.started();
  await new Promise((r) => setTimeout(r, 100));
  out.killed = pool.killWorker(Number(victim.worker));
  out.victim = await victim.then(() => null, (e) => e.message);
  out.afterKill = await wx.gather([pool.submit('blocks', 2), pool.submit('blocks', 3)]);
  out.badOption = attempt(() => new wx.ProcessPoolExecutor({ maxTasksPerChild: 0 }));
  out.unknown = await pool.submit('nope', 1).then(() => null, (e) => e.message);
  await pool.shutdown();
  out.alive = pool.workersAlive;

  // A long map with the pool's own chunk size (here 93 items a chunk), on each kind of
  // pool the page has: fractional results, which cross to the page as JS numbers, in
  // input order both ways of reading it, and every item run once.
  const items = Array.from({ length: 6_000 }, (_, i) => i % 97);
  const sumSqrt = (n) => {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += Math.sqrt(i);
    return sum;
  };
  out.longMap = { expected: items.map(sumSqrt) };
  for (const kind of wx.threadsAvailable ? ['ProcessPoolExecutor', 'ThreadPoolExecutor'] : ['ProcessPoolExecutor']) {
    const mapper = new wx[kind]({ maxWorkers: 2 });
    const awaited = await mapper.map('sum_sqrt', items);
    const iterated = [];
    for await (const value of mapper.map('sum_sqrt', items)) iterated.push(value);
    const records = mapper.records();
    await mapper.shutdown();
    out.longMap[kind] = {
      awaited,
      iterated,
      records: records.length,
      finished: records.filter((r) => r.state === 'FINISHED' && r.started).length,
      ids: new Set(records.map((r) => r.id)).size,
    };
  }
  return out;
}

for (const browser of engines(['chromium', 'firefox', 'webkit'])) {
  for (const isolated of [true, false]) {
    describe(`${browser}, ${isolated ? 'cross-origin isolated page' : 'page without isolation headers'}`, () => {
      let site;
      let opened;
      let page;
      let out;

      before(async () => {
        site = await serveSite({ isolated });
        opened = await openIn(browser, `${site.url}/index.html`);
        page = opened.page;
        out = await page.evaluate(exercise);
      });

      after(async () => {
        await opened?.close();
        site?.close();
      });

      test('the build matches the page', () => {
        assert.equal(out.build, isolated ? 'threads' : 'plain');
        assert.equal(out.threadsAvailable, isolated);
        if (!isolated) assert.match(out.whyNoThreads, /Cross-Origin-Opener-Policy: same-origin.*Cross-Origin-Embedder-Policy: require-corp/);
      });

      test('scenario 2 on a cold pool: three process ids, the squares as a set, two waves', () => {
        assert.deepEqual([...out.squares].sort((a, b) => a - b), [0, 1, 4, 9, 16, 25]);
        const pids = new Set(out.squareRecords.map((r) => r.worker));
        assert.equal(pids.size, 3, [...pids].join());
        assert.ok(!pids.has('10000'), 'workers are not the page');
        const firstFinish = Math.min(...out.squareRecords.slice(0, 3).map((r) => r.finished));
        assert.ok(out.squareRecords.slice(3).every((r) => r.started >= firstFinish), 'jobs 3-5 wait for a free worker');
        // Process workers run the plain build: no shared memory, so blocks() spins.
        assert.equal(out.squareRecords[0].note, 'blocked 100 ms by spinning (no shared memory to sleep on)');
        assert.equal(out.squareLog[0], 'PID 10000 run_blocking_tasks: starting');
        assert.ok(out.squareLog.some((l) => /^PID 1000\d {10}blocks\(4\): running$/.test(l)), out.squareLog.join('\n'));
      });

      test('scenario 5: the main loop goes on while a process computes', () => {
        assert.deepEqual(out.cpuLog, ['Main doing other things', 'Task starting', 'Task done']);
        assert.ok(out.sum > 5.9e10 && out.sum < 6.0e10, String(out.sum));
      });

      test('scenario 6: the same work on threads and processes', () => {
        const c = out.comparison;
        assert.ok(c.io_processes_ms > 0 && c.cpu_processes_ms > 0);
        if (isolated) {
          assert.ok(c.io_threads_ms > 0 && c.cpu_threads_ms > 0);
          assert.match(out.comparisonLog[0], /^blocking GET x3: threads \d+ ms, processes \d+ ms: (threads|processes) win$/);
        } else {
          assert.equal(c.io_threads_ms, null);
          assert.match(out.comparisonLog[0], /^blocking GET x3: processes \d+ ms \(this page has no threads\)$/);
        }
      });

      test('the default executor, and thread pools only where there are threads', () => {
        assert.equal(out.defaultResult, 36);
        if (isolated) {
          assert.match(out.defaultWorker, /^asyncio_\d$/);
          assert.equal(out.threadPoolError, null);
        } else {
          assert.match(out.defaultWorker, /^100\d\d$/);
          assert.match(out.threadPoolError, /^ThreadPoolExecutor: ThreadPoolExecutor needs wasm threads, which this page lacks: .*Cross-Origin-Opener-Policy: same-origin.*Cross-Origin-Embedder-Policy: require-corp/);
        }
      });

      test('ProcessPoolExecutor: map with chunks, a killed worker, bad input', () => {
        assert.deepEqual(out.mapped, [9, 1, 4]);
        assert.equal(out.killed, true);
        assert.match(out.victim, /^\d+ died while running blocks_for\(9, 5000\): terminated by kill_worker$/);
        assert.deepEqual(out.afterKill, [4, 9]);
        assert.equal(out.badOption, 'ProcessPoolExecutor: max_tasks_per_child must be >= 1 (got maxTasksPerChild: 0)');
        assert.match(out.unknown, /^nope\(1\) failed: no job is registered as "nope"/);
        assert.equal(out.alive, 0);
      });

      test('a long map with the pool\'s own chunk size: every result, in order, each item run once', () => {
        const { expected, ...pools } = out.longMap;
        assert.deepEqual(Object.keys(pools).sort(), isolated ? ['ProcessPoolExecutor', 'ThreadPoolExecutor'] : ['ProcessPoolExecutor']);
        for (const [kind, got] of Object.entries(pools)) {
          assert.deepEqual(got.awaited, expected, `${kind}, awaited`);
          assert.deepEqual(got.iterated, expected, `${kind}, iterated`);
          assert.deepEqual([got.records, got.finished, got.ids], [12_000, 12_000, 12_000], kind);
        }
      });

      if (browser === 'chromium') {
        test('no console errors', () => assert.deepEqual(page.problems, []));
      }
    });
  }
}

// In a page: load() where the threaded build cannot run, then the scenarios on
// processes. `refuseLargeSharedMemory` makes reserving the threaded build's 1 GiB
// shared memory fail, as Safari on iOS can, while small shared memories still work.
async function fallBack({ refuseLargeSharedMemory }) {
  if (refuseLargeSharedMemory) {
    const Memory = WebAssembly.Memory;
    const refusing = function Memory_(descriptor) {
      if (descriptor?.shared && descriptor.maximum > 1) throw new RangeError('Out of memory: cannot reserve this shared memory');
      return new Memory(descriptor);
    };
    refusing.prototype = Memory.prototype;
    WebAssembly.Memory = refusing;
  }
  const { load } = await import('/www/showcase/showcase.js');
  const wx = await load();
  const out = { build: wx.build, threadsAvailable: wx.threadsAvailable, whyNoThreads: wx.whyNoThreads };
  out.squares = await wx.runScenario('blocking-squares-processes', { maxWorkers: 3 });
  out.workers = [...new Set(wx.records().map((r) => r.worker))];
  out.sum = await wx.runScenario('cpu-bound', { n: 2_000_000 });
  out.defaultWorker = await (async () => {
    const job = wx.toThread('blocks', 2);
    await job;
    return job.worker;
  })();
  return out;
}

const fallbacks = [
  ...engines(['chromium', 'firefox', 'webkit']).map((browser) => ({
    browser,
    why: 'its 1 GiB shared memory cannot be reserved',
    options: {},
    arg: { refuseLargeSharedMemory: true },
    because: /^the threaded build could not start \(RangeError: Out of memory/,
  })),
  // Linux WebKit without JSC_useSharedArrayBuffer: it makes shared memory but cannot
  // post it to a worker.
  ...engines(['webkit']).map((browser) => ({
    browser,
    why: 'WebKit cannot post shared memory (no SharedArrayBuffer switch)',
    options: { sharedArrayBuffer: false },
    arg: { refuseLargeSharedMemory: false },
    because: /cannot post shared memory to a worker \(DataCloneError/,
  })),
];

for (const { browser, why, options, arg, because } of fallbacks) {
  test(`${browser}, an isolated page where ${why}: the plain build runs, on processes`, async () => {
    const site = await serveSite({ isolated: true });
    // A page that loads nothing itself: the demo page's own load() could win the race
    // and choose its build before the refusal is in place.
    const opened = await openIn(browser, `${site.url}/tests/e2e/blank.html`, options);
    try {
      const out = await opened.page.evaluate(fallBack, arg);
      assert.equal(out.build, 'plain');
      assert.equal(out.threadsAvailable, false);
      assert.match(out.whyNoThreads, because);
      assert.deepEqual([...out.squares].sort((a, b) => a - b), [0, 1, 4, 9, 16, 25]);
      assert.equal(out.workers.length, 3, `three processes: ${out.workers}`);
      assert.ok(out.sum > 1.8e9 && out.sum < 1.9e9, String(out.sum));
      assert.match(out.defaultWorker, /^100\d\d$/, 'the default executor runs on processes');
      if (browser === 'chromium') assert.deepEqual(opened.page.problems, []);
    } finally {
      await opened.close();
      site.close();
    }
  });
}
