// Serves the repository root with `serve` on a free loopback port and drives Debian's
// Chromium with playwright-core: what the end-to-end tests share.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = fileURLToPath(new URL('../..', import.meta.url));

async function freePort() {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  return port;
}

/**
 * Starts the static server; resolves to `{ url, close }`. By default the site is
 * cross-origin isolated (serve.json); `{ isolated: false }` serves it without the two
 * headers, as most sites are; `{ config }` names another `serve` configuration.
 */
export async function serveSite({ isolated = true, config = isolated ? 'serve.json' : 'tests/e2e/serve.no-isolation.json' } = {}) {
  const port = await freePort();
  const server = spawn(
    process.execPath,
    ['node_modules/serve/build/main.js', '--no-clipboard', '--config', config, '--listen', `tcp://127.0.0.1:${port}`, '.'],
    { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${url}/index.html`)).ok) break;
    } catch {
      if (i > 100) throw new Error(`serve did not answer on ${url}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  // SIGKILL: serve's graceful close on SIGTERM waits for every kept-alive connection.
  return { url, close: () => server.kill('SIGKILL') };
}

/**
 * For a test file that runs both executors: before its tests, serves the site cross-
 * origin isolated (threads) and not (processes) and starts Chromium; after, stops them.
 * `siteFor(kind)` is the site a kind of executor runs on.
 */
export function bothSites() {
  const env = { siteFor: (kind) => (kind === 'ThreadPoolExecutor' ? env.isolated : env.plain) };
  before(async () => {
    env.isolated = await serveSite();
    env.plain = await serveSite({ isolated: false });
    if (engines(['chromium']).length) env.chromium = await launchChromium();
  });
  after(async () => {
    await env.chromium?.close();
    env.isolated?.close();
    env.plain?.close();
  });
  return env;
}

/** Debian's Chromium, headless, as root. */
export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      // window.gc(), so that the chaos test can read the JS heap after a collection,
      // and performance.memory read afresh each time, not from a cache.
      '--js-flags=--expose-gc',
      '--enable-precise-memory-info',
    ],
  });
}

/** A page that collects console errors and uncaught exceptions into `problems`. */
export async function openPage(browser, url) {
  const page = await browser.newPage();
  page.problems = [];
  page.on('pageerror', (error) => page.problems.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') page.problems.push(`console: ${message.text()}`);
  });
  await page.goto(url);
  return page;
}

/**
 * The engines this run tests: `E2E_BROWSERS` (a comma list of chromium, firefox,
 * webkit), or all three. `engines(list)` keeps those of `list` this run tests, so a
 * test file loops over `engines(['chromium', 'firefox', 'webkit'])`.
 */
const chosen = (process.env.E2E_BROWSERS ?? 'chromium,firefox,webkit').split(',').map((b) => b.trim());
export const engines = (list) => list.filter((browser) => chosen.includes(browser));

/** `test`, for a test that drives Chromium through Playwright: left out of a run without it. */
export const chromiumTest = (...args) => (chosen.includes('chromium') ? test(...args) : undefined);

/** The X display WebKitGTK draws on: `DISPLAY`, or an Xvfb of this process's own. */
let display;
async function xDisplay() {
  if (process.env.DISPLAY) return process.env.DISPLAY;
  display ??= (async () => {
    for (let n = 90; n < 140; n++) {
      const xvfb = spawn('Xvfb', [`:${n}`, '-screen', '0', '1280x900x24', '-nolisten', 'tcp'], { stdio: 'ignore' });
      const died = once(xvfb, 'exit').then(() => false);
      const up = new Promise((r) => setTimeout(() => r(true), 500));
      if (await Promise.race([died, up])) {
        process.on('exit', () => xvfb.kill());
        xvfb.unref();
        return `:${n}`;
      }
    }
    throw new Error('no X display: set DISPLAY, or install xvfb (scripts/setup.sh --test does)');
  })();
  return display;
}

/** How to start each W3C WebDriver, and the capabilities of a headless session. */
const drivers = {
  firefox: async () => ({
    command: process.env.GECKODRIVER ?? `${process.env.HOME}/.cargo/bin/geckodriver`,
    args: (port) => ['--port', String(port), '--host', '127.0.0.1'],
    env: {},
    capabilities: {
      browserName: 'firefox',
      'moz:firefoxOptions': {
        binary: process.env.FIREFOX ?? '/usr/bin/firefox-esr',
        args: ['-headless'],
        prefs: { 'network.connectivity-service.enabled': false, 'app.update.enabled': false },
      },
    },
  }),
  // WebKitGTK's MiniBrowser, on an X display. Linux WebKit keeps SharedArrayBuffer
  // behind a switch in the browser's environment (Safari has it on isolated pages).
  webkit: async ({ sharedArrayBuffer }) => ({
    command: process.env.WEBKITWEBDRIVER ?? '/usr/bin/WebKitWebDriver',
    args: (port) => [`--port=${port}`, '--host=127.0.0.1'],
    env: { DISPLAY: await xDisplay(), ...(sharedArrayBuffer ? { JSC_useSharedArrayBuffer: '1' } : {}), ...(process.env.JSC_EXTRA ? Object.fromEntries([process.env.JSC_EXTRA.split('=')]) : {}) },
    capabilities: {},
  }),
};

