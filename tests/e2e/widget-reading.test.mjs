// <executor-timeline> as a reader meets it, in every engine: the legend, the log's ticks
// with their lines on hover and in a list (scenario 4 is about their order), the axis to
// the end of the run; then as a guest in a docs page: the wheel scrolls the page unless
// Ctrl is held or the timeline was clicked, a compact widget runs again, a tap on a bar
// shows its details; and a frame-gap readout that says what measured it and misses no
// freeze a page's own frame timer sees.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { engines, launchChromium, openWebDriverPage, screenshotPath, serveSite } from './harness.mjs';

let site;

before(async () => {
  site = await serveSite();
});

after(() => site?.close());

/** `url` in `browser`; Chromium through Playwright with a touch screen (real taps),
 * the others through WebDriver. `page.evaluate` works in all three. */
async function open(browser, url) {
  if (browser !== 'chromium') {
    const page = await openWebDriverPage(browser, url);
    return { page, close: () => page.close() };
  }
  const chromium = await launchChromium();
  const context = await chromium.newContext({ viewport: { width: 1280, height: 900 }, hasTouch: true });
  const page = await context.newPage();
  page.problems = [];
  page.on('pageerror', (error) => page.problems.push(`pageerror: ${error.message}`));
  await page.goto(url);
  return { page, close: () => chromium.close() };
}

/** In the page: a compact widget of scenario 2 with three jobs, in a page taller than
 * the window, run once; resolves when it is done. Leaves `geometryOf(selector)` on the
 * page: the canvas's box and lane height, as the model lays them out (a 22 px axis,
 * lanes of 14 to 34 px); and `guest()`: the widget, its canvas and tooltip, and that
 * geometry. */
async function addCompactWidget() {
  window.geometryOf = (selector) => {
    const w = document.querySelector(selector);
    const r = w.shadowRoot.querySelector('canvas').getBoundingClientRect();
    const lanes = w.trace().traceEvents.filter((e) => e.name === 'thread_name').length;
    return { left: r.left, top: r.top, width: r.width, lane: Math.min(34, Math.max(14, (r.height - 22) / lanes)) };
  };
  // The guest widget's parts the tests reach for, with its geometry.
  window.guest = () => {
    const w = document.querySelector('#guest');
    return { w, canvas: w.shadowRoot.querySelector('canvas'), tip: w.shadowRoot.querySelector('.tip'), ...window.geometryOf('#guest') };
  };
  await customElements.whenDefined('executor-timeline');
  const w = document.createElement('executor-timeline');
  for (const [k, v] of Object.entries({ scenario: 'blocking-squares-processes', jobs: '3', compact: '' })) w.setAttribute(k, v);
  w.id = 'guest';
  const space = (px) => Object.assign(document.createElement('div'), { style: `height: ${px}px` });
  document.body.append(space(300), w, space(3000));
  w.runs = 0;
  w.addEventListener('runstart', () => w.runs++);
  await w.run();
}

/** In Chromium: waits until the page's scrolling has come to rest; resolves to scrollY. */
async function scrolledTo(page) {
  let last = -1;
  for (;;) {
    await page.waitForTimeout(150);
    const now = await page.evaluate(() => window.scrollY);
    if (now === last) return now;
    last = now;
  }
}

