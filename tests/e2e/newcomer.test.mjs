// The page and the widget as a newcomer meets them (issue 17), in every engine: the
// first click on `/`; scenario 6's verdicts; Stop; a copied link that repeats the run;
// the small things a user sees; jobs on DevTools' tracks. Each check runs in the page's
// own realm (`inPage`), where its widgets and library live.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { chromiumTest, engines, inPage, launchChromium, openIn, screenshotPath, serveSite } from './harness.mjs';

let site;

before(async () => {
  site = await serveSite();
});

after(() => site?.close());

// In the page: helpers every check below starts with (each check is sent as text).
const HELPERS = `
  const demo = document.querySelector('#demo');
  const $ = (s) => demo.shadowRoot.querySelector(s);
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const until = async (what, ok, ms = 60000) => {
    for (const end = Date.now() + ms; Date.now() < end; await sleep(50)) {
      const value = await what();
      if (ok(value)) return value;
    }
    throw new Error('waited ' + ms + ' ms: ' + JSON.stringify(await what()));
  };
  await customElements.whenDefined('executor-timeline');
  const status = () => $('.status').textContent;
  await until(status, (s) => /at most|^Done|^Press Run|Running/.test(s));
  const { load } = await import('/www/showcase/showcase.js');
  const wx = await load();
`;

/** `body` (the text of an async function's body, run after HELPERS) in `page`'s realm. */
const check = (page, body, arg) => page.evaluate(inPage, { source: `async (arg) => { ${HELPERS} ${body} }`, arg });

test('/ is the demo page, with the isolation headers', async () => {
  const response = await fetch(`${site.url}/`);
  assert.equal(response.status, 200);
  assert.equal(response.headers.get('cross-origin-opener-policy'), 'same-origin');
  assert.equal(response.headers.get('cross-origin-embedder-policy'), 'require-corp');
  assert.match(await response.text(), /<executor-timeline id="demo"/);
});

