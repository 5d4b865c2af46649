// The example crate examples/own-jobs (its own Rust jobs, its own two builds, its own
// page) in each engine: on a cross-origin isolated page (threads and processes) and on
// one served without the two headers (processes on the plain build). Needs
// `bash examples/own-jobs/build.sh` first.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { engines, openIn, serveSite } from './harness.mjs';

// Runs in the example's page: what the page ran and showed, read from the page (in
// Firefox, a WebDriver script's import() of main.js ran it a second time, apart from
// the page's), then what only a test asks, on the example's builds.
async function exercise() {
  const until = async (done) => {
    while (!done()) await new Promise((r) => setTimeout(r, 50));
  };
  await until(() => document.body.dataset.state);
  const failure = (job) => job.then((value) => `fulfilled with ${JSON.stringify(value)}`, (e) => e.message);
  const out = {
    state: document.body.dataset.state,
    status: document.querySelector('#status').textContent,
    rows: [...document.querySelectorAll('#jobs tbody tr')].map((tr) => {
      const [executor, label, shown, worker, ms] = [...tr.cells].map((td) => td.textContent);
      const failed = tr.className === 'failed';
      return { executor, label, result: failed ? null : JSON.parse(shown), error: failed ? shown : null, worker, ms: Number(ms) };
    }),
    log: document.querySelector('#log').textContent,
    // Everything the page fetched (the workers' own fetches are not listed here).
    fetched: performance.getEntriesByType('resource').map((e) => new URL(e.name).pathname),
  };

  const { load } = await import('/www/library/web-executors.js');
  const wx = await load({ builds: { threads: '/examples/own-jobs/pkg/threads/own_jobs.js', plain: '/examples/own-jobs/pkg/plain/own_jobs.js' } });
  Object.assign(out, { build: wx.build, threadsAvailable: wx.threadsAvailable, jobNames: wx.jobNames() });
  wx.clearRecords();

  // A process worker is a fresh instance of the plain build it was given: the
  // example's, so it knows count_primes and nap, and not the showcase's jobs.
  const processes = new wx.ProcessPoolExecutor({ maxWorkers: 1 });
  const counted = processes.submit('count_primes', 7919);
  const napped = processes.submit('nap', 50);
  out.process = {
    counted: await counted,
    worker: counted.worker,
    napped: await napped,
    nappedOn: napped.worker,
    mapped: await processes.map('count_primes', [0, 3, 100, 100_000]),
    showcaseJob: await failure(processes.submit('blocks', 2)),
    unknown: await failure(processes.submit('no_such_job', 1)),
    tooLarge: await failure(processes.submit('count_primes', 100_000_001)),
    wrongArgs: await failure(processes.submit('nap', 'long')),
  };
  await processes.shutdown();

  if (wx.threadsAvailable) {
    const threads = new wx.ThreadPoolExecutor({ maxWorkers: 2 });
    const napped = threads.submit('nap', 50);
    out.threads = {
      napped: await napped,
      nappedOn: napped.worker,
      mapped: await threads.map('count_primes', [0, 3, 100, 100_000]),
      showcaseJob: await failure(threads.submit('blocks', 2)),
      unknown: await failure(threads.submit('no_such_job', 1)),
    };
    await threads.shutdown();
  }
  out.records = wx.records().map(({ label, executor, worker, state }) => ({ label, executor, worker, state }));
  out.napLog = wx.logEntries().filter((l) => l.logger === 'nap');
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
        assert.equal(out.state, 'done', out.status);
        assert.equal(out.build, isolated ? 'threads' : 'plain');
        assert.equal(out.threadsAvailable, isolated);
        assert.deepEqual(out.jobNames, ['count_primes', 'nap']);
        assert.match(out.status, isolated ? /^Build: threads\. Jobs: count_primes, nap\.$/ : /^Build: plain \(no ThreadPoolExecutor: the page is not cross-origin isolated.*\)\. Jobs: count_primes, nap\.$/);
        const code = out.fetched.filter((path) => /\.(js|wasm)$/.test(path));
        assert.ok(code.includes(`/examples/own-jobs/pkg/${out.build}/own_jobs.js`), code.join('\n'));
        assert.ok(code.includes(`/examples/own-jobs/pkg/${out.build}/own_jobs_bg.wasm`), code.join('\n'));
        const foreign = code.filter((path) => !path.startsWith('/examples/own-jobs/') && !path.startsWith('/www/library/'));
        assert.deepEqual(foreign, [], 'only the example and the library');
      });

      test("the page's table: count_primes gives the number of primes below n, on each executor", () => {
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
      });

      test("the page's table: nap blocks a thread (it sleeps) and a process worker (it spins)", () => {
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
        // The page's log: each nap's two lines, a thread's named by the thread.
        assert.equal(out.log.match(/ nap: napping 300 ms$/gm)?.length, naps.length, out.log);
        assert.equal(out.log.match(/ nap: awake$/gm)?.length, naps.length, out.log);
        if (isolated) assert.match(out.log, /^ThreadPoolExecutor-\d+_\d+ +nap: napping 300 ms$/m);
      });

      test('on a process worker and on a thread: the right counts, the nap, its log lines, the records', () => {
        assert.equal(out.process.counted, 999, 'primes below 7919, the 1000th');
        assert.match(out.process.worker, PID);
        assert.deepEqual(out.process.mapped, [0, 1, 25, 9592]);
        assert.equal(out.process.napped, 'napped 50 ms by spinning (no shared memory to sleep on)');
        assert.match(out.process.nappedOn, PID);
        const napping = out.napLog.filter((l) => l.message === 'napping 50 ms');
        assert.ok(napping.some((l) => String(l.process) === out.process.nappedOn), JSON.stringify(out.napLog));
        const labels = [
          ['ProcessPoolExecutor', 'count_primes(7919)', 'nap(50)', 'count_primes(0)', 'count_primes(3)', 'count_primes(100)', 'count_primes(100000)'],
          ['ProcessPoolExecutor', 'blocks(2)', 'no_such_job(1)', 'count_primes(100000001)', 'nap("long")'],
        ];
        if (isolated) {
          assert.deepEqual(out.threads.mapped, [0, 1, 25, 9592]);
          assert.equal(out.threads.napped, 'napped 50 ms by sleeping');
          assert.match(out.threads.nappedOn, THREAD);
          assert.ok(napping.some((l) => l.process === 10000 && l.thread === out.threads.nappedOn), JSON.stringify(napping));
          labels.push(['ThreadPoolExecutor', 'nap(50)', 'count_primes(0)', 'count_primes(3)', 'count_primes(100)', 'count_primes(100000)', 'blocks(2)', 'no_such_job(1)']);
        }
        assert.deepEqual(
          out.records.map((r) => `${r.executor.replace(/-\d+$/, '')} ${r.label}`),
          labels.flatMap(([executor, ...jobs]) => jobs.map((job) => `${executor} ${job}`)),
        );
        for (const r of out.records) {
          assert.equal(r.state, 'FINISHED');
          assert.match(r.worker, r.executor.startsWith('Thread') ? THREAD : PID);
        }
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
