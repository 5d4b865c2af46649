// The demo page: each scenario of docs/scenarios.md through its deep link, checked from the
// run's exported trace (lanes, bars per lane, orderings, results), as a reader of
// Perfetto would check it; then 10,000 bars, the main-thread comparison and a phone;
// then the six scenarios again in Firefox.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { chromiumTest, engines, launchChromium, openPage, openWebDriverPage, screenshotPath, serveSite, widgetsDone } from './harness.mjs';

let site;
let browser;

before(async () => {
  site = await serveSite();
  if (engines(['chromium']).length) browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  site?.close();
});

/**
 * Opens `?query&run`, waits for the run, returns the page and what it shows. `click`:
 * the run is larger than a link starts by itself, so the link waits and Run is pressed.
 */
async function runLink(query, { width = 1400, timeout, click = false } = {}) {
  const page = await openPage(browser, `${site.url}/index.html?${query}&run`);
  await page.setViewportSize({ width, height: 1000 });
  if (click) {
    const status = page.locator('#demo').locator('.status');
    await status.filter({ hasText: /^Press Run to start this run: it takes 10000 jobs/ }).waitFor();
    await page.locator('#demo').locator('button.run').click();
  }
  await widgetsDone(page, timeout);
  const shown = await page.evaluate(() => {
    const demo = document.querySelector('#demo');
    const $ = (s) => demo.shadowRoot.querySelector(s);
    return {
      trace: demo.trace(),
      log: $('.log').textContent.split('\n'),
      result: $('.result').textContent,
      bars: demo.barCount,
      gap: demo.longestFrameGap,
      link: location.search,
    };
  });
  return { page, ...shown, ...lanes(shown.trace) };
}

/** The trace's lanes (thread names by tid), its job slices per lane and its log lines. */
function lanes(trace) {
  const names = new Map(trace.traceEvents.filter((e) => e.ph === 'M' && e.name === 'thread_name').map((e) => [e.tid, e.args.name]));
  const slices = trace.traceEvents.filter((e) => e.ph === 'X');
  const perLane = new Map();
  for (const slice of slices) perLane.set(names.get(slice.tid), [...(perLane.get(names.get(slice.tid)) ?? []), slice]);
  const said = trace.traceEvents.filter((e) => e.ph === 'i').map((e) => e.name);
  return { names: [...names.values()], slices, perLane, said };
}

chromiumTest('scenario 1: six blocks(n) on three threads, reused, in about 0.2 s', async () => {
  const run = await runLink('scenario=blocking-squares');
  const workers = run.names.filter((n) => n !== 'MainThread');
  assert.equal(run.names[0], 'MainThread');
  assert.equal(workers.length, 3, run.names.join());
  for (const w of workers) {
    assert.match(w, /^ThreadPoolExecutor-\d+_[012]$/);
    assert.equal(run.perLane.get(w).length, 2, `two jobs on ${w}`);
  }
  const byLabel = Object.fromEntries(run.slices.map((s) => [s.name, s]));
  const firstEnd = Math.min(...[0, 1, 2].map((i) => byLabel[`blocks(${i})`].ts + byLabel[`blocks(${i})`].dur));
  for (const i of [3, 4, 5]) assert.ok(byLabel[`blocks(${i})`].ts >= firstEnd - 1, `blocks(${i}) waited for a free thread`);
  const busy = Math.max(...run.slices.map((s) => s.ts + s.dur)) - Math.min(...run.slices.map((s) => s.ts));
  assert.ok(busy >= 200_000 && busy < 400_000, `jobs ran in two waves of 0.1 s: ${busy} µs`);
  assert.deepEqual(run.slices.map((s) => Number(s.args.result)).sort((a, b) => a - b), [0, 1, 4, 9, 16, 25]);
  const main = run.said.filter((m) => !['running', 'done'].includes(m));
  assert.deepEqual(main.slice(0, 3), ['starting', 'creating executor tasks', 'waiting for executor tasks']);
  assert.match(main[3], /^results: \[(\d+, ){5}\d+\]$/);
  assert.equal(main[4], 'exiting');
  assert.equal(run.log[0], 'MainThread run_blocking_tasks: starting');
  assert.ok(run.log.some((l) => /^ThreadPoolExecutor-\d+_\d +blocks\(3\): running$/.test(l)), run.log.join('\n'));
  assert.equal(run.bars, 6);
  await run.page.screenshot({ path: screenshotPath('scenario-1-threads'), fullPage: true });
  assert.deepEqual(run.page.problems, []);
  await run.page.close();
});

