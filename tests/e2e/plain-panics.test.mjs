// The plain build is size-optimized (scripts/build.sh: opt-level z, wasm-opt) but keeps
// unwinding panics: a panicking job fails alone and its process worker lives on, in
// Chromium and in Firefox. (tests/web.rs checks the same of the threaded build.)
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { launchChromium, openFirefoxPage, openPage, serveSite } from './harness.mjs';

// Runs in the page.
async function panicOnProcess() {
  const { load } = await import('/www/web-executors.js');
  const wx = await load();
  const pool = new wx.ProcessPoolExecutor({ maxWorkers: 1 });
  const warmUp = pool.submit('noop');
  await warmUp;
  const panicking = pool.submit('panics', 'boom');
  const error = await panicking.then(() => null, (e) => e.message);
  const next = pool.submit('blocks', 3);
  const out = {
    build: wx.build,
    firstWorker: warmUp.worker,
    panicWorker: panicking.worker,
    error,
    next: await next,
    nextWorker: next.worker,
    alive: pool.workersAlive,
  };
  await pool.shutdown();
  return out;
}

for (const browser of ['chromium', 'firefox']) {
  describe(`${browser}, plain build: a panicking job`, () => {
    let site;
    let chromium;
    let page;
    let out;

    before(async () => {
      site = await serveSite({ isolated: false });
      const url = `${site.url}/index.html`;
      if (browser === 'chromium') {
        chromium = await launchChromium();
        page = await openPage(chromium, url);
      } else {
        page = await openFirefoxPage(url);
      }
      out = await page.evaluate(panicOnProcess);
    });

    after(async () => {
      await (chromium ?? page)?.close();
      site?.close();
    });

    test('fails alone; its process worker lives on and runs the next job', () => {
      assert.equal(out.build, 'plain');
      assert.match(out.error, /^panics\("boom"\) panicked on \d+: boom$/);
      assert.equal(out.panicWorker, out.firstWorker);
      assert.equal(out.next, 9);
      assert.equal(out.nextWorker, out.firstWorker, 'the same worker, not a replacement');
      assert.equal(out.alive, 1);
    });
  });
}