for (const browser of engines(['chromium', 'firefox', 'webkit'])) {
  describe(browser, () => {
    let opened;
    const open = async (path) => {
      await opened?.close();
      opened = await openIn(browser, `${site.url}${path}`);
      return opened.page;
    };
    after(() => opened?.close());

    test('the first click: / runs the demo on threads', async () => {
      const page = await open('/');
      const out = await check(page, `
        await demo.run();
        const lanes = demo.trace().traceEvents.filter((e) => e.name === 'thread_name').map((e) => e.args.name);
        return { path: location.pathname, isolated: crossOriginIsolated, build: $('.build').textContent, status: status(), lanes };
      `);
      assert.equal(out.path, '/');
      assert.equal(out.isolated, true);
      assert.match(out.build, /^threads/);
      assert.match(out.status, /^Done: 6 jobs/);
      assert.equal(out.lanes.filter((l) => /^ThreadPoolExecutor-\d+_\d$/.test(l)).length, 3, out.lanes.join());
    });

    test("scenario 6: warmed pools, verdicts that agree with the figures, GETs of the page's own URL on every worker, and a 404 fails", async () => {
      const page = await open('/?scenario=choose-executor&gets=4');
      const out = await check(page, `
        await demo.run();
        const log = demo.trace().traceEvents.filter((e) => e.ph === 'i').map((e) => e.name);
        const records = demo.records().map((r) => ({ executor: r.executor, label: r.label, outcome: r.outcome, submitted: r.submitted, finished: r.finished }));
        const comparison = JSON.parse($('.result').textContent.replace(/^Result: /, ''));
        // The same GET of a page that is not there, on each kind of worker: failed jobs.
        const failed = {};
        for (const executor of ['threads', 'processes']) {
          for (const [name, value] of Object.entries({ scenario: 'free-form', executor, jobs: '0', 'cpu-jobs': '0', gets: '1', url: 'no-such-page.html' })) demo.setAttribute(name, value);
          await demo.run();
          failed[executor] = { result: $('.result').textContent, records: demo.records().map((r) => [r.outcome, r.error]) };
        }
        return { log, records, comparison, failed };
      `);
      // Each verdict names the faster of the two figures it quotes, and quotes the result's.
      const verdicts = out.log.map((m) => m.match(/^(blocking GET x4|CPU loop in two halves): threads (\d+) ms, processes (\d+) ms: (threads|processes) win$/)).filter(Boolean);
      assert.equal(verdicts.length, 2, out.log.join('\n'));
      for (const [line, half, threads, processes, winner] of verdicts) {
        assert.equal(winner, Number(threads) <= Number(processes) ? 'threads' : 'processes', line);
        const [t, p] = half.startsWith('CPU') ? ['cpu_threads_ms', 'cpu_processes_ms'] : ['io_threads_ms', 'io_processes_ms'];
        assert.deepEqual([Number(threads), Number(processes)], [Math.round(out.comparison[t]), Math.round(out.comparison[p])], line);
      }
      // Four pools, each warmed: a no-op per worker, all done before the first timed job.
      const pools = new Map();
      for (const r of out.records) pools.set(r.executor, [...(pools.get(r.executor) ?? []), r]);
      assert.equal(pools.size, 4, [...pools.keys()].join());
      for (const [executor, jobs] of pools) {
        const warm = jobs.filter((r) => r.label === 'noop()');
        const timed = jobs.filter((r) => r.label !== 'noop()');
        assert.equal(warm.length, timed.length === 4 ? 4 : 2, executor);
        assert.ok(Math.min(...timed.map((r) => r.submitted)) >= Math.max(...warm.map((r) => r.finished)), `${executor}: warmed before the clock started`);
      }
      const gets = out.records.filter((r) => r.label.startsWith('http_get'));
      assert.equal(gets.length, 8);
      for (const { executor, outcome } of gets) assert.equal(outcome, 'ok', `${executor}: index.html, resolved against the page`);
      for (const executor of ['threads', 'processes']) {
        const { result, records } = out.failed[executor];
        assert.equal(result, 'Result: 1 job failed', executor);
        assert.equal(records[0][0], 'failed', executor);
        assert.match(records[0][1], /no-such-page\.html: HTTP 404/, executor);
      }
    });

    test('Stop ends a long run: its queued jobs are cancelled, its workers go, and Run works again; so does another scenario mid-run', async () => {
      // Four jobs of 60 s on two processes: more than a link starts by itself.
      const page = await open('/?scenario=free-form&executor=processes&workers=2&jobs=4&block-ms=60000&cpu-jobs=0&gets=0&run');
      const out = await check(page, `
        const going = async () => {
          $('.run').click();
          await until(() => demo.records().filter((r) => r.state === 'RUNNING').length, (n) => n === 2);
          return { live: wx.liveWorkers().length, run: $('.run').disabled, stop: $('.stop').disabled };
        };
        const gone = async () => {
          await until(() => $('.run').disabled, (disabled) => !disabled, 10000);
          const live = await until(() => wx.liveWorkers().length, (n) => n === 0, 10000);
          return { live, stop: $('.stop').disabled, status: status(), outcomes: demo.records().map((r) => r.outcome) };
        };
        const asked = status();
        const first = await going();
        $('.stop').click();
        const stopped = await gone();
        const second = await going();
        $('[name=scenario]').value = 'cpu-bound';
        $('[name=scenario]').dispatchEvent(new Event('change'));
        const switched = await gone();
        return { asked, first, stopped, second, switched, title: $('.title').textContent };
      `);
      assert.match(out.asked, /^Press Run to start this run/);
      assert.deepEqual(out.first, { live: 2, run: true, stop: false });
      assert.equal(out.stopped.live, 0);
      assert.equal(out.stopped.stop, true);
      assert.match(out.stopped.status, /^Stopped: \d of 4 jobs ended, 2 cancelled/);
      assert.equal(out.stopped.outcomes.filter((o) => o === 'cancelled').length, 2);
      assert.deepEqual(out.second, { live: 2, run: true, stop: false });
      assert.equal(out.switched.live, 0);
      assert.match(out.switched.status, /^Stopped/);
      assert.equal(out.title, '5. A CPU-bound task on a process pool');
    });

    test('after a run the address keeps run, and the copied link restores the controls and the run', async () => {
      let page = await open('/?scenario=blocking-squares&jobs=3');
      const link = await check(page, `
        $('.run').click();
        await until(status, (s) => /^Done/.test(s));
        return location.search;
      `);
      assert.match(link, /^\?(?=.*scenario=blocking-squares)(?=.*jobs=3).*&run$/);
      page = await open(`/${link}`);
      const again = await check(page, `
        await until(status, (s) => /^Done/.test(s));
        const shown = { scenario: $('[name=scenario]').value, jobs: $('[name=jobs]').value, records: demo.records().length, link: location.search };
        $('[name=jobs]').value = '4';
        $('[name=jobs]').dispatchEvent(new Event('change'));
        await sleep(100);
        return { ...shown, changed: location.search };
      `);
      assert.deepEqual({ ...again, changed: undefined }, { scenario: 'blocking-squares', jobs: '3', records: 3, link, changed: undefined });
      assert.match(again.changed, /jobs=4/);
      assert.doesNotMatch(again.changed, /run/, 'a changed control is not the run any more');
    });

    test('small things: values on the main thread, titles that name the executor, no stale result, what free-form counts', async () => {
      const page = await open('/?scenario=blocking-squares&jobs=3&executor=processes&workers=2');
      const out = await check(page, `
        const title = $('.title').textContent;
        $('.main').click();
        await until(status, (s) => /^Done on the main thread/.test(s));
        const main = $('.result').textContent;
        await demo.run();
        const before = $('.result').textContent;
        demo.setAttribute('workers', '999');
        await demo.run().catch(() => {});
        const after = { result: $('.result').textContent, status: status() };
        demo.removeAttribute('workers');
        for (const [name, value] of Object.entries({ scenario: 'free-form', jobs: '2', 'cpu-jobs': '1', n: '1000', gets: '0' })) demo.setAttribute(name, value);
        await demo.run();
        return { title, main, before, after, freeForm: $('.result').textContent };
      `);
      assert.equal(out.title, '1. Blocking squares on two processes');
      assert.equal(out.main, 'Results on the main thread: [0,1,4]');
      assert.match(out.before, /^Result: \[/);
      assert.equal(out.after.result, '', 'the last result went');
      assert.match(out.after.status, /must be at most \d+ \(got 999\)/);
      assert.equal(out.freeForm, 'Result: 0 jobs failed');
    });

    test("jobs in DevTools: each job that ran is a measure on its worker's track, grouped by its executor", async () => {
      const page = await open('/?scenario=blocking-squares&run');
      const out = await check(page, `
        await until(status, (s) => /^Done/.test(s));
        const events = demo.trace().traceEvents;
        const lanes = new Map(events.filter((e) => e.name === 'thread_name').map((e) => [e.tid, e.args.name]));
        const slices = Object.fromEntries(events.filter((e) => e.ph === 'X').map((e) => [e.name, { lane: lanes.get(e.tid), executor: e.args.executor }]));
        const measures = await until(() => performance.getEntriesByType('measure').filter((m) => m.detail?.devtools), (ms) => ms.length >= 6, 5000);
        return { slices, measures: measures.map((m) => ({ name: m.name, duration: m.duration, devtools: m.detail.devtools })) };
      `);
      assert.equal(out.measures.length, 6);
      for (const { name, duration, devtools } of out.measures) {
        assert.equal(devtools.dataType, 'track-entry');
        assert.equal(devtools.track, out.slices[name].lane, name);
        assert.equal(devtools.trackGroup, out.slices[name].executor, name);
        assert.match(devtools.track, /^ThreadPoolExecutor-\d+_\d$/);
        assert.ok(duration >= 95 && duration < 1000, `${name} ran ${duration} ms`);
        assert.ok(devtools.properties.some(([key, value]) => key === 'worker' && value === devtools.track));
      }
    });

    test('jobs in DevTools: off by default; a widget with devtools-tracks turns them on', async () => {
      const page = await open('/tests/e2e/blank-widget.html');
      const out = await page.evaluate(inPage, {
        source: `async () => {
          await customElements.whenDefined('executor-timeline');
          const widget = document.createElement('executor-timeline');
          widget.setAttribute('scenario', 'blocking-squares-processes');
          widget.setAttribute('jobs', '2');
          document.body.append(widget);
          await widget.run();
          await new Promise((r) => setTimeout(r, 500));
          const off = performance.getEntriesByType('measure').length;
          widget.setAttribute('devtools-tracks', '');
          for (let i = 0; i < 100 && performance.getEntriesByType('measure').length < 2; i++) await new Promise((r) => setTimeout(r, 50));
          const on = performance.getEntriesByType('measure').map((m) => m.detail.devtools);
          return { off, on, lanes: widget.trace().traceEvents.filter((e) => e.name === 'thread_name').map((e) => e.args.name) };
        }`,
      });
      assert.equal(out.off, 0);
      assert.equal(out.on.length, 2, 'the jobs that ran before are read too');
      for (const devtools of out.on) {
        assert.match(devtools.track, /^PID \d+$/);
        assert.ok(out.lanes.includes(devtools.track), `${devtools.track} in ${out.lanes}`);
        assert.match(devtools.trackGroup, /^ProcessPoolExecutor-\d+$/);
      }
    });
  });
}

// What DevTools' Performance panel records: the trace of a profile taken while a run
// goes on carries each job's measure with its track and group.
chromiumTest("a profile recorded in Chromium holds each job's track entry", async () => {
  const chromium = await launchChromium();
  try {
    const page = await chromium.newPage();
    await page.goto(`${site.url}/?scenario=blocking-squares&jobs=3`);
    await page.waitForFunction(() => /at most/.test(document.querySelector('#demo')?.shadowRoot?.querySelector('.status')?.textContent));
    await chromium.startTracing(page, { categories: ['blink.user_timing'] });
    // The run, and long enough after it for the entries' next read (every 100 ms).
    await page.evaluate(async () => {
      await document.querySelector('#demo').run();
      await new Promise((r) => setTimeout(r, 400));
    });
    const trace = JSON.parse((await chromium.stopTracing()).toString());
    const entries = trace.traceEvents
      .filter((e) => e.cat === 'blink.user_timing' && e.ph === 'b' && /^blocks\(\d\)$/.test(e.name))
      .map((e) => ({ name: e.name, ...JSON.parse(e.args.detail).devtools }));
    assert.deepEqual(entries.map((e) => e.name).sort(), ['blocks(0)', 'blocks(1)', 'blocks(2)']);
    for (const entry of entries) {
      assert.equal(entry.dataType, 'track-entry');
      assert.match(entry.track, /^ThreadPoolExecutor-\d+_\d$/);
      assert.equal(entry.trackGroup, entry.track.replace(/_\d$/, ''));
    }
  } finally {
    await chromium.close();
  }
});

// The page as it looks, after scenario 1's run: wide and on a phone, light and dark
// (docs/screenshots/page-*.png with UPDATE_SCREENSHOTS=1).
chromiumTest('the page at 1280 px and 375 px, light and dark, fits its width', async () => {
  const chromium = await launchChromium();
  try {
    for (const width of [1280, 375]) {
      for (const colorScheme of ['light', 'dark']) {
        const context = await chromium.newContext({ viewport: { width, height: 900 }, colorScheme });
        const page = await context.newPage();
        await page.goto(`${site.url}/?scenario=blocking-squares&run`);
        await page.waitForFunction(() => /^Done/.test(document.querySelector('#demo')?.shadowRoot?.querySelector('.status')?.textContent));
        const scroll = await page.evaluate(() => document.documentElement.scrollWidth);
        assert.ok(scroll <= width, `${width} px, ${colorScheme}: no sideways scrolling (${scroll} px)`);
        await page.screenshot({ path: screenshotPath(`page-${width}-${colorScheme}`), fullPage: true });
        await context.close();
      }
    }
  } finally {
    await chromium.close();
  }
});