/**
 * `url` in Firefox (geckodriver) or WebKit (WebKitWebDriver), with the one call the
 * tests need: `evaluate(fn, arg)` runs `fn(arg)` in the page and resolves to its (JSON)
 * result, as Playwright's `page.evaluate` does (Playwright drives only its own Firefox
 * and WebKit builds). `{ sharedArrayBuffer: false }` starts WebKit without the switch.
 */
export async function openWebDriverPage(browser, url, { sharedArrayBuffer = true } = {}) {
  const driver = await drivers[browser]({ sharedArrayBuffer });
  const port = await freePort();
  const server = spawn(driver.command, driver.args(port), { stdio: process.env.WEBDRIVER_LOG ? 'inherit' : 'ignore', env: { ...process.env, ...driver.env } });
  const base = `http://127.0.0.1:${port}`;
  const call = async (method, path, body) => {
    const response = await fetch(base + path, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body && JSON.stringify(body),
    });
    const { value } = await response.json();
    if (value?.error) throw new Error(`${value.error}: ${value.message}`);
    return value;
  };
  for (let i = 0; ; i++) {
    try {
      await call('GET', '/status');
      break;
    } catch (error) {
      if (i > 100) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const { sessionId } = await call('POST', '/session', { capabilities: { alwaysMatch: driver.capabilities } });
  const session = `/session/${sessionId}`;
  await call('POST', `${session}/timeouts`, { script: 120_000, pageLoad: 60_000 });
  await call('POST', `${session}/url`, { url });
  return {
    async evaluate(fn, arg) {
      const script = `const done = arguments[1];
        Promise.resolve((${fn})(arguments[0])).then((ok) => done({ ok }), (e) => done({ error: String(e?.message ?? e) }));`;
      const { ok, error } = await call('POST', `${session}/execute/async`, { script, args: [arg ?? null] });
      if (error !== undefined) throw new Error(error);
      return ok;
    },
    /** A PNG of the window, `width` × `height` CSS pixels, written to `path`. */
    async screenshot(path, { width = 1400, height = 1000 } = {}) {
      await call('POST', `${session}/window/rect`, { width, height });
      writeFileSync(path, Buffer.from(await call('GET', `${session}/screenshot`), 'base64'));
    },
    async close() {
      await call('DELETE', session).catch(() => {});
      server.kill();
    },
  };
}

/**
 * `url` in `browser` ('chromium' through Playwright, 'firefox' and 'webkit' through
 * their WebDrivers): `{ page, close }`, where `page.evaluate` works in all three.
 */
export async function openIn(browser, url, options) {
  if (browser === 'chromium') {
    const chromium = await launchChromium();
    return { page: await openPage(chromium, url), close: () => chromium.close() };
  }
  const page = await openWebDriverPage(browser, url, options);
  return { page, close: () => page.close() };
}

/**
 * For `page.evaluate(inPage, { source, arg })`: runs `source` (a function's text) on
 * `arg` as a module script of the page, where the page's widgets and library live, and
 * resolves to its (JSON) result. (A WebDriver script's own `import()` can load a second
 * copy of the library, which would not see the widgets' runs.)
 */
export async function inPage({ source, arg = null }) {
  const out = document.documentElement.dataset;
  delete out.wxOut;
  const script = document.createElement('script');
  script.type = 'module';
  script.textContent = `(${source})(${JSON.stringify(arg)}).then(
    (value) => { document.documentElement.dataset.wxOut = JSON.stringify({ value }); },
    (error) => { document.documentElement.dataset.wxOut = JSON.stringify({ error: String(error?.stack ?? error) }); });`;
  document.head.append(script);
  while (!out.wxOut) await new Promise((r) => setTimeout(r, 50));
  const { value, error } = JSON.parse(out.wxOut);
  script.remove();
  if (error) throw new Error(error);
  return value;
}

/**
 * In a page (self-contained, for `page.evaluate`): `jobs` no-op jobs queued at once on a
 * pool of two of `kind`, all awaited. Resolves to how many were fulfilled, the time
 * from the first submit to the last result (ms), and the wasm heap each queued job
 * took, read between the last submit and the first await. The lifecycle test asserts
 * the count; the benchmark prints the rest.
 */
export async function queueAtOnce({ kind, jobs }) {
  const { load } = await import('/www/showcase/showcase.js');
  const wx = await load();
  const pool = new wx[kind]({ maxWorkers: 2 });
  const t0 = performance.now();
  const before = wx.heapInUse();
  const queued = Array.from({ length: jobs }, () => pool.submit('noop'));
  const bytesPerJob = (wx.heapInUse() - before) / jobs;
  const fulfilled = (await Promise.allSettled(queued)).filter((r) => r.status === 'fulfilled').length;
  const ms = performance.now() - t0;
  await pool.shutdown();
  queued.forEach((j) => j.free());
  pool.free();
  wx.clearRecords();
  return { fulfilled, ms, bytesPerJob };
}

/** Waits until every <executor-timeline> on `page` says its run is done. */
export async function widgetsDone(page, timeout = 60_000) {
  await page.waitForFunction(
    () => [...document.querySelectorAll('executor-timeline')].every((w) => /^Done/.test(w.shadowRoot.querySelector('.status').textContent)),
    null,
    { timeout },
  );
}

/** Where the tests keep screenshots: docs/screenshots with UPDATE_SCREENSHOTS=1 (the
 * README and docs/ link those), else target/screenshots. */
export function screenshotPath(name) {
  const folder = process.env.UPDATE_SCREENSHOTS ? 'docs/screenshots' : 'target/screenshots';
  return fileURLToPath(new URL(`../../${folder}/${name}.png`, import.meta.url));
}