chromiumTest('scenario 2: the same on three processes, logged by PID', async () => {
  const run = await runLink('scenario=blocking-squares-processes');
  const workers = run.names.filter((n) => n !== 'MainThread');
  assert.equal(workers.length, 3);
  assert.ok(workers.every((w) => /^PID \d+$/.test(w) && w !== 'PID 10000'), workers.join());
  assert.deepEqual(run.slices.map((s) => Number(s.args.result)).sort((a, b) => a - b), [0, 1, 4, 9, 16, 25]);
  assert.equal(run.log[0], 'PID 10000 run_blocking_tasks: starting');
  assert.ok(run.log.some((l) => /^PID 1000[1-9] +blocks\(0\): running$/.test(l)), run.log.join('\n'));
  assert.deepEqual(run.page.problems, []);
  await run.page.close();
});

chromiumTest('scenario 3: to_thread, main goes on while the task blocks', async () => {
  const run = await runLink('scenario=to-thread&block-ms=300');
  assert.deepEqual(run.said, ['Main running the blocking task', 'Main doing other things', 'Task starting', 'Task done']);
  assert.equal(run.slices.length, 1);
  assert.match(run.names[1], /^asyncio_\d$/, 'the default executor is a thread pool');
  await run.page.close();
});

chromiumTest('scenario 4: run_in_executor(None, …) starts the job before main goes on', async () => {
  const run = await runLink('scenario=run-in-executor&block-ms=300');
  assert.deepEqual(run.said, ['Main running the blocking task', 'Task starting', 'Main doing other things', 'Task done']);
  await run.page.close();
});

chromiumTest('scenario 5: the CPU loop on a process pool while the page keeps drawing', async () => {
  const run = await runLink('scenario=cpu-bound&n=20000000', { timeout: 90_000 });
  assert.equal(run.slices.length, 1);
  assert.equal(run.slices[0].name, 'cpu_task(20000000)');
  assert.match(run.names[1], /^PID \d+$/);
  // Σ√i for i < n is about (2/3)·n^1.5.
  const sum = JSON.parse(run.result.replace(/^Result: /, ''));
  assert.ok(Math.abs(sum / ((2 / 3) * 20_000_000 ** 1.5) - 1) < 1e-3, run.result);
  assert.deepEqual(run.said, ['Main doing other things', 'Task starting', 'Task done']);
  assert.ok(run.log.some((l) => /^PID 1000[1-9] +cpu_task: Task starting$/.test(l)), run.log.join('\n'));
  assert.ok(run.gap < 250, `the page kept drawing: longest frame gap ${run.gap} ms`);
  await run.page.screenshot({ path: screenshotPath('scenario-5-processes'), fullPage: true });
  await run.page.close();
});

chromiumTest('scenario 6: blocking GETs and the CPU loop, on threads and on processes', async () => {
  const run = await runLink('scenario=choose-executor&gets=2&n=4000000', { timeout: 90_000 });
  const comparison = JSON.parse(run.result.replace(/^Result: /, ''));
  for (const key of ['io_threads_ms', 'io_processes_ms', 'cpu_threads_ms', 'cpu_processes_ms']) assert.ok(comparison[key] > 0, key);
  assert.ok(run.names.some((n) => n.startsWith('ThreadPoolExecutor')) && run.names.some((n) => n.startsWith('PID')), run.names.join());
  assert.equal(run.slices.filter((s) => s.cat === 'http_get').length, 4);
  assert.equal(run.slices.filter((s) => s.cat === 'sum_sqrt_range').length, 4);
  assert.equal(run.said.filter((m) => /: (threads|processes) win|has no threads/.test(m)).length, 2, run.said.join('; '));
  await run.page.close();
});

chromiumTest('a deep link keeps the parameters (and waits for Run: 10,000 jobs is more than a link starts by itself), and 10,000 tiny jobs make 10,000 bars on a page that stays responsive', async () => {
  const run = await runLink('scenario=free-form&executor=threads&workers=2&jobs=10000&block-ms=1&cpu-jobs=0&gets=0', { timeout: 120_000, click: true });
  assert.equal(run.bars, 10_000);
  assert.equal(run.slices.length, 10_000);
  assert.equal(new Set(run.slices.map((s) => s.args.id)).size, 10_000, 'each job once');
  assert.equal(run.names.length, 3);
  assert.ok(run.gap < 500, `longest frame gap while 10,000 bars were drawn live: ${run.gap} ms`);
  // The log panel keeps the run's last 200 lines; the trace keeps them all.
  assert.match(run.log[0], /^… [\d,]+ earlier lines are in the trace$/);
  assert.equal(run.log.length, 201);
  assert.match(run.log.at(-1), /main: 10000 jobs, 0 failed$/);
  assert.match(run.link, /scenario=free-form/);
  assert.match(run.link, /jobs=10000/);
  // Zoom, pan, fit, keyboard: the picture changes and a job's details come up.
  const details = await run.page.evaluate(async () => {
    const demo = document.querySelector('#demo');
    const canvas = demo.shadowRoot.querySelector('canvas');
    canvas.focus();
    for (const key of ['ArrowRight', 'ArrowRight', 'ArrowDown']) canvas.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true }));
    return demo.shadowRoot.querySelector('.live').textContent;
  });
  assert.match(details, /^blocks_for\(\d+, 1\); ThreadPoolExecutor-\d+ on ThreadPoolExecutor-\d+_\d; queued [\d.]+ ms · ran [\d.]+ ms; result \d+$/);
  assert.deepEqual(run.page.problems, []);
  await run.page.close();
});