for (const browser of engines(['chromium', 'firefox', 'webkit'])) {
  test(`${browser}: scenario 4 reads: a legend, log ticks with their lines on hover, the lines in order, the axis to the end of the run`, async () => {
    const { page, close } = await open(browser, `${site.url}/index.html?scenario=run-in-executor&block-ms=300&run`);
    try {
      const shown = await page.evaluate(async () => {
        await customElements.whenDefined('executor-timeline');
        for (let i = 0; i < 100 && !document.querySelector('#demo')?.shadowRoot; i++) await new Promise((r) => setTimeout(r, 50));
        const demo = document.querySelector('#demo');
        const $ = (s) => demo.shadowRoot.querySelector(s);
        const $$ = (s) => [...demo.shadowRoot.querySelectorAll(s)];
        for (let i = 0; i < 600 && !/^Done/.test($('.status')?.textContent ?? ''); i++) await new Promise((r) => setTimeout(r, 100));
        const canvas = $('canvas');
        const r = canvas.getBoundingClientRect();
        const lane = Math.min(34, Math.max(14, (r.height - 22) / 2));
        // Sweep each lane's band of ticks with the pointer; keep what the tooltip says.
        // Where a tick's tooltip shows, the list marks the same lines.
        const said = [[], []];
        const markedWithTip = new Set();
        for (const k of [0, 1]) {
          for (let x = 0; x < r.width; x += 1) {
            canvas.dispatchEvent(new PointerEvent('pointermove', { clientX: r.left + x, clientY: r.top + 22 + k * lane + 3, pointerType: 'mouse', bubbles: true }));
            const tip = $('.tip');
            if (tip.hidden) continue;
            const tipped = [...tip.querySelectorAll('strong')].map((s) => s.textContent);
            said[k].push(...tipped.filter((t) => !said[k].includes(t)));
            // A job's tooltip starts with its name; lines' tooltips are a row per line.
            const lines = tip.firstElementChild?.tagName === 'DIV';
            const marked = $$('.lines li.marked').map((li) => li.querySelector('.said').textContent);
            markedWithTip.add(JSON.stringify([lines ? tipped : [], marked]));
          }
        }
        canvas.dispatchEvent(new PointerEvent('pointerleave', { pointerType: 'mouse' }));
        // Pointing at a line in the list marks its tick: the canvas changes, and back.
        const pixels = () => canvas.toDataURL();
        const before = pixels();
        const third = $$('.lines li')[2];
        third.querySelector('.said').dispatchEvent(new PointerEvent('pointerover', { pointerType: 'mouse', bubbles: true }));
        const pointed = { line: demo.markedLine, changed: pixels() !== before };
        $('.lines ol').dispatchEvent(new PointerEvent('pointerleave', { pointerType: 'mouse' }));
        pointed.after = { line: demo.markedLine, same: pixels() === before, marked: $$('.lines li.marked').length };
        const records = demo.records();
        const ran = Math.max(...records.map((j) => j.finished)) - Math.min(...records.map((j) => j.submitted));
        return {
          status: $('.status').textContent,
          legend: $$('.legend li').map((li) => [li.children[1].textContent, li.children[2].textContent, li.children[0].className]),
          summary: $('.lines summary').textContent,
          lines: $$('.lines li').map((li) => [li.value, li.querySelector('.lane').textContent, li.querySelector('.said').textContent]),
          said,
          markedWithTip: [...markedWithTip].map((pair) => JSON.parse(pair)),
          pointed,
          view: demo.view,
          ran,
        };
      });
      assert.match(shown.status, /^Done/);
      assert.deepEqual(
        shown.legend.map(([label]) => label),
        ['blocking_task', 'failed', 'timed out', 'cancelled', 'queued', 'log line'],
      );
      assert.deepEqual(shown.legend[0], ['blocking_task', '1', 'swatch bar']);
      assert.deepEqual(shown.legend[1], ['failed', '0', 'swatch bar']);
      assert.deepEqual(shown.legend[3], ['cancelled', '0', 'swatch outline']);
      assert.equal(shown.legend[4][2], 'swatch strip');
      assert.deepEqual(shown.legend[5], ['log line', '4', 'swatch tick']);
      assert.equal(shown.summary, 'Log lines (4)');
      assert.deepEqual(
        shown.lines.map(([number, , said]) => [number, said]),
        [
          [1, 'main: Main running the blocking task'],
          [2, 'blocking_task: Task starting'],
          [3, 'main: Main doing other things'],
          [4, 'blocking_task: Task done'],
        ],
      );
      assert.deepEqual(shown.lines.map(([, lane]) => lane === 'MainThread'), [true, false, true, false]);
      assert.ok(shown.said[0].includes('main: Main running the blocking task') && shown.said[0].includes('main: Main doing other things'), shown.said[0].join());
      assert.ok(shown.said[1].includes('blocking_task: Task done'), shown.said[1].join());
      // The list marks exactly the lines whose ticks show in the tooltip.
      assert.ok(shown.markedWithTip.some(([tipped]) => tipped.length > 0));
      for (const [tipped, marked] of shown.markedWithTip) {
        assert.deepEqual(marked, tipped, `a tooltip of ${tipped.length ? tipped : 'a job'} marks ${marked}`);
      }
      assert.deepEqual(shown.pointed, { line: 3, changed: true, after: { line: null, same: true, marked: 0 } });
      // The job ran 0.3 s; main slept on for 1.3 s: the axis goes to the end of the run.
      assert.ok(shown.ran < 1000, `the job ran ${shown.ran} ms`);
      assert.ok(shown.view.from === 0 && shown.view.to >= 1300, JSON.stringify(shown.view));
      if (browser === 'chromium') {
        await page.setViewportSize({ width: 1280, height: 1000 });
        await page.locator('#demo').screenshot({ path: screenshotPath('timeline-legend') });
      }
    } finally {
      await close();
    }
  });

  test(`${browser}: the wheel scrolls the page unless Ctrl is held or the timeline was clicked`, async () => {
    const { page, close } = await open(browser, `${site.url}/tests/e2e/blank-widget.html`);
    try {
      await page.evaluate(addCompactWidget);
      const shown = await page.evaluate(async () => {
        const { w, canvas, left, top, width } = window.guest();
        const wheel = (init) => {
          const event = new WheelEvent('wheel', { deltaY: -200, clientX: left + width * 0.6, clientY: top + 40, bubbles: true, cancelable: true, ...init });
          canvas.dispatchEvent(event);
          return { zoomed: w.view.to - w.view.from, scrollsPage: !event.defaultPrevented };
        };
        const whole = w.view.to - w.view.from;
        const plain = wheel({});
        const hint = !w.shadowRoot.querySelector('.hint').hidden;
        const ctrl = wheel({ ctrlKey: true });
        canvas.dispatchEvent(new MouseEvent('dblclick', { bubbles: true }));
        const fitted = w.view.to - w.view.from;
        canvas.focus();
        const focused = wheel({});
        return { whole, plain, hint, ctrl, fitted, focused };
      });
      assert.deepEqual(shown.plain, { zoomed: shown.whole, scrollsPage: true }, 'a plain wheel is the page’s');
      assert.ok(shown.hint, 'the widget says how to zoom');
      assert.ok(shown.ctrl.zoomed < shown.whole * 0.9 && !shown.ctrl.scrollsPage, JSON.stringify(shown));
      assert.equal(shown.fitted, shown.whole);
      assert.ok(shown.focused.zoomed < shown.whole * 0.9 && !shown.focused.scrollsPage, 'clicked, the timeline takes the wheel');
      if (browser === 'chromium') {
        // A real wheel: the page scrolls and the timeline stays; with Ctrl it zooms.
        const view = () => page.evaluate(() => document.querySelector('#guest').view);
        await page.evaluate(() => {
          const canvas = document.querySelector('#guest').shadowRoot.querySelector('canvas');
          canvas.blur();
          canvas.dispatchEvent(new MouseEvent('dblclick', { bubbles: true }));
          window.scrollTo(0, 0);
        });
        const { left, top, width } = await page.evaluate(() => window.geometryOf('#guest'));
        const before = await view();
        await page.mouse.move(left + width * 0.6, top + 40);
        await page.mouse.wheel(0, 200);
        await page.waitForFunction(() => window.scrollY > 0);
        const scrolled = await scrolledTo(page);
        assert.deepEqual(await view(), before, 'the page scrolled, the timeline did not zoom');
        const { top: after } = await page.evaluate(() => window.geometryOf('#guest'));
        await page.mouse.move(left + width * 0.6, after + 40);
        await page.keyboard.down('Control');
        await page.mouse.wheel(0, -300);
        await page.keyboard.up('Control');
        const zoomed = await view();
        assert.ok(zoomed.to - zoomed.from < (before.to - before.from) * 0.9, JSON.stringify({ before, zoomed }));
        assert.equal(await scrolledTo(page), scrolled, 'Ctrl+wheel zoomed instead of scrolling');
      }
    } finally {
      await close();
    }
  });

  test(`${browser}: a compact widget runs again from its corner`, async () => {
    const { page, close } = await open(browser, `${site.url}/tests/e2e/blank-widget.html`);
    try {
      await page.evaluate(addCompactWidget);
      const shown = await page.evaluate(async () => {
        const w = document.querySelector('#guest');
        const $ = (s) => w.shadowRoot.querySelector(s);
        const replay = $('.replay');
        const before = { visible: getComputedStyle(replay).display !== 'none', text: replay.textContent, controls: getComputedStyle($('.controls')).display };
        const done = new Promise((r) => w.addEventListener('runcomplete', (e) => r(e.detail.records.length), { once: true }));
        // One jobfinished per job, heard where the page listens (it bubbles out of the
        // widget); its record is read when asked for.
        const finished = [];
        document.addEventListener('jobfinished', (e) => finished.push(e.detail.record));
        const started = new Promise((r) => w.addEventListener('runstart', () => r(replay.disabled), { once: true }));
        replay.click();
        const disabled = await started;
        const jobs = await done;
        await new Promise((r) => setTimeout(r, 50));
        const heard = finished.map((r) => [r.label, r.outcome, /^\d+$/.test(r.worker ?? '')]).sort();
        return { before, disabled, jobs, runs: w.runs, status: $('.status').textContent, bars: w.barCount, after: replay.disabled, heard, ids: new Set(finished.map((r) => r.id)).size };
      });
      assert.deepEqual(shown.before, { visible: true, text: 'Run again', controls: 'none' });
      assert.equal(shown.disabled, true, 'disabled while it runs');
      assert.equal(shown.jobs, 3);
      assert.equal(shown.runs, 2);
      assert.equal(shown.bars, 3);
      assert.match(shown.status, /^Done: 3 jobs/);
      assert.equal(shown.after, false);
      assert.deepEqual(shown.heard, [0, 1, 2].map((i) => [`blocks(${i})`, 'ok', true]), 'each job once, ended well, on a process (a pid)');
      assert.equal(shown.ids, 3);
    } finally {
      await close();
    }
  });

  test(`${browser}: a tap on a bar on a touch screen shows its details, and a tap on nothing hides them`, async () => {
    const { page, close } = await open(browser, `${site.url}/tests/e2e/blank-widget.html`);
    try {
      await page.evaluate(addCompactWidget);
      const shown = await page.evaluate(async () => {
        const { canvas, tip, left, top, width, lane } = window.guest();
        const touch = (type, x, y) =>
          canvas.dispatchEvent(new PointerEvent(type, { pointerId: 7, pointerType: 'touch', isPrimary: true, clientX: x, clientY: y, bubbles: true }));
        const tap = (x, y) => {
          touch('pointerdown', x, y);
          touch('pointerup', x, y);
          touch('pointerleave', x, y);
          return tip.hidden ? '' : tip.innerText.trim();
        };
        // Along the first worker's lane, below its ticks, until a bar answers.
        let details = '';
        let at;
        for (let x = left + 90; x < left + width && !details; x += 8) {
          details = tap(x, top + 22 + lane * 1.6);
          at = x;
        }
        const nothing = tap(left + width / 2, top + 22 + lane * 0.5);
        return { details, nothing, at: [at - left, 22 + lane * 1.6] };
      });
      assert.match(shown.details, /^blocks\(\d\)\nProcessPoolExecutor-\d+ on PID \d+\nqueued [\d.]+ ms · ran [\d.]+ ms\nresult \d$/);
      assert.equal(shown.nothing, '');
      if (browser === 'chromium') {
        // A real tap on the same spot.
        const { left, top } = await page.evaluate(() => window.geometryOf('#guest'));
        await page.touchscreen.tap(left + shown.at[0], top + shown.at[1]);
        const tip = await page.evaluate(() => {
          const t = document.querySelector('#guest').shadowRoot.querySelector('.tip');
          return t.hidden ? '' : t.innerText.trim();
        });
        assert.match(tip, /^blocks\(\d\)\nProcessPoolExecutor/);
      }
    } finally {
      await close();
    }
  });

  test(`${browser}: a bar's tooltip stays on its bar through a zoom and goes when the bar leaves the view; a tick's goes when the view moves`, async () => {
    const { page, close } = await open(browser, `${site.url}/tests/e2e/blank-widget.html`);
    try {
      await page.evaluate(addCompactWidget);
      const shown = await page.evaluate(async () => {
        const { canvas, tip, left, top, width, lane } = window.guest();
        const move = (x, y) => canvas.dispatchEvent(new PointerEvent('pointermove', { clientX: x, clientY: y, pointerType: 'mouse', bubbles: true }));
        const zoomIn = (x, y) => canvas.dispatchEvent(new WheelEvent('wheel', { deltaY: -300, ctrlKey: true, clientX: x, clientY: y, bubbles: true, cancelable: true }));
        const seen = () => ({ hidden: tip.hidden, head: tip.querySelector('strong')?.textContent, left: parseFloat(tip.style.left) });
        // The first bar along the first worker's lane, below its ticks.
        const y = top + 22 + lane * 1.6;
        let x = left + 90;
        for (; x < left + width && (tip.hidden || !/^blocks/.test(seen().head)); x += 4) move(x, y);
        const hovered = seen();
        zoomIn(x, y);
        const zoomed = seen();
        // Zoomed far in at the run's start, before any process worker had started.
        for (let i = 0; i < 12; i++) zoomIn(left + 171, y);
        const away = seen();
        canvas.dispatchEvent(new MouseEvent('dblclick', { bubbles: true }));
        // Main's first ticks, at the run's start.
        for (x = left + 80; x < left + width / 3 && (tip.hidden || /^blocks/.test(seen().head)); x += 1) move(x, top + 25);
        const tick = seen();
        zoomIn(x, top + 25);
        return { hovered, zoomed, away, tick, afterTick: seen() };
      });
      assert.equal(shown.hovered.hidden, false);
      assert.match(shown.hovered.head, /^blocks\(\d\)$/);
      assert.equal(shown.zoomed.hidden, false, 'zoomed about the bar, its tooltip stays');
      assert.equal(shown.zoomed.head, shown.hovered.head);
      // The bar grew about the pointer: the tooltip stays about where it was (WebKit
      // lays it out a few pixels off once it moves to the bar's foot).
      assert.ok(Math.abs(shown.zoomed.left - shown.hovered.left) < 16, JSON.stringify(shown));
      assert.equal(shown.away.hidden, true, 'the bar left the view, and its tooltip with it');
      assert.match(shown.tick.head, /^run_blocking_tasks: /);
      assert.equal(shown.afterTick.hidden, true, "a tick's tooltip goes when the view moves");
    } finally {
      await close();
    }
  });

  test(`${browser}: the frame-gap readout gives a figure, says what measured it, and misses no freeze the page's own frame timer sees`, async () => {
    const { page, close } = await open(browser, `${site.url}/tests/e2e/blank-widget.html`);
    try {
      const shown = await page.evaluate(async () => {
        await customElements.whenDefined('executor-timeline');
        const w = document.createElement('executor-timeline');
        // 4,000 jobs submitted at once: the page is busy before the run's first frame.
        for (const [k, v] of Object.entries({ scenario: 'free-form', executor: 'processes', workers: '2', jobs: '4000', 'block-ms': '1', 'cpu-jobs': '0', gets: '0' })) w.setAttribute(k, v);
        document.body.append(w);
        await new Promise((r) => setTimeout(r, 500));
        // A newcomer's own timer, as the issue measured it.
        let longest = 0;
        let last = performance.now();
        let going = true;
        const tick = () => {
          const now = performance.now();
          longest = Math.max(longest, now - last);
          last = now;
          if (going) requestAnimationFrame(tick);
        };
        requestAnimationFrame(tick);
        await w.run();
        await new Promise((r) => requestAnimationFrame(() => r()));
        going = false;
        return { own: longest, widget: w.longestFrameGap, readout: w.shadowRoot.querySelector('.gap').textContent, status: w.shadowRoot.querySelector('.status').textContent };
      });
      assert.match(
        shown.readout,
        /^longest frame gap \d+\.\d ms \(page frame timer \d+\.\d ms; (longest long animation frame \d+\.\d ms|no long animation frame over 50 ms|longest long task \d+\.\d ms|no long task over 50 ms|this browser reports no long frames)\)$/,
      );
      if (browser === 'chromium') assert.match(shown.readout, /long animation frame/, 'Chromium reports long animation frames');
      assert.match(shown.status, new RegExp(`longest frame gap ${shown.widget.toFixed(1)} ms`));
      // The page's timer began before the run and ended a frame after it, as the widget's did.
      assert.ok(shown.widget >= shown.own * 0.9, `the widget says ${shown.widget} ms where the page's own timer saw ${shown.own} ms`);
    } finally {
      await close();
    }
  });
}
