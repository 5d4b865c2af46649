// The example crate examples/own-jobs (its own Rust jobs, its own two builds, its own
// page) in each engine: on a cross-origin isolated page (threads and processes) and on
// one served without the two headers (processes on the plain build). Needs
// `bash examples/own-jobs/build.sh` first.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { engines, openIn, serveSite } from './harness.mjs';

// Runs in the example's page: what the page ran and showed, then what only a test asks.
async function exercise() {
  const { loaded, shown } = await import('/examples/own-jobs/main.js');
  const wx = await loaded;
  const { rows } = await shown;
  const failure = (job) => job.then((value) => `fulfilled with ${JSON.stringify(value)}`, (e) => e.message);
  const out = {
    build: wx.build,
    threadsAvailable: wx.threadsAvailable,
    jobNames: wx.jobNames(),
    rows,
    table: [...document.querySelectorAll('#jobs tbody tr')].map((tr) => [...tr.cells].map((td) => td.textContent)),
    log: document.querySelector('#log').textContent,
    records: wx.records().map(({ label, executor, worker, state }) => ({ label, executor, worker, state })),
    napLog: wx.logEntries().filter((l) => l.logger === 'nap'),
    // Everything the page fetched (the workers' own fetches are not listed here).
    fetched: performance.getEntriesByType('resource').map((e) => new URL(e.name).pathname),
  };

  // A process worker is a fresh instance of the plain build it was given: the
  // example's, so it knows count_primes and nap, and not the showcase's jobs.
  const processes = new wx.ProcessPoolExecutor({ maxWorkers: 1 });
  const counted = processes.submit('count_primes', 7919);
  out.process = {
    counted: await counted,
    worker: counted.worker,
    mapped: await processes.map('count_primes', [0, 3, 100, 100_000]),
    showcaseJob: await failure(processes.submit('blocks', 2)),
    unknown: await failure(processes.submit('no_such_job', 1)),
    tooLarge: await failure(processes.submit('count_primes', 100_000_001)),
    wrongArgs: await failure(processes.submit('nap', 'long')),
  };
  await processes.shutdown();

  if (wx.threadsAvailable) {
    const threads = new wx.ThreadPoolExecutor({ maxWorkers: 2 });
    out.threads = {
      mapped: await threads.map('count_primes', [0, 3, 100, 100_000]),
      showcaseJob: await failure(threads.submit('blocks', 2)),
      unknown: await failure(threads.submit('no_such_job', 1)),
    };
    await threads.shutdown();
  }
  return out;
}

const PRIMES_BELOW = { 10: 4, 1000: 168, 1000000: 78498, 10000000: 664579 };
const PID = /^100(0[1-9]|[1-9]\d)$/; // a process worker's id; 10000 is the page
const THREAD = /^ThreadPoolExecutor-\d+_\d+$/;

