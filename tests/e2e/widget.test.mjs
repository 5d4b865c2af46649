// <executor-timeline> as docs embed it: www/showcase/embed.html served as most docs sites are
// (no isolation headers) and under a strict Content-Security-Policy; then with the
// headers; then bad attributes, a widget removed mid-run, and six widgets sharing one
// budget of workers; then embed.html again in Firefox.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { chromiumTest, engines, launchChromium, openPage, openWebDriverPage, screenshotPath, serveSite, widgetsDone } from './harness.mjs';

let strict;
let isolated;
let browser;

before(async () => {
  strict = await serveSite({ config: 'tests/e2e/serve.embed.json' });
  isolated = await serveSite();
  if (engines(['chromium']).length) browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  strict?.close();
  isolated?.close();
});

/** A page that also records CSP violations, before any of its own scripts run. */
async function openEmbed(site, path = 'www/showcase/embed.html') {
  const context = await browser.newContext({ viewport: { width: 900, height: 900 } });
  await context.addInitScript(() => {
    window.violations = [];
    document.addEventListener('securitypolicyviolation', (e) => window.violations.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  const page = await context.newPage();
  page.problems = [];
  page.on('pageerror', (error) => page.problems.push(`pageerror: ${error.message}`));
  page.on('console', (message) => message.type() === 'error' && page.problems.push(`console: ${message.text()}`));
  await page.goto(`${site.url}/${path}`);
  page.closeAll = () => context.close();
  return page;
}

/** Scrolls each widget into view in turn: one off screen does not start. */
async function scrollThrough(page) {
  const count = await page.locator('executor-timeline').count();
  for (let i = 0; i < count; i++) {
    await page.locator('executor-timeline').nth(i).scrollIntoViewIfNeeded();
    await page.waitForTimeout(300);
  }
}

const statuses = (page) => page.$$eval('executor-timeline', (ws) => ws.map((w) => w.shadowRoot.querySelector('.status').textContent));

chromiumTest('embed.html without isolation and under a strict CSP: three widgets run on process workers', async () => {
  const page = await openEmbed(strict);
  await page.waitForTimeout(1500);
  const before = await statuses(page);
  assert.match(before[2], /Waiting to scroll into view/, 'the widget off screen waits');
  await scrollThrough(page);
  await widgetsDone(page, 90_000);
  const shown = await page.$$eval('executor-timeline', (ws) =>
    ws.map((w) => ({ build: w.shadowRoot.querySelector('.build').textContent, trace: w.trace(), bars: w.barCount })),
  );
  for (const { build, trace, bars } of shown) {
    assert.match(build, /processes only/);
    const lanes = trace.traceEvents.filter((e) => e.name === 'thread_name').map((e) => e.args.name);
    assert.ok(lanes.slice(1).every((l) => /^PID \d+$/.test(l)), lanes.join());
    assert.ok(bars >= 1);
  }
  assert.deepEqual(shown.map((s) => s.bars), [6, 1, 1]);
  assert.deepEqual(await page.evaluate(() => window.violations), []);
  assert.deepEqual(page.problems, []);
  await page.screenshot({ path: screenshotPath('embed'), fullPage: true });
  await page.closeAll();
});

chromiumTest('the same page with the isolation headers runs on threads', async () => {
  const page = await openEmbed(isolated);
  await scrollThrough(page);
  await widgetsDone(page, 90_000);
  const shown = await page.$$eval('executor-timeline', (ws) =>
    ws.map((w) => ({ build: w.shadowRoot.querySelector('.build').textContent, lanes: w.trace().traceEvents.filter((e) => e.name === 'thread_name').map((e) => e.args.name) })),
  );
  assert.ok(shown.every((s) => /^threads/.test(s.build)));
  assert.match(shown[1].lanes[1], /^asyncio_\d$/, 'run_in_executor(None, …) ran on the default thread pool');
  assert.deepEqual(page.problems, []);
  await page.closeAll();
});

chromiumTest('a bad attribute shows what is wrong in the widget and, once, the console; the page goes on', async () => {
  const page = await openEmbed(strict);
  const messages = await page.evaluate(async () => {
    const add = (attributes) => {
      const w = document.createElement('executor-timeline');
      for (const [k, v] of Object.entries(attributes)) w.setAttribute(k, v);
      document.body.prepend(w);
      return w;
    };
    const bad = [
      add({ scenario: 'nope' }),
      add({ scenario: 'blocking-squares-processes', workers: '-2' }),
      add({ scenario: 'cpu-bound', executor: '<b>x</b>' }),
      add({ scenario: 'free-form', 'block-ms': '0', autoplay: '' }),
    ];
    const good = add({ scenario: 'blocking-squares-processes', jobs: '2', compact: '' });
    await new Promise((r) => setTimeout(r, 1500));
    const records = await good.run();
    return { bad: bad.map((w) => [w.shadowRoot.querySelector('.status').textContent, w.shadowRoot.querySelector('.status').className, w.shadowRoot.querySelectorAll('b').length]), good: records.length };
  });
  assert.match(messages.bad[0][0], /scenario="nope" is not a scenario; use one of blocking-squares, /);
  assert.match(messages.bad[1][0], /max_workers must be greater than 0 \(got workers: -2\)/, 'named as the attribute');
  assert.match(messages.bad[2][0], /executor must be "threads" or "processes" \(got "<b>x<\/b>"\)/);
  assert.match(messages.bad[3][0], /block-ms must be greater than 0 \(got block-ms: 0\)/);
  assert.ok(messages.bad.every(([, tone, bold]) => tone.includes('error') && bold === 0), 'shown as text, never as HTML');
  assert.equal(messages.good, 2);
  const consoleErrors = page.problems.filter((p) => p.includes('<executor-timeline>'));
  assert.equal(consoleErrors.length, 4, page.problems.join('\n'));
  assert.deepEqual(page.problems.filter((p) => !p.includes('<executor-timeline>')), []);
  await page.closeAll();
});

chromiumTest('a widget removed mid-run lets its workers go, and the next run is its own', async () => {
  const page = await openEmbed(strict, 'tests/e2e/blank-widget.html');
  const out = await page.evaluate(async () => {
    const { load } = await import('/www/showcase/showcase.js');
    const wx = await load();
    const w = document.createElement('executor-timeline');
    w.setAttribute('scenario', 'cpu-bound');
    w.setAttribute('n', '2000000000');
    w.setAttribute('workers', '2');
    document.body.append(w);
    const started = new Promise((r) => w.addEventListener('runstart', r, { once: true }));
    const run = w.run().catch((e) => e.message);
    await started;
    while (wx.liveWorkers().length === 0) await new Promise((r) => setTimeout(r, 20));
    const during = wx.liveWorkers().length;
    w.remove();
    const stopped = await run;
    for (let i = 0; i < 100 && wx.liveWorkers().length > 0; i++) await new Promise((r) => setTimeout(r, 20));
    const afterwards = wx.liveWorkers().length;
    const next = document.createElement('executor-timeline');
    next.setAttribute('scenario', 'blocking-squares-processes');
    document.body.append(next);
    const records = await next.run();
    return { during, stopped, afterwards, labels: records.map((r) => r.label), left: wx.liveWorkers().length };
  });
  assert.equal(out.during, 1, 'the CPU job had its worker');
  assert.match(out.stopped, /was stopped/);
  assert.equal(out.afterwards, 0, 'its worker was terminated');
  assert.deepEqual(out.labels.sort(), ['blocks(0)', 'blocks(1)', 'blocks(2)', 'blocks(3)', 'blocks(4)', 'blocks(5)']);
  assert.equal(out.left, 0);
  await page.closeAll();
});

chromiumTest('six widgets on a page never have more workers alive than the budget', async () => {
  const page = await openEmbed(strict, 'tests/e2e/blank-widget.html');
  await page.setViewportSize({ width: 900, height: 2400 }); // all six on screen
  const out = await page.evaluate(async () => {
    const { load } = await import('/www/showcase/showcase.js');
    const wx = await load();
    const widgets = [1, 2, 3, 1, 2, 3].map((workers) => {
      const w = document.createElement('executor-timeline');
      w.setAttribute('scenario', 'blocking-squares-processes');
      w.setAttribute('workers', String(workers));
      w.setAttribute('compact', '');
      w.setAttribute('height', '80');
      document.body.append(w);
      return w;
    });
    let most = 0;
    let waited = 0;
    const sampler = setInterval(() => {
      most = Math.max(most, wx.liveWorkers().length);
      waited = Math.max(waited, widgets.filter((w) => /Waiting for workers/.test(w.shadowRoot.querySelector('.status').textContent)).length);
    }, 5);
    const runs = await Promise.all(widgets.map((w) => w.run()));
    clearInterval(sampler);
    return { most, waited, jobs: runs.map((r) => r.length), budget: Math.max(navigator.hardwareConcurrency, 3) };
  });
  assert.deepEqual(out.jobs, [6, 6, 6, 6, 6, 6]);
  assert.ok(out.most <= out.budget, `${out.most} workers alive at once, budget ${out.budget}`);
  assert.ok(out.most >= 2, 'widgets did run side by side where the budget allowed');
  assert.ok(out.waited >= 1, 'a widget showed that it waited for workers');
  assert.deepEqual(page.problems, []);
  await page.closeAll();
});

for (const browser of engines(['firefox', 'webkit'])) {
  test(`${browser}: embed.html under the strict CSP runs its three widgets on process workers`, async () => {
    const page = await openWebDriverPage(browser, `${strict.url}/www/showcase/embed.html`);
    try {
      const shown = await page.evaluate(async () => {
        const widgets = [...document.querySelectorAll('executor-timeline')];
        const status = (w) => w.shadowRoot.querySelector('.status').textContent;
        // Each into view in turn: one off screen does not start.
        for (const w of widgets) {
          w.scrollIntoView();
          await new Promise((r) => setTimeout(r, 300));
        }
        for (let i = 0; i < 900 && !widgets.every((w) => /^Done/.test(status(w))); i++) await new Promise((r) => setTimeout(r, 100));
        return widgets.map((w) => ({ status: status(w), build: w.shadowRoot.querySelector('.build').textContent, bars: w.barCount }));
      });
      for (const { status, build } of shown) {
        assert.match(status, /^Done/);
        assert.match(build, /processes only/);
      }
      assert.deepEqual(shown.map((w) => w.bars), [6, 1, 1]);
    } finally {
      await page.close();
    }
  });
}
