// A job never runs twice. Process workers are killed at random moments while their
// jobs do something the outside can count: each job GETs a URL of its own from a
// server this test runs, which counts the requests. Python's rule holds: a job that
// may have begun is never sent again (it fails, naming the dead worker), and every
// future settles exactly once.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, request as httpRequest } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { engines, openIn, serveSite } from './harness.mjs';

/**
 * A loopback server that counts GETs of `/hit` by their `job` query and answers after
 * `ms`; everything else it passes on to the site at `site`, so that the page and the
 * URLs its jobs fetch share an origin (jobs fetch from the page's origin only).
 */
async function countingServer(ms, site) {
  const hits = new Map();
  const server = createServer((request, response) => {
    const url = new URL(request.url, 'http://x');
    if (url.pathname !== '/hit') {
      const upstream = httpRequest(`${site}${request.url}`, { method: request.method, headers: request.headers }, (answer) => {
        response.writeHead(answer.statusCode, answer.headers);
        answer.pipe(response);
      });
      request.pipe(upstream);
      return;
    }
    const job = url.searchParams.get('job');
    hits.set(job, (hits.get(job) ?? 0) + 1);
    setTimeout(() => {
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.end(`job ${job}`);
    }, ms);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${server.address().port}`, hits, close: () => server.close() };
}

// In the page: jobs GET their own URL on a pool of three while workers are killed at
// random moments (and once after the page was too busy to read their reports).
async function killAtRandom({ server, jobs, kills, seed }) {
  const { load } = await import('/www/showcase/showcase.js');
  const wx = await load();
  let state = seed;
  const random = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const pool = new wx.ProcessPoolExecutor({ maxWorkers: 3 });
  const callbacks = new Map();
  const futures = [];
  // Half through map (chunks of 4 go to one worker at once), half one by one.
  const half = jobs / 2;
  const mapped = pool.map('http_get', Array.from({ length: half }, (_, k) => `${server}/hit?job=${k}`), { chunksize: 4 });
  const mappedDone = (async () => {
    const values = [];
    try {
      for await (const value of mapped) values.push(value);
    } catch (error) {
      values.push(error.name);
    }
    return values;
  })();
  for (let k = half; k < jobs; k++) {
    const job = pool.submit('http_get', `${server}/hit?job=${k}`);
    job.addDoneCallback(() => callbacks.set(k, (callbacks.get(k) ?? 0) + 1));
    futures.push([k, job]);
  }
  let killed = 0;
  for (let i = 0; i < kills; i++) {
    await new Promise((r) => setTimeout(r, 20 + random() * 80));
    if (i === 1) {
      // The page busy for a while: workers finish jobs whose reports wait unread.
      const until = performance.now() + 400;
      while (performance.now() < until);
    }
    const alive = pool.workers;
    if (alive.length > 0 && pool.killWorker(Number(alive[Math.floor(random() * alive.length)]))) killed++;
  }
  const settled = await Promise.allSettled(futures.map(([, job]) => job));
  const mappedValues = await mappedDone;
  await pool.shutdown();
  return {
    killed,
    alive: pool.workersAlive,
    mappedValues: mappedValues.map((v) => (typeof v === 'string' ? v : v.status)),
    submitted: futures.map(([k, job], i) => ({
      k,
      status: settled[i].status,
      name: settled[i].reason?.name,
      message: settled[i].reason?.message,
      worker: job.worker,
      callbacks: callbacks.get(k) ?? 0,
    })),
  };
}

for (const browser of engines(['chromium', 'firefox', 'webkit'])) {
  describe(`${browser}: process workers killed at random moments`, () => {
    let site;
    let server;
    let opened;
    const runs = [];

    before(async () => {
      site = await serveSite({ isolated: false });
      server = await countingServer(40, site.url);
      opened = await openIn(browser, `${server.url}/index.html`);
      for (const seed of [7, 1234]) {
        server.hits.clear();
        const out = await opened.page.evaluate(killAtRandom, { server: server.url, jobs: 120, kills: 8, seed });
        runs.push({ out, hits: new Map(server.hits) });
      }
    });

    after(async () => {
      await opened?.close();
      site?.close();
      server?.close();
    });

    test('no job is sent twice: each URL is fetched at most once', () => {
      for (const { hits } of runs) {
        const twice = [...hits].filter(([, n]) => n > 1);
        assert.deepEqual(twice, [], `fetched more than once: ${JSON.stringify(twice)}`);
      }
    });

    test('every job settles once: done with its GET, or failed naming the dead worker', () => {
      for (const { out, hits } of runs) {
        assert.ok(out.killed >= 3, `workers were killed: ${out.killed}`);
        const failed = out.submitted.filter((j) => j.status === 'rejected').length + out.mappedValues.filter((v) => v === 'BrokenProcessPool').length;
        assert.ok(failed > 0, 'some jobs were handed to a killed worker');
        for (const job of out.submitted) {
          assert.equal(job.callbacks, 1, `job ${job.k}'s done callback ran once`);
          if (job.status === 'fulfilled') {
            assert.equal(hits.get(String(job.k)), 1, `job ${job.k} ran and was fetched once`);
          } else {
            assert.equal(job.name, 'BrokenProcessPool', job.message);
            assert.match(job.message, new RegExp(`^${job.worker} died while running http_get\\(".*job=${job.k}"\\): terminated by kill_worker`));
          }
        }
        // map gives each of its results in order up to the first that failed.
        const firstFailure = out.mappedValues.indexOf('BrokenProcessPool');
        assert.ok(firstFailure === -1 || firstFailure === out.mappedValues.length - 1, out.mappedValues.join());
        assert.equal(out.alive, 0, 'the pool replaced its workers and then let them go');
      }
    });
  });
}
