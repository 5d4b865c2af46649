// Hardening: what an adversary (or a typo) can hand the library, the page and its links.
// Each case is a finding of the hardening review, run in every engine on both pools:
// values of the wrong type where a string goes (they used to trap the wasm), timeouts
// too large for the platform's timers, arguments too large to copy, objects that only
// look like jobs, page links that would start huge runs or fetch from other origins.
// After each page's attacks, the pools still run jobs.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { engines, inPage, openIn, serveSite } from './harness.mjs';

/** In the page: every attack on one kind of pool; returns what each gave, as data. */
async function attack({ kind, elsewhere }) {
  const { load } = await import('/www/showcase/showcase.js');
  const wx = await load();
  const err = (e) => ({ name: e?.name, message: String(e?.message ?? e) });
  const attempt = async (f) => {
    try {
      return { value: await f() };
    } catch (e) {
      return { error: err(e) };
    }
  };
  const pool = new wx[kind]({ maxWorkers: 2 });
  const out = {};

  // 1. Job names that are not strings: a TypeError naming the parameter, never a trap.
  const strangers = { number: 123, object: {}, null: null, symbol: Symbol('s'), bigint: 10n, function: () => 1, array: ['noop'] };
  out.badNames = {};
  for (const [what, name] of Object.entries(strangers)) {
    out.badNames[what] = {
      submit: await attempt(() => pool.submit(name)),
      map: await attempt(() => pool.map(name, [1])),
      toThread: await attempt(() => wx.toThread(name)),
      planRun: await attempt(() => wx.planRun(name)),
    };
  }
  // A number parameter given a symbol, a BigInt or an object that cannot become one:
  // the conversion threw inside the wasm call, and wasm-bindgen stopped the module.
  out.badNumbers = {
    killWorker: await attempt(() => pool.killWorker(Symbol('s'))),
    runRecords: await attempt(() => wx.runRecords(10n)),
    logLines: await attempt(() => wx.logLines({ valueOf() { throw new Error('no'); } })),
  };
  out.badArgs = {
    symbol: await attempt(() => pool.submit('blocks', Symbol('s'))),
    bigint: await attempt(() => pool.submit('blocks', 1n)),
    mapItems: await attempt(() => pool.map('blocks', 5)),
  };

  // 3. Timeouts past what setTimeout counts mean "never": no panic, nothing early.
  const slow = () => pool.submit('blocks_for', 7, 300);
  out.timeouts = {};
  for (const [what, timeout] of Object.entries({ huge: 1e20, max: Number.MAX_VALUE, wraps: 2 ** 31 / 1000, infinite: Infinity })) {
    const job = slow();
    const waited = await attempt(async () => (await wx.wait([job], { timeout })).done.length);
    const completed = await attempt(async () => (await wx.asCompleted([slow()], { timeout })).length);
    const result = await attempt(() => slow().result({ timeout }));
    out.timeouts[what] = { waited, completed, result };
  }
  if (kind === 'ProcessPoolExecutor') {
    const timed = new wx.ProcessPoolExecutor({ maxWorkers: 1, jobTimeout: 1e20 });
    out.jobTimeout = await attempt(() => timed.submit('blocks_for', 3, 300));
    await timed.shutdown();
  }
  out.negativeTimeout = await attempt(() => wx.wait([slow()], { timeout: -1 }));

  // 5. Huge arguments are refused; large ones are clipped in the job's error and record.
  out.hugeArgument = await attempt(() => pool.submit('panics', 'x'.repeat(2 ** 25)));
  const big = pool.submit('panics', 'y'.repeat(200_000));
  const bigError = await big.then(() => null, err);
  const bigRecord = big.record();
  out.bigArgument = { errorLength: bigError.message.length, endsWith: bigError.message.slice(-40), labelLength: bigRecord.label.length, recordErrorLength: bigRecord.error.length };

  // 11. Only this library's jobs are jobs; any iterable of them is taken.
  const done = pool.submit('blocks', 2);
  await done;
  out.fakeJob = await attempt(() => wx.wait([{ id: -5 }]));
  out.fakeJobGather = await attempt(() => wx.gather([done, { id: done.id }]));
  out.set = await attempt(async () => (await wx.wait(new Set([done]))).done.length);
  wx.clearRecords();
  out.afterClear = await attempt(async () => (await wx.wait([done])).done.length);
  out.afterClearGather = await attempt(() => wx.gather([done]));
  out.tooManyWorkers = await attempt(() => new wx[kind]({ maxWorkers: 2 ** 53 }));
  out.hugeWorkers = await attempt(() => new wx[kind]({ maxWorkers: 257 }));
  const canvas = document.createElement('canvas');
  out.timelineEmptyPalette = await attempt(() => (new wx.Timeline(canvas, {}), 'made'));
  out.timelineNoCanvas = await attempt(() => (new wx.Timeline(42, {}), 'made'));

  // 4. A run's parameters have limits, checked before anything starts; a large run
  // says why a link should not start it by itself.
  out.limits = {
    workers: await attempt(() => wx.planRun('free-form', { executor: 'processes', maxWorkers: 256, blockMs: 600000 })),
    jobs: await attempt(() => wx.planRun('free-form', { jobs: 4294967295 })),
    gets: await attempt(() => wx.planRun('choose-executor', { gets: 2000 })),
    modest: await attempt(() => wx.planRun('blocking-squares').needsAClick),
    large: await attempt(() => wx.planRun('free-form', { gets: 40 }).needsAClick),
  };
  // The demo's GETs: the page's own origin only, resolved against the page on every
  // kind of worker, and a status other than 2xx fails the job.
  out.gets = {
    sameOrigin: await attempt(() => pool.submit('http_get', 'index.html')),
    missing: await attempt(() => pool.submit('http_get', 'no-such-file.html')),
    elsewhere: await attempt(() => pool.submit('http_get', elsewhere)),
  };

  // Afterwards the pool still works, and the page answers.
  out.afterwards = await Promise.all([pool.submit('blocks', 3), wx.toThread('blocks', 4)]);
  await pool.shutdown();
  return out;
}