for (const browser of engines(['chromium', 'firefox', 'webkit'])) {
  for (const isolated of [true, false]) {
    describe(`own jobs from Rust: ${browser}, ${isolated ? 'cross-origin isolated page' : 'page without isolation headers'}`, () => {
      let site;
      let opened;
      let out;

      before(async () => {
        site = await serveSite({ isolated });
        opened = await openIn(browser, `${site.url}/examples/own-jobs/index.html`);
        out = await opened.page.evaluate(exercise);
      });

      after(async () => {
        await opened?.close();
        site?.close();
      });

      const executors = () => (isolated ? ['ThreadPoolExecutor', 'ProcessPoolExecutor'] : ['ProcessPoolExecutor']);

      test("the page runs the example's own builds and jobs, nothing of the showcase's", () => {
        assert.equal(out.build, isolated ? 'threads' : 'plain');
        assert.equal(out.threadsAvailable, isolated);
        assert.deepEqual(out.jobNames, ['count_primes', 'nap']);
        const glue = out.fetched.filter((path) => /\.(js|wasm)$/.test(path));
        assert.ok(glue.includes(`/examples/own-jobs/pkg/${out.build}/own_jobs.js`), glue.join('\n'));
        assert.ok(glue.includes(`/examples/own-jobs/pkg/${out.build}/own_jobs_bg.wasm`), glue.join('\n'));
        const foreign = glue.filter((path) => !path.startsWith('/examples/own-jobs/') && !path.startsWith('/www/library/'));
        assert.deepEqual(foreign, [], 'only the example and the library');
      });

      test('count_primes gives the number of primes below n, on each executor', () => {
        assert.deepEqual(
          out.rows.map((r) => r.executor),
          executors().flatMap((e) => Array(5).fill(e)),
        );
        for (const executor of executors()) {
          const counts = out.rows.filter((r) => r.executor === executor && r.label.startsWith('count_primes('));
          assert.deepEqual(
            counts.map((r) => [r.label, r.result, r.error]),
            Object.entries(PRIMES_BELOW).map(([n, count]) => [`count_primes(${n})`, count, null]),
          );
          for (const r of counts) assert.match(r.worker, executor === 'ThreadPoolExecutor' ? THREAD : PID);
        }
        const processWorker = out.process.worker;
        assert.match(processWorker, PID);
        assert.equal(out.process.counted, 999, 'primes below 7919, the 1000th');
        assert.deepEqual(out.process.mapped, [0, 1, 25, 9592]);
        if (isolated) assert.deepEqual(out.threads.mapped, [0, 1, 25, 9592]);
      });

      test('nap blocks a thread (it sleeps) and a process worker (it spins)', () => {
        const naps = out.rows.filter((r) => r.label === 'nap(300)');
        assert.deepEqual(
          naps.map((r) => r.executor),
          executors(),
        );
        for (const nap of naps) {
          if (nap.executor === 'ThreadPoolExecutor') {
            assert.match(nap.worker, THREAD);
            assert.equal(nap.result, 'napped 300 ms by sleeping');
          } else {
            assert.match(nap.worker, PID);
            assert.equal(nap.result, 'napped 300 ms by spinning (no shared memory to sleep on)');
          }
          assert.ok(nap.ms >= 295, `ran ${nap.ms} ms`);
        }
        // Its log lines, from the worker that ran it: a thread's name, or a process id.
        const napping = out.napLog.filter((l) => l.message === 'napping 300 ms');
        assert.equal(napping.length, naps.length, JSON.stringify(out.napLog));
        assert.ok(napping.some((l) => l.process !== 10000));
        if (isolated) assert.ok(napping.some((l) => l.process === 10000 && THREAD.test(l.thread)), JSON.stringify(napping));
        assert.equal(out.napLog.filter((l) => l.message === 'awake').length, naps.length);
      });

      test("the table shows each job, its result and its worker; the records carry the example's labels", () => {
        assert.deepEqual(
          out.table.map((cells) => cells.slice(0, 4)),
          out.rows.map((r) => [r.executor, r.label, JSON.stringify(r.result), r.worker]),
        );
        assert.match(out.log, /nap: napping 300 ms/);
        const pageJobs = out.records.slice(0, out.rows.length);
        assert.deepEqual(
          pageJobs.map((r) => [r.label, r.worker, r.state]),
          out.rows.map((r) => [r.label, r.worker, 'FINISHED']),
        );
        for (const r of pageJobs) assert.match(r.executor, /^(ThreadPoolExecutor|ProcessPoolExecutor)-\d+$/);
      });

      test('unknown names fail naming the job; the showcase\'s "blocks" is unknown to the example\'s workers', () => {
        const known = 'registered jobs: count_primes, nap';
        assert.equal(out.process.unknown, `no_such_job(1) failed: no job is registered as "no_such_job"; ${known}`);
        // Run by the process worker's registry: its wasm is the example's plain build.
        assert.equal(out.process.showcaseJob, `blocks(2) failed: no job is registered as "blocks"; ${known}`);
        if (isolated) {
          assert.equal(out.threads.unknown, `no_such_job(1) failed: no job is registered as "no_such_job"; ${known}`);
          assert.equal(out.threads.showcaseJob, `blocks(2) failed: no job is registered as "blocks"; ${known}`);
        }
        assert.equal(out.process.tooLarge, 'count_primes(100000001) failed: count_primes(100000001): n must be at most 100000000');
        assert.match(out.process.wrongArgs, /^nap\("long"\) failed: nap takes \(ms: integer\), got \["long"\]: invalid type/);
      });

      if (browser === 'chromium') {
        test('no console errors', () => assert.deepEqual(opened.page.problems, []));
      }
    });
  }
}