chromiumTest('hovering a bar shows its job, worker, times and result', async () => {
  const run = await runLink('scenario=blocking-squares&jobs=3');
  const box = await run.page.evaluate(() => {
    const canvas = document.querySelector('#demo').shadowRoot.querySelector('canvas');
    const r = canvas.getBoundingClientRect();
    return { x: r.left, y: r.top, w: r.width };
  });
  // Sweep the first worker's lane until a bar answers.
  let tip = '';
  for (let x = box.x + 180; x < box.x + box.w && !tip; x += 20) {
    await run.page.mouse.move(x, box.y + 22 + 34 + 17);
    tip = await run.page.evaluate(() => {
      const t = document.querySelector('#demo').shadowRoot.querySelector('.tip');
      return t.hidden ? '' : t.innerText;
    });
  }
  assert.match(tip, /^blocks\(\d\)\nThreadPoolExecutor-\d+ on ThreadPoolExecutor-\d+_\d\nqueued [\d.]+ ms · ran 1\d\d\.\d ms\nresult \d$/);
  await run.page.close();
});

chromiumTest('the main-thread button runs the same jobs on the page itself, and the heartbeat stops', async () => {
  const page = await openPage(browser, `${site.url}/index.html?scenario=blocking-squares&jobs=3`);
  await page.waitForFunction(() => /at most/.test(document.querySelector('#demo').shadowRoot.querySelector('.status').textContent));
  await page.evaluate(() => document.querySelector('#demo').shadowRoot.querySelector('.main').click());
  await page.waitForFunction(() => /^Done on the main thread/.test(document.querySelector('#demo').shadowRoot.querySelector('.status').textContent));
  const shown = await page.evaluate(() => {
    const demo = document.querySelector('#demo');
    return { gap: demo.longestFrameGap, trace: demo.trace() };
  });
  const { names, slices } = lanes(shown.trace);
  assert.deepEqual(names, ['MainThread']);
  assert.equal(slices.length, 3);
  // 300 ms of blocking; a frame's timestamp is its vsync, up to a frame before it runs.
  assert.ok(shown.gap >= 250, `three 0.1 s jobs on the main thread froze it: ${shown.gap} ms`);
  await page.close();
});

chromiumTest('at 375 px wide everything fits and is reachable by keyboard', async () => {
  const run = await runLink('scenario=blocking-squares', { width: 375 });
  const layout = await run.page.evaluate(() => ({
    scroll: document.documentElement.scrollWidth,
    width: innerWidth,
    canvas: document.querySelector('#demo').shadowRoot.querySelector('canvas').getBoundingClientRect().width,
  }));
  assert.ok(layout.scroll <= layout.width, `no sideways scrolling: ${layout.scroll} > ${layout.width}`);
  assert.ok(layout.canvas > 300);
  const focusable = [];
  for (let i = 0; i < 14; i++) {
    await run.page.keyboard.press('Tab');
    focusable.push(await run.page.evaluate(() => {
      const inner = document.querySelector('#demo').shadowRoot.activeElement;
      return inner ? inner.getAttribute('name') ?? inner.className ?? inner.tagName : document.activeElement.tagName;
    }));
  }
  for (const wanted of ['scenario', 'run', 'code']) assert.ok(focusable.some((f) => f === wanted || f?.includes?.(wanted)), focusable.join());
  assert.ok(focusable.includes(''), 'the canvas takes focus');
  await run.page.screenshot({ path: screenshotPath('phone'), fullPage: true });
  await run.page.close();
});

// The six scenarios in Firefox and WebKit: on the isolated page (threads), on the plain
// page (processes), and in WebKit on an isolated page without its SharedArrayBuffer
// switch, where load() falls back to the plain build.
const pages = [
  ...engines(['firefox', 'webkit']).map((browser) => ({ browser, where: 'the isolated page', isolated: true, threads: true })),
  ...engines(['firefox', 'webkit']).map((browser) => ({ browser, where: 'the plain page', isolated: false, threads: false })),
  ...engines(['webkit']).map((browser) => ({
    browser,
    where: 'an isolated page without the SharedArrayBuffer switch',
    isolated: true,
    threads: false,
    options: { sharedArrayBuffer: false },
  })),
];

