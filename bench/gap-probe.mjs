import { launchChromium, openPage, serveSite, widgetsDone } from '../tests/e2e/harness.mjs';
const site = await serveSite();
const browser = await launchChromium();
const jobs = Number(process.env.JOBS ?? 50000);
const kind = process.env.KIND ?? 'threads';
try {
  const page = await openPage(browser, `${site.url}/index.html?scenario=free-form&executor=${kind}&workers=2&jobs=${jobs}&block-ms=1&cpu-jobs=0&gets=0`);
  await page.evaluate(() => customElements.whenDefined('executor-timeline'));
  await page.waitForFunction(() => document.querySelector('#demo').shadowRoot?.querySelector('button.run') && !document.querySelector('#demo').shadowRoot.querySelector('button.run').disabled && /at most/.test(document.querySelector('#demo').shadowRoot.querySelector('.status').textContent));
  await page.waitForTimeout(500);
  await page.evaluate(() => {
    window.__loaf = []; new PerformanceObserver((l) => window.__loaf.push(...l.getEntries().map((e) => ({ t: Math.round(e.startTime), d: Math.round(e.duration), block: Math.round(e.blockingDuration), render: Math.round(e.renderStart - e.startTime), layout: Math.round(e.styleAndLayoutStart - e.startTime), scripts: e.scripts.map((x) => `${x.invoker}|${x.sourceFunctionName}|${Math.round(x.duration)}ms|fwd ${Math.round(x.forcedStyleAndLayoutDuration)}`) })))).observe({ type: 'long-animation-frame', buffered: false });
    window.__gaps = [];
    let last = performance.now();
    const tick = (now) => { window.__gaps.push([last, now - last]); last = now; requestAnimationFrame(tick); };
    requestAnimationFrame(tick);
    window.__t0 = performance.now();
    document.querySelector('#demo').shadowRoot.querySelector('button.run').click();
  });
  await widgetsDone(page, 300000);
  await page.waitForTimeout(300);
  const r = await page.evaluate(() => {
    const g = window.__gaps.filter(([t]) => t >= window.__t0 - 20);
    const top = [...g].sort((a, b) => b[1] - a[1]).slice(0, 8).map(([t, d]) => [Math.round(t - window.__t0), Math.round(d)]);
    const over = (ms) => g.filter(([, d]) => d > ms).length;
    const loaf = [...window.__loaf].sort((a, b) => b.d - a.d).slice(0, 5).map((e) => ({ ...e, t: e.t - Math.round(window.__t0) }));
    return { loaf, frames: g.length, over34: over(34), over50: over(50), top, widget: document.querySelector('#demo').longestFrameGap };
  });
  console.log(JSON.stringify(r, null, 1));
} finally { await browser.close(); site.close(); }