const isTypeError = (r, pattern) => {
  assert.equal(r.error?.name, 'TypeError', JSON.stringify(r));
  if (pattern) assert.match(r.error.message, pattern);
};

for (const browser of engines(['chromium', 'firefox', 'webkit'])) {
  for (const kind of ['ThreadPoolExecutor', 'ProcessPoolExecutor']) {
    describe(`${browser}, ${kind}: hostile input`, () => {
      let site;
      let opened;
      let out;
      let elsewhere;
      let hits = 0;

      before(async () => {
        elsewhere = createServer((_, response) => {
          hits++;
          response.writeHead(200, { 'access-control-allow-origin': '*', 'cross-origin-resource-policy': 'cross-origin' });
          response.end('elsewhere');
        }).listen(0, '127.0.0.1');
        await once(elsewhere, 'listening');
        site = await serveSite({ isolated: kind === 'ThreadPoolExecutor' });
        opened = await openIn(browser, `${site.url}/index.html`);
        out = await opened.page.evaluate(attack, { kind, elsewhere: `http://127.0.0.1:${elsewhere.address().port}/x` });
      });

      after(async () => {
        await opened?.close();
        site?.close();
        elsewhere?.close();
      });

      test('a job name of any other type than string is a TypeError that names it (it used to trap the wasm)', () => {
        for (const [what, calls] of Object.entries(out.badNames)) {
          for (const [call, r] of Object.entries(calls)) {
            assert.equal(r.error?.name, 'TypeError', `${call}(${what}): ${JSON.stringify(r)}`);
            const owner = { submit: 'submit', map: 'map', toThread: 'toThread', planRun: 'planRun' }[call];
            assert.match(r.error.message, new RegExp(`^${owner}: `), `${call}(${what})`);
          }
        }
        assert.match(out.badNames.number.submit.error.message, /the job's name must be a string.*\(got 123\)/);
        isTypeError(out.badNumbers.killWorker, /^killWorker: expected a number \(got a symbol\)/);
        isTypeError(out.badNumbers.runRecords, /^runRecords: expected a number \(got a bigint/);
        isTypeError(out.badNumbers.logLines, /^logLines: expected a number \(got a Object\)/);
        isTypeError(out.badArgs.symbol, /JSON-serialisable \(got a symbol\)/);
        isTypeError(out.badArgs.bigint, /JSON-serialisable/);
        isTypeError(out.badArgs.mapItems, /^map: expected an array or other iterable of items \(got a number/);
      });

      test('timeouts too large for the platform timers never fire and never panic', () => {
        for (const [what, r] of Object.entries(out.timeouts)) {
          assert.deepEqual(r, { waited: { value: 1 }, completed: { value: 1 }, result: { value: 49 } }, what);
        }
        if (kind === 'ProcessPoolExecutor') assert.deepEqual(out.jobTimeout, { value: 9 });
        assert.equal(out.negativeTimeout.error?.name, 'ValueError');
      });

      test('an argument over 1 MiB of JSON is refused; a large one is clipped in errors and records', () => {
        assert.equal(out.hugeArgument.error?.name, 'ValueError', JSON.stringify(out.hugeArgument));
        assert.match(out.hugeArgument.error.message, /take more than 1048576 characters as JSON/);
        assert.ok(out.bigArgument.errorLength < 3_000, JSON.stringify(out.bigArgument));
        assert.match(out.bigArgument.endsWith, /more characters\)$/);
        assert.ok(out.bigArgument.labelLength < 300, JSON.stringify(out.bigArgument));
        assert.ok(out.bigArgument.recordErrorLength < 3_000, JSON.stringify(out.bigArgument));
      });

      test('only jobs are jobs; any iterable of them works, before and after clearRecords', () => {
        isTypeError(out.fakeJob, /^wait: expected jobs, as submit\(\) returns them \(got a Object at 0\)/);
        isTypeError(out.fakeJobGather, /^gather: expected jobs/);
        assert.deepEqual(out.set, { value: 1 });
        assert.deepEqual(out.afterClear, { value: 1 });
        assert.deepEqual(out.afterClearGather, { value: [4] });
        assert.equal(out.tooManyWorkers.error?.name, 'ValueError');
        assert.match(out.tooManyWorkers.error.message, /max_workers must be at most 256 \(got 9007199254740992\)/);
        assert.equal(out.hugeWorkers.error?.name, 'ValueError');
        assert.deepEqual(out.timelineEmptyPalette, { value: 'made' });
        assert.match(out.timelineNoCanvas.error?.message ?? '', /^Timeline: expected a <canvas> element \(got a number\)/);
      });

      test("a run's parameters have limits, and a large run waits for a click", () => {
        assert.match(out.limits.workers.error?.message ?? '', /maxWorkers must be at most 32 \(got 256\)/);
        assert.match(out.limits.jobs.error?.message ?? '', /jobs must be at most 100000 \(got 4294967295\)/);
        assert.match(out.limits.gets.error?.message ?? '', /gets must be at most 64 \(got 2000\)/);
        assert.deepEqual(out.limits.modest, { value: null });
        assert.equal(out.limits.large.value, 'it takes 40 GETs, more than a link starts by itself (8)');
      });

      test("GET jobs fetch from the page's origin only, relative to the page, and fail on a status other than 2xx", () => {
        assert.equal(out.gets.sameOrigin.value?.status, 200, JSON.stringify(out.gets.sameOrigin));
        assert.ok(out.gets.sameOrigin.value.length > 1000);
        assert.match(out.gets.missing.error?.message ?? '', /no-such-file\.html: HTTP 404/);
        assert.match(out.gets.elsewhere.error?.message ?? '', /refused: jobs fetch only from this page's origin/);
        assert.equal(hits, 0);
      });

      test('afterwards the pools still run jobs', () => {
        assert.deepEqual(out.afterwards, [9, 16]);
      });
    });
  }

  describe(`${browser}: links to the demo page`, () => {
    let site;
    let opened;

    before(async () => {
      site = await serveSite({ isolated: false });
    });
    after(async () => {
      await opened?.close();
      site?.close();
    });

    // In the page's own realm, where the demo's library lives (see `inPage`).
    const shown = async () => {
      const demo = document.querySelector('#demo');
      await customElements.whenDefined('executor-timeline');
      for (let i = 0; i < 100 && !demo.shadowRoot?.querySelector('.status')?.textContent; i++) await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, 500));
      const { load } = await import('/www/showcase/showcase.js');
      const wx = await load();
      return { status: demo.shadowRoot.querySelector('.status').textContent, records: demo.records().length, live: wx.liveWorkers().length };
    };
    const status = () => opened.page.evaluate(inPage, { source: shown.toString() });

    test('a link past the limits starts nothing and says which limit', async () => {
      opened = await openIn(browser, `${site.url}/index.html?scenario=free-form&executor=processes&workers=256&block-ms=600000&run`);
      const out = await status();
      assert.match(out.status, /workers must be at most 32 \(got 256\)/);
      assert.equal(out.records, 0);
      assert.equal(out.live, 0);
      await opened.close();
      opened = null;
    });

    test('a link to a large run fills the controls and waits for a click', async () => {
      opened = await openIn(browser, `${site.url}/index.html?scenario=free-form&gets=40&run`);
      const out = await status();
      assert.match(out.status, /^Press Run to start this run: it takes 40 GETs/);
      assert.equal(out.records, 0);
    });
  });
}

/** In a page with no widget: widgets added, left waiting, removed, put back. */
async function widgetLifecycles() {
  const { load } = await import('/www/showcase/showcase.js');
  const wx = await load();
  await customElements.whenDefined('executor-timeline');
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const widget = (attributes) => {
    const w = document.createElement('executor-timeline');
    for (const [k, v] of Object.entries({ compact: '', height: '80', ...attributes })) w.setAttribute(k, v);
    document.body.append(w);
    return w;
  };
  const status = (w) => w.shadowRoot.querySelector('.status').textContent;
  const out = {};

  // 6. A widget removed while it waits for workers: its run settles; put back, it runs.
  const busy = widget({ scenario: 'cpu-bound', n: '2000000000', workers: '3' });
  const busyRun = busy.run().catch((e) => e.message);
  while (!/Running/.test(status(busy))) await sleep(20);
  const waiting = widget({ scenario: 'blocking-squares-processes' });
  const waitingRun = waiting.run();
  for (let i = 0; i < 100 && !/Waiting for workers/.test(status(waiting)); i++) await sleep(20);
  out.waited = status(waiting);
  waiting.remove();
  out.removedWhileWaiting = await Promise.race([waitingRun.then((r) => r.length), sleep(2000).then(() => 'still waiting')]);
  busy.remove();
  out.busyStopped = await busyRun;
  document.body.append(waiting);
  await sleep(100);
  out.putBack = { disabled: waiting.shadowRoot.querySelector('button.run').disabled, jobs: (await waiting.run()).length, status: status(waiting) };

  // 9. A replaced run's records go; a removed widget's too.
  const first = (await waiting.run()).length;
  const second = await waiting.run();
  out.runs = { first, second: second.length, all: wx.records().length };
  waiting.remove();
  await sleep(50);
  out.afterRemoval = wx.records().length;

  // 8. Widgets added and removed leave the wasm heap as it was.
  const cycle = async () => {
    const w = widget({ scenario: 'blocking-squares-processes' });
    await w.run();
    w.remove();
    await sleep(10);
  };
  // The JavaScript heap too, where the page can collect garbage on demand (Chromium
  // here: --expose-gc); each removed widget used to keep about 14 KB.
  const jsHeap = async () => {
    if (!globalThis.gc || !performance.memory) return null;
    for (let i = 0; i < 3; i++) {
      gc();
      await sleep(20);
    }
    return performance.memory.usedJSHeapSize;
  };
  // Warmed first: the first cycles fill caches and compiled code for good.
  for (let i = 0; i < 10; i++) await cycle();
  const before = wx.heapInUse();
  const jsBefore = await jsHeap();
  for (let i = 0; i < 20; i++) await cycle();
  out.heapGrowth = wx.heapInUse() - before;
  out.jsHeapGrowth = jsBefore === null ? null : (await jsHeap()) - jsBefore;

  // 7. Zoomed far out, far in, at zero, on a canvas narrower than its titles.
  const canvas = document.createElement('canvas');
  canvas.style.width = '50px';
  document.body.append(canvas);
  const timeline = new wx.Timeline(canvas, {});
  timeline.setRun(wx.newRun());
  timeline.resize(50, 80, 1);
  for (let i = 0; i < 2000; i++) timeline.zoomAt(25, 0.8);
  for (const factor of [0, -1, NaN, Infinity, 1e300]) timeline.zoomAt(25, factor);
  timeline.panBy(1e12);
  timeline.draw();
  timeline.free();
  out.zoomed = 'drew';
  return out;
}

for (const browser of engines(['chromium', 'firefox', 'webkit'])) {
  describe(`${browser}: widgets that leave the page`, () => {
    let site;
    let opened;
    let out;

    before(async () => {
      site = await serveSite({ isolated: false });
      opened = await openIn(browser, `${site.url}/tests/e2e/blank-widget.html`);
      out = await opened.page.evaluate(inPage, { source: widgetLifecycles.toString() });
    });
    after(async () => {
      await opened?.close();
      site?.close();
    });

    test('a widget removed while it waits for workers ends its run; put back, it runs', () => {
      assert.match(out.waited, /Waiting for workers/);
      assert.equal(out.removedWhileWaiting, 0, 'its run settled, having started nothing');
      assert.match(out.busyStopped, /was stopped/);
      assert.deepEqual(out.putBack.disabled, false);
      assert.equal(out.putBack.jobs, 6);
      assert.match(out.putBack.status, /^Done: 6 jobs/);
    });

    test("a run's records go when the next run replaces it, and when its widget goes", () => {
      assert.deepEqual(out.runs, { first: 6, second: 6, all: 6 });
      assert.equal(out.afterRemoval, 0);
    });

    test('widgets added and removed leave the wasm heap (and, where measurable, the JavaScript heap) flat', () => {
      assert.ok(Math.abs(out.heapGrowth) < 16 * 1024, `20 widgets added and removed left ${out.heapGrowth} bytes`);
      if (out.jsHeapGrowth !== null) assert.ok(out.jsHeapGrowth < 100 * 1024, `20 widgets added and removed left ${out.jsHeapGrowth} bytes of JavaScript`);
    });

    test('zoom is bounded and never panics, on any canvas', () => {
      assert.equal(out.zoomed, 'drew');
    });
  });
}

/**
 * In a page with no widget: a worker stopped from outside (`terminate()` on the
 * Worker, which fires no event), while its job runs. The page's `Worker` is wrapped
 * first, so the test holds what the library made.
 */
async function stoppedFromOutside({ kind }) {
  const made = [];
  const Original = globalThis.Worker;
  globalThis.Worker = new Proxy(Original, {
    construct(target, args) {
      const worker = Reflect.construct(target, args);
      made.push({ worker, name: args[1]?.name });
      return worker;
    },
  });
  const { load } = await import('/www/showcase/showcase.js');
  const wx = await load();
  const pool = new wx[kind]({ maxWorkers: 1 });
  await pool.submit('blocks', 0);
  const job = pool.submit('blocks_for', 5, 60_000);
  await job.started();
  const name = job.worker;
  const victim = made.filter((m) => m.name === name).at(-1);
  const t0 = performance.now();
  victim.worker.terminate();
  const error = await job.then(() => null, (e) => ({ name: e.name, message: e.message }));
  const after = await pool.submit('blocks', 6);
  const out = { error, ms: performance.now() - t0, after, names: made.map((m) => m.name), worker: name };
  await pool.shutdown();
  return out;
}

for (const browser of engines(['chromium', 'firefox', 'webkit'])) {
  for (const kind of ['ThreadPoolExecutor', 'ProcessPoolExecutor']) {
    test(`${browser}, ${kind}: a worker stopped from outside fails its job once, and the pool goes on`, async () => {
      const site = await serveSite({ isolated: kind === 'ThreadPoolExecutor' });
      const opened = await openIn(browser, `${site.url}/tests/e2e/blank-widget.html`);
      try {
        const out = await opened.page.evaluate(stoppedFromOutside, { kind });
        assert.ok(out.error, JSON.stringify(out));
        assert.match(out.error.message, /stopped without a word/, JSON.stringify(out));
        assert.ok(out.ms < 10_000, `heard after ${out.ms} ms`);
        assert.equal(out.after, 36);
      } finally {
        await opened.close();
        site.close();
      }
    });
  }
}

/** In a page: the library under the page's Content-Security-Policy, each step raced
 * against a deadline, so that nothing can wait forever unseen. */
async function underPolicy() {
  const deadline = (promise, ms, what) => Promise.race([promise, new Promise((r) => setTimeout(() => r(`${what} still pending after ${ms} ms`), ms))]);
  const outcome = (promise) => promise.then((value) => ({ value }), (e) => ({ error: `${e.name}: ${e.message}` }));
  const { load } = await import('/www/showcase/showcase.js');
  const wx = await deadline(load(), 20_000, 'load()');
  if (typeof wx === 'string') return { load: wx };
  const out = { build: wx.build, why: wx.whyNoThreads };
  out.toThread = await deadline(outcome(wx.toThread('blocks', 3)), 20_000, 'toThread');
  out.processes = await deadline(outcome(new wx.ProcessPoolExecutor({ maxWorkers: 1 }).submit('blocks', 5)), 20_000, 'process job');
  if (wx.threadsAvailable) out.threads = await deadline(outcome(new wx.ThreadPoolExecutor({ maxWorkers: 2 }).submit('blocks', 4)), 20_000, 'thread job');
  const widget = document.createElement('executor-timeline');
  widget.setAttribute('scenario', wx.threadsAvailable ? 'blocking-squares' : 'blocking-squares-processes');
  document.body.append(widget);
  await customElements.whenDefined('executor-timeline');
  out.widget = await deadline(outcome(widget.run().then((records) => records.length)), 30_000, 'the widget');
  return out;
}

for (const browser of engines(['chromium', 'firefox', 'webkit'])) {
  test(`${browser}: an isolated page under a strict CSP runs threads, processes and the widget`, async () => {
    const site = await serveSite({ config: 'tests/e2e/serve.strict-isolated.json' });
    const opened = await openIn(browser, `${site.url}/tests/e2e/blank-widget.html`);
    try {
      const out = await opened.page.evaluate(underPolicy);
      assert.deepEqual(out, { build: 'threads', why: null, toThread: { value: 9 }, processes: { value: 25 }, threads: { value: 16 }, widget: { value: 6 } });
    } finally {
      await opened.close();
      site.close();
    }
  });

  test(`${browser}: a page whose CSP forbids workers fails its jobs, saying which directive to add`, async () => {
    const site = await serveSite({ config: 'tests/e2e/serve.no-workers.json' });
    const opened = await openIn(browser, `${site.url}/tests/e2e/blank-widget.html`);
    try {
      const out = await opened.page.evaluate(underPolicy);
      assert.equal(out.build, 'plain', JSON.stringify(out));
      const hint = /allow http:\/\/127\.0\.0\.1:\d+ in worker-src/;
      assert.match(out.why, hint);
      assert.match(out.toThread.error, hint);
      assert.match(out.processes.error, /^BrokenProcessPool: .*allow http:\/\/127\.0\.0\.1:\d+ in worker-src/);
      assert.match(out.widget.error ?? '', hint);
    } finally {
      await opened.close();
      site.close();
    }
  });
}