for (const { browser, where, isolated, threads, options } of pages) {
  test(`${browser}, ${where}: the page runs each of the six scenarios to the end, on the workers they call for`, async () => {
    const served = isolated ? site : await serveSite({ isolated: false });
    const page = await openWebDriverPage(browser, `${served.url}/index.html`, options);
    try {
      const runs = await page.evaluate(async () => {
        await customElements.whenDefined('executor-timeline');
        const demo = document.querySelector('#demo');
        const $ = (s) => demo.shadowRoot.querySelector(s);
        // Loaded once the corner says which build runs.
        for (let i = 0; i < 200 && !$('.build').textContent; i++) await new Promise((r) => setTimeout(r, 50));
        const scenarios = {
          'blocking-squares': {},
          'blocking-squares-processes': {},
          'to-thread': { 'block-ms': '100' },
          'run-in-executor': { 'block-ms': '100' },
          'cpu-bound': { n: '2000000' },
          'choose-executor': { gets: '1', n: '1000000' },
        };
        const out = {};
        for (const [scenario, attributes] of Object.entries(scenarios)) {
          demo.setAttribute('scenario', scenario);
          for (const [name, value] of Object.entries(attributes)) demo.setAttribute(name, value);
          await demo.run();
          const events = demo.trace().traceEvents;
          const lanes = new Map(events.filter((e) => e.name === 'thread_name').map((e) => [e.tid, e.args.name]));
          const slices = events.filter((e) => e.ph === 'X').map((e) => [lanes.get(e.tid), e.name]);
          out[scenario] = { status: $('.status').textContent, result: $('.result').textContent, slices, build: $('.build').textContent };
        }
        return out;
      });
      const lanesOf = (run, pattern) => new Set(run.slices.filter(([lane]) => pattern.test(lane)).map(([lane]) => lane)).size;
      for (const [scenario, run] of Object.entries(runs)) {
        assert.match(run.status, /^Done: /, `${scenario}: ${run.status}`);
        assert.match(run.result, /^Result: /, `${scenario}: ${run.result}`);
        assert.match(run.build, threads ? /^threads/ : /processes only/, `${scenario}: ${run.build}`);
      }
      // Without threads, a scenario's default executor is processes (README).
      const worker = threads ? /^ThreadPoolExecutor-\d+_\d$/ : /^PID \d+$/;
      const asyncio = threads ? /^asyncio_\d$/ : /^PID \d+$/;
      assert.equal(runs['blocking-squares'].slices.length, 6);
      assert.equal(lanesOf(runs['blocking-squares'], worker), 3);
      // In the done set's order, as Python's `wait` gives it: compared as a set.
      const squares = JSON.parse(runs['blocking-squares'].result.replace(/^Result: /, ''));
      assert.deepEqual(squares.sort((a, b) => a - b), [0, 1, 4, 9, 16, 25]);
      assert.equal(lanesOf(runs['blocking-squares-processes'], /^PID \d+$/), 3);
      assert.equal(lanesOf(runs['to-thread'], asyncio), 1);
      assert.equal(lanesOf(runs['run-in-executor'], asyncio), 1);
      assert.deepEqual(runs['cpu-bound'].slices.map(([, name]) => name), ['cpu_task(2000000)']);
      // One GET on each kind of worker the page has.
      assert.equal(runs['choose-executor'].slices.filter(([, name]) => name.startsWith('http_get')).length, threads ? 2 : 1);
    } finally {
      await page.close();
      if (!isolated) served.close();
    }
  });
}

// Scenario 1 in WebKit, as a picture beside Chromium's (docs/screenshots).
for (const browser of engines(['webkit'])) {
  test(`${browser}: scenario 1's screenshot`, async () => {
    const page = await openWebDriverPage(browser, `${site.url}/index.html?scenario=blocking-squares&run`);
    try {
      const status = await page.evaluate(async () => {
        await customElements.whenDefined('executor-timeline');
        const $ = (s) => document.querySelector('#demo').shadowRoot.querySelector(s);
        for (let i = 0; i < 300 && !/^Done/.test($('.status').textContent); i++) await new Promise((r) => setTimeout(r, 50));
        return $('.status').textContent;
      });
      assert.match(status, /^Done: /);
      await page.screenshot(screenshotPath(`scenario-1-threads-${browser}`));
    } finally {
      await page.close();
    }
  });
}
