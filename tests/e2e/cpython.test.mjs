// CPython's own tests of concurrent.futures and of asyncio's wait, as_completed, gather
// and to_thread, ported to the JavaScript API and run in real browsers: Chromium,
// Firefox and WebKit, each on a cross-origin isolated page (ThreadPoolExecutor) and on a page
// without the isolation headers (ProcessPoolExecutor). docs/cpython-tests.md maps each
// CPython test to its port here, and says why the others are not ported.
//
// Every test is named after the CPython test it ports. A page runs the cases of one
// (browser, executor) pair in a few big evaluates and returns plain data; the checks
// run here. Jobs stand in for CPython's helpers: `blocks_for(n, ms)` for a call that
// takes a while and returns n², `panics(msg)` for one that raises, a job queued behind
// a blocker on a one-worker pool for a pending future, and so on. Sleep lengths leave
// wide gaps (tens of ms against a second or more): the machine may be busy.
//
// One deliberate difference, asserted as this project behaves: a process worker that
// dies fails the jobs it had been handed (BrokenProcessPool, naming the worker) and the
// pool replaces the worker and goes on, where CPython marks the whole pool broken.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { engines, openIn, serveSite } from './harness.mjs';

/**
 * Runs in the page (sent to Firefox as text, so it holds everything it needs): the
 * cases named in `names`, one after another, each with its own pools, which are shut
 * down afterwards (process workers still busy are killed, so that they stop spinning).
 * Resolves to `{ [name]: data }`, plus `ms` (how long each case took).
 */
async function runCases({ kind, names }) {
  const { load } = await import('/www/showcase/showcase.js');
  const wx = await load();
  const processes = kind === 'ProcessPoolExecutor';
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const err = (e) => (e == null ? e : { name: e.name, message: e.message });
  /** A promise's outcome as data: `{ value }` or `{ error: { name, message } }`. */
  const settle = (p) => Promise.resolve(p).then((value) => ({ value }), (e) => ({ error: err(e) }));
  /** `f()`'s outcome, whether it throws at once or returns a promise that rejects. */
  const attempt = async (f) => {
    try {
      return { value: await f() };
    } catch (e) {
      return { error: err(e) };
    }
  };
  /** An `exception()` promise's outcome as data: the error it resolves to, as data. */
  const settleException = async (p) => {
    const e = await settle(p);
    return 'value' in e ? { value: err(e.value) } : e;
  };
  /** `p`'s outcome, or 'pending' if `ms` pass first. */
  const within = (p, ms) => Promise.race([settle(p), sleep(ms).then(() => 'pending')]);
  const range = (n) => Array.from({ length: n }, (_, i) => i);
  const tags = new Map();
  /** Names `job` for the data sent back (jobs themselves cannot cross). */
  const tag = (job, name) => (tags.set(job, name), job);
  const named = (jobs) => jobs.map((j) => tags.get(j) ?? '?').sort();
  const pools = [];
  /** A pool of this page's kind, shut down after the case. */
  const pool = (options) => {
    const p = new wx[kind](options);
    pools.push(p);
    return p;
  };
  /** A pool with `n` workers already started and idle, for cases where a cold start
   * (a process worker compiling its wasm on a busy machine) would blur an ordering. */
  const warm = async (n, options = {}) => {
    const p = pool({ maxWorkers: n, ...options });
    await Promise.all(range(n).map(() => p.submit('blocks_for', 0, 30)));
    return p;
  };
  const cleanup = async () => {
    for (const p of pools.splice(0)) {
      await p.shutdown({ wait: false, cancelFutures: true }).catch(() => {});
      if (processes) for (const pid of p.workers) p.killWorker(Number(pid));
    }
  };
  /** Waits (up to `ms`) until `p` has no worker alive; the count then. */
  const drained = async (p, ms = 10_000) => {
    for (let t = 0; t < ms && p.workersAlive > 0; t += 50) await sleep(50);
    return p.workersAlive;
  };
  /** CPython's module-level futures: one that returned (36), one that raised, one
   * cancelled while queued (on a one-worker pool, behind a job that has started). */
  const fixtures = async () => {
    const p = pool({ maxWorkers: 1 });
    const ok = tag(p.submit('blocks_for', 6, 0), 'ok');
    await ok;
    const failed = tag(p.submit('panics', 'boom'), 'failed');
    await failed.catch(() => {});
    const blocker = p.submit('blocks_for', 0, 100);
    await blocker.started();
    const cancelled = tag(p.submit('noop'), 'cancelled');
    if (!cancelled.cancel()) throw new Error('fixtures: a queued job could not be cancelled');
    return { ok, failed, cancelled };
  };
  /** A job on its own one-worker pool that fails with `message` after about `ms`. */
  const failsAfter = (ms, message) => {
    const q = pool({ maxWorkers: 1 });
    q.submit('blocks_for', 0, ms);
    return q.submit('panics', message);
  };
  /** Steps an async iterator `n` times: each value, each error, or 'done'. */
  const drive = async (it, n) => {
    const steps = [];
    for (let i = 0; i < n; i++) {
      try {
        const r = await it.next();
        steps.push(r.done ? 'done' : r.value);
      } catch (e) {
        steps.push({ error: err(e) });
      }
    }
    return steps;
  };
  /** The most records that ran at once. */
  const overlap = (records) => {
    const spans = records.filter((r) => r.started != null).map((r) => [r.started, r.finished ?? Infinity]);
    return Math.max(0, ...spans.map(([t]) => spans.filter(([s, f]) => s <= t && t < f).length));
  };
  const recordsOf = (p) => p.records().map((r) => ({ label: r.label, state: r.state, worker: r.worker, started: r.started != null }));
  /** The five states of CPython's fixtures, as jobs. */
  const states = async () => {
    const fx = await fixtures();
    const p = pool({ maxWorkers: 1 });
    const running = p.submit('blocks_for', 1, 1500);
    await running.started();
    const pending = p.submit('noop');
    return { pending, running, cancelled: fx.cancelled, failed: fx.failed, ok: fx.ok };
  };

  const cases = {
    // ---- executor.py: ExecutorTest ----
    'ExecutorTest.test_submit': async () => {
      const p = pool({ maxWorkers: 5 });
      return { value: await p.submit('blocks_for', 16, 0) };
    },
    'ExecutorTest.test_map': async () => {
      const p = pool({ maxWorkers: 5 });
      return { plain: await p.map('blocks', range(10)), chunked: await p.map('blocks', range(10), { chunksize: 3 }) };
    },
    'ExecutorTest.test_map_exception': async () => {
      const p = pool({ maxWorkers: 5 });
      const big = 4294967296;
      return {
        plain: await drive(p.map('blocks', [2, 3, big, 5])[Symbol.asyncIterator](), 6),
        chunked: await drive(p.map('blocks', [2, big, 3, 5], { chunksize: 3 })[Symbol.asyncIterator](), 6),
        awaited: await settle(p.map('blocks', [2, big, 3])),
      };
    },
    'ExecutorTest.test_map_timeout': async () => {
      const p = await warm(5);
      const steps = await drive(p.map('blocking_task', [0, 0, 2500], { timeout: 1 })[Symbol.asyncIterator](), 5);
      return { steps, records: recordsOf(p).filter((r) => r.label.startsWith('blocking_task')) };
    },
    'ExecutorTest.test_map_timeout_from_callable': async () => {
      // A job's own TimeoutError (here: its process overran the pool's jobTimeout and
      // was terminated) is that item's error, not the end of map().
      const p = pool({ maxWorkers: 2, jobTimeout: 0.5 });
      const out = {};
      for (const [key, options] of [['noTimeout', undefined], ['timeout', { timeout: 30 }]]) {
        out[key] = await drive(p.map('blocking_task', [0, 3000, 0, 0], options)[Symbol.asyncIterator](), 5);
      }
      return out;
    },
    'ExecutorTest.test_map_close': async () => {
      const run = async (options) => {
        const p = pool({ maxWorkers: 1 });
        const it = p.map('blocks', [2, 4294967296, 3, 5], options)[Symbol.asyncIterator]();
        const first = await it.next();
        const closed = await it.return();
        const after = [await it.next(), await it.next()];
        await p.shutdown({ wait: true });
        return { first, closed, after, records: recordsOf(p) };
      };
      return { plain: await run(), chunked: await run({ chunksize: 3 }) };
    },
    'ExecutorTest.test_shutdown_race_issue12456': async () => {
      const p = pool({ maxWorkers: 5 });
      p.map('blocks', [2, 2, 2, 2, 2, 2]); // never iterated
      const finished = await within(p.shutdown(), 20_000);
      return { finished: finished !== 'pending', records: recordsOf(p) };
    },
    'ExecutorTest.test_max_workers_negative': async () => ({
      zero: await attempt(() => new wx[kind]({ maxWorkers: 0 })),
      negative: await attempt(() => new wx[kind]({ maxWorkers: -1 })),
    }),

    // ---- test_thread_pool.py ----
    'ThreadPoolExecutorTest.test_map_submits_without_iteration': async () => {
      const p = pool({ maxWorkers: 5 });
      p.map('blocks', range(10)); // never iterated, not even kept
      self.gc?.(); // Chromium: a collection now, so that dropping the map is tested
      await sleep(50);
      await p.shutdown({ wait: true });
      return { records: recordsOf(p) };
    },
    'ThreadPoolExecutorTest.test_default_workers': async () => {
      const p = pool();
      return { maxWorkers: p.maxWorkers, cores: navigator.hardwareConcurrency };
    },
    'ThreadPoolExecutorTest.test_saturation': async () => {
      const p = pool({ maxWorkers: 4 });
      const jobs = range(60).map((i) => p.submit('blocks_for', i, 50));
      const aliveAtSubmit = p.workersAlive;
      await jobs[0].started();
      const aliveWhileBusy = p.workersAlive;
      const values = await Promise.all(jobs);
      return {
        aliveAtSubmit,
        aliveWhileBusy,
        aliveAfter: p.workersAlive,
        workers: new Set(jobs.map((j) => j.worker)).size,
        names: [...new Set(jobs.map((j) => j.worker))],
        overlap: overlap(p.records()),
        valuesOk: values.every((v, i) => v === i * i),
      };
    },
    'ThreadPoolExecutorTest.test_idle_thread_reuse': async () => {
      const p = pool();
      const workers = [];
      for (const k of [1, 2, 3]) {
        const j = p.submit('blocks_for', k, 0);
        await j;
        workers.push(j.worker);
      }
      return { workers, alive: p.workersAlive, name: p.name };
    },
    'ThreadPoolExecutorTest.test_executor_map_current_future_cancel': async () => {
      const p = pool({ maxWorkers: 1 });
      const first = p.submit('blocks_for', 1, 500);
      await first.started();
      const it = p.map('blocks', [2, 3], { timeout: 0 })[Symbol.asyncIterator]();
      const step = await settle(it.next());
      const value = await first;
      await p.shutdown({ wait: true });
      return { step, value, records: recordsOf(p) };
    },

    // ---- test_process_pool.py ----
    'ProcessPoolExecutorTest.test_killed_child': async () => {
      const p = pool({ maxWorkers: 5 });
      const j = p.submit('blocks_for', 1, 3000);
      await j.started();
      const pid = j.worker;
      const killed = p.killWorker(Number(pid));
      const outcome = await within(j, 2500);
      const later = await settle(p.submit('blocks', 3));
      return { pid, killed, outcome, later };
    },
    'ProcessPoolExecutorTest.test_broken_process_pool_traceback': async () => {
      const p = pool({ maxWorkers: 3 });
      const jobs = [1, 2, 3].map((k) => p.submit('blocks_for', k, 3000));
      await Promise.all(jobs.map((j) => j.started()));
      const pids = jobs.map((j) => j.worker);
      const killed = pids.map((pid) => p.killWorker(Number(pid)));
      const errors = await Promise.all(jobs.map((j) => j.then(() => null, (e) => e)));
      return {
        pids,
        killed,
        errors: errors.map(err),
        distinct: errors[0] !== errors[1] && errors[1] !== errors[2] && errors[0] !== errors[2],
      };
    },
    'ProcessPoolExecutorTest.test_map_chunksize': async () => {
      const p = pool({ maxWorkers: 5 });
      const xs = range(40);
      // The same sums in JavaScript, from 0 as Python's sum starts.
      const expected = xs.map((n) => {
        let s = 0;
        for (let i = 0; i < n; i++) s += Math.sqrt(i);
        return s;
      });
      const out = { expected };
      for (const c of [6, 50, 40]) out[c] = await p.map('sum_sqrt', xs, { chunksize: c });
      out.minusOne = await attempt(() => p.map('sum_sqrt', xs, { chunksize: -1 }));
      out.zero = await attempt(() => p.map('sum_sqrt', xs, { chunksize: 0 }));
      return out;
    },
    'ProcessPoolExecutorTest.test_traceback_when_child_process_terminates_abruptly': async () => {
      const p = pool({ maxWorkers: 1 });
      const t = p.submit('traps');
      return { outcome: await settle(t), worker: t.worker };
    },
    'ProcessPoolExecutorTest.test_saturation': async () => {
      const p = pool({ maxWorkers: 5 });
      const jobs = range(75).map((i) => p.submit('blocks_for', i, 20));
      const aliveAtSubmit = p.workersAlive;
      let most = aliveAtSubmit;
      const sampler = setInterval(() => (most = Math.max(most, p.workersAlive)), 5);
      const values = await Promise.all(jobs);
      clearInterval(sampler);
      return {
        aliveAtSubmit,
        most,
        aliveAfter: p.workersAlive,
        workers: new Set(jobs.map((j) => j.worker)).size,
        overlap: overlap(p.records()),
        valuesOk: values.every((v, i) => v === i * i),
      };
    },
    'ProcessPoolExecutorTest.test_idle_process_reuse_one': async () => {
      const p = pool();
      const workers = [];
      for (const k of [1, 2, 3]) {
        const j = p.submit('blocks_for', k, 0);
        await j;
        workers.push(j.worker);
      }
      return { workers, alive: p.workersAlive };
    },
    'ProcessPoolExecutorTest.test_idle_process_reuse_multiple': async () => {
      const p = pool({ maxWorkers: 5 });
      await p.submit('blocks_for', 1, 0);
      p.submit('blocks_for', 2, 0);
      await p.submit('blocks_for', 3, 0);
      p.submit('blocks_for', 4, 0);
      await p.submit('blocks_for', 5, 0);
      p.submit('blocks_for', 6, 0);
      const alive = p.workersAlive;
      await p.shutdown();
      return { alive };
    },
    'ProcessPoolExecutorTest.test_max_tasks_per_child': async () => {
      const p = pool({ maxWorkers: 1, maxTasksPerChild: 3 });
      const workers = [];
      for (const k of [1, 2, 3, 4]) {
        const j = p.submit('blocks_for', k, 0);
        await j;
        workers.push(j.worker);
      }
      return { workers, alive: p.workersAlive };
    },
    'ProcessPoolExecutorTest.test_max_tasks_per_child_pending_tasks_gh115634': async () => {
      const out = [];
      for (const [w, m, n] of [[1, 2, 6], [2, 2, 8]]) {
        const p = pool({ maxWorkers: w, maxTasksPerChild: m });
        const jobs = range(n).map((i) => p.submit('blocks_for', i, 0));
        const results = await Promise.all(jobs.map((j) => settle(j.result({ timeout: 30 }))));
        await p.shutdown({ wait: true, cancelFutures: true });
        out.push({ shape: [w, m, n], results });
      }
      return out;
    },
    'ProcessPoolExecutorTest.test_shutdown_no_wait_max_tasks_gh119592': async () => {
      const p = pool({ maxWorkers: 1, maxTasksPerChild: 1 });
      const jobs = [p.submit('blocks_for', 0, 300), p.submit('blocks_for', 1, 0), p.submit('blocks_for', 2, 0)];
      await jobs[0].started();
      await p.shutdown({ wait: false });
      const results = await Promise.all(jobs.map((j) => within(j, 15_000)));
      return { results, alive: await drained(p) };
    },
    'ProcessPoolExecutorTest.test_max_tasks_early_shutdown': async () => {
      const p = pool({ maxWorkers: 3, maxTasksPerChild: 1 });
      const jobs = range(6).map((i) => p.submit('blocks_for', i, 0));
      const finished = await within(p.shutdown({ wait: true }), 20_000);
      const results = await Promise.all(jobs.map((j) => within(j, 100)));
      return { finished: finished !== 'pending', results };
    },
    'ProcessPoolExecutorTest.test_force_shutdown_workers': async () => {
      const p = pool({ maxWorkers: 1 });
      const j = p.submit('blocks_for', 1, 5000);
      await j.started();
      const pid = j.worker;
      const killed = p.killWorker(Number(pid));
      return { pid, killed, outcome: await within(j, 4000) };
    },
    'ProcessPoolExecutorTest.test_force_shutdown_workers_dead_workers': async () => {
      const p = pool({ maxWorkers: 1 });
      const t = p.submit('traps');
      const outcome = await settle(t);
      const kill = await attempt(() => p.killWorker(Number(t.worker)));
      const later = await settle(p.submit('blocks', 2));
      return { outcome, kill, later };
    },

    // ---- test_shutdown.py ----
    'ExecutorShutdownTest.test_run_after_shutdown': async () => {
      const p = pool({ maxWorkers: 5 });
      await p.shutdown();
      return await attempt(() => p.submit('blocks_for', 2, 0));
    },
    'ExecutorShutdownTest.test_hang_issue12364': async () => {
      const p = pool({ maxWorkers: 5 });
      const jobs = range(50).map((k) => p.submit('blocks_for', k, 20));
      const finished = await within(p.shutdown(), 20_000);
      const results = await Promise.all(jobs.map((j) => within(j, 100)));
      return { finished: finished !== 'pending', valuesOk: results.every((r, k) => r.value === k * k) };
    },
    'ExecutorShutdownTest.test_cancel_futures': async () => {
      const p = pool({ maxWorkers: 5 });
      const jobs = range(50).map((k) => p.submit('blocks_for', k, 100));
      // A browser starts a worker only once the page yields: let one job begin, as
      // CPython's threads have by the time its test shuts the pool down.
      await jobs[0].started();
      await p.shutdown({ wait: true, cancelFutures: true });
      const cancelled = jobs.filter((j) => j.cancelled()).length;
      const others = jobs.filter((j) => !j.cancelled());
      const exceptions = await Promise.all(others.map((j) => j.exception({ timeout: 0 })));
      return { cancelled, ran: others.length, allDone: others.every((j) => j.done()), exceptions: exceptions.map(err) };
    },
    'ExecutorShutdownTest.test_hang_gh94440': async () => {
      const p = pool({ maxWorkers: 1 });
      await p.submit('noop');
      const c = p.submit('noop');
      c.cancel();
      const finished = await within(p.shutdown({ wait: true }), 5000);
      return { finished: finished !== 'pending', done: c.done() };
    },
    'ThreadPoolShutdownTest.test_threads_terminate': async () => {
      const p = pool({ maxWorkers: 5 });
      const jobs = [1, 2, 3].map((k) => p.submit('blocks_for', k, 300));
      await Promise.all(jobs.map((j) => j.started()));
      const alive = p.workersAlive;
      const names = jobs.map((j) => j.worker);
      await p.shutdown();
      return { alive, aliveAfter: p.workersAlive, left: wx.liveWorkers().filter((w) => names.includes(w)), values: await Promise.all(jobs) };
    },
    'ThreadPoolShutdownTest.test_context_manager_shutdown': async () => {
      const p = pool({ maxWorkers: 5 });
      const values = await p.map('blocks', [5, 4, 3, 2, 1, 0, 1, 2, 3, 4]);
      const names = [...new Set(p.records().map((r) => r.worker))];
      await p.shutdown();
      return { values, aliveAfter: p.workersAlive, left: wx.liveWorkers().filter((w) => names.includes(w)) };
    },
    'ThreadPoolShutdownTest.test_shutdown_no_wait': async () => {
      const p = pool({ maxWorkers: 5 });
      const results = p.map('blocks', [5, 4, 3, 2, 1, 0, 1, 2, 3, 4]);
      await p.shutdown({ wait: false });
      return { values: await results, alive: await drained(p) };
    },
    'ThreadPoolShutdownTest.test_thread_names_assigned': async () => {
      const p = pool({ maxWorkers: 5, threadNamePrefix: 'SpecialPool' });
      await p.map('blocks', [5, 4, 3, 2, 1, 0, 1, 2, 3, 4]);
      return { workers: [...new Set(p.records().map((r) => r.worker)), ...p.workers] };
    },
    'ThreadPoolShutdownTest.test_thread_names_default': async () => {
      const p = pool({ maxWorkers: 5 });
      await p.map('blocks', [5, 4, 3, 2, 1, 0, 1, 2, 3, 4]);
      return { workers: [...new Set(p.records().map((r) => r.worker)), ...p.workers] };
    },
    'ProcessPoolShutdownTest.test_processes_terminate': async () => {
      const p = pool({ maxWorkers: 5 });
      const jobs = [1, 2, 3].map((k) => p.submit('blocks_for', k, 300));
      await Promise.all(jobs.map((j) => j.started()));
      const alive = p.workersAlive;
      const names = jobs.map((j) => j.worker);
      await p.shutdown();
      return { alive, aliveAfter: p.workersAlive, left: wx.liveWorkers().filter((w) => names.includes(w)), values: await Promise.all(jobs) };
    },
    'ProcessPoolShutdownTest.test_context_manager_shutdown': async () => cases['ThreadPoolShutdownTest.test_context_manager_shutdown'](),
    'ProcessPoolShutdownTest.test_shutdown_no_wait': async () => cases['ThreadPoolShutdownTest.test_shutdown_no_wait'](),
    'ProcessPoolShutdownTest.test_shutdown_gh_132969_case_1': async () => gh132969(2),
    'ProcessPoolShutdownTest.test_shutdown_gh_132969_case_2': async () => gh132969(4),

    // ---- test_wait.py ----
    'WaitTests.test_20369': async () => {
      const p = pool({ maxWorkers: 5 });
      const j = p.submit('blocks_for', 1, 200);
      const { done, notDone } = await wx.wait([j, j], { returnWhen: 'ALL_COMPLETED' });
      return { done: done.length, same: done[0] === j, notDone: notDone.length };
    },
    'WaitTests.test_first_completed': async () => {
      const p = pool({ maxWorkers: 5 });
      const f1 = tag(p.submit('blocks_for', 21, 0), 'f1');
      const f2 = tag(p.submit('blocks_for', 1, 1500), 'f2');
      const r = await wx.wait([f1, f2], { returnWhen: 'FIRST_COMPLETED' });
      return { done: named(r.done), notDone: named(r.notDone), f2Done: f2.done() };
    },
    'WaitTests.test_first_completed_some_already_completed': async () => {
      const fx = await fixtures();
      const p = pool({ maxWorkers: 5 });
      const f1 = tag(p.submit('blocks_for', 1, 1500), 'f1');
      const r = await wx.wait([fx.cancelled, fx.ok, f1], { returnWhen: 'FIRST_COMPLETED' });
      return { done: named(r.done), notDone: named(r.notDone), f1Done: f1.done() };
    },
    'WaitTests.test_first_exception': async () => {
      const p = pool({ maxWorkers: 1 });
      const f1 = tag(p.submit('blocks_for', 6, 50), 'f1');
      const f2 = tag(p.submit('panics', 'this is an exception'), 'f2');
      const f3 = tag(p.submit('blocks_for', 1, 1500), 'f3');
      const r = await wx.wait([f1, f2, f3], { returnWhen: 'FIRST_EXCEPTION' });
      return { done: named(r.done), notDone: named(r.notDone) };
    },
    'WaitTests.test_first_exception_some_already_complete': async () => {
      const fx = await fixtures();
      const p = pool({ maxWorkers: 5 });
      const f1 = tag(p.submit('panics', 'division by zero'), 'f1');
      const f2 = tag(p.submit('blocks_for', 1, 1500), 'f2');
      const r = await wx.wait([fx.ok, fx.cancelled, f1, f2], { returnWhen: 'FIRST_EXCEPTION' });
      return { done: named(r.done), notDone: named(r.notDone) };
    },
    'WaitTests.test_first_exception_one_already_failed': async () => {
      const fx = await fixtures();
      const p = pool({ maxWorkers: 5 });
      const f1 = tag(p.submit('blocks_for', 1, 1500), 'f1');
      const r = await wx.wait([fx.failed, f1], { returnWhen: 'FIRST_EXCEPTION' });
      return { done: named(r.done), notDone: named(r.notDone), f1Done: f1.done() };
    },
    'WaitTests.test_all_completed': async () => {
      const fx = await fixtures();
      const p = pool({ maxWorkers: 5 });
      const f1 = tag(p.submit('panics', 'division by zero'), 'f1');
      const f2 = tag(p.submit('blocks_for', 21, 0), 'f2');
      const r = await wx.wait([fx.ok, fx.cancelled, fx.failed, f1, f2], { returnWhen: 'ALL_COMPLETED' });
      return { done: named(r.done), notDone: named(r.notDone) };
    },
    'WaitTests.test_timeout': async () => {
      const fx = await fixtures();
      const p = pool({ maxWorkers: 5 });
      const f = tag(p.submit('blocks_for', 1, 800), 'f');
      const r = await wx.wait([fx.cancelled, fx.failed, fx.ok, f], { timeout: 0.05, returnWhen: 'ALL_COMPLETED' });
      const cancelled = f.cancelled();
      return { done: named(r.done), notDone: named(r.notDone), cancelled, value: await settle(f) };
    },
    'ThreadPoolWaitTests.test_pending_calls_race': async () => {
      const p = pool({ maxWorkers: 5 });
      const fs = range(100).map((k) => p.submit('blocks_for', k, 1));
      const r = await within(wx.wait(fs, { returnWhen: 'ALL_COMPLETED' }), 20_000);
      if (r === 'pending') return { pending: true };
      const values = await Promise.all(fs);
      return { done: r.value.done.length, notDone: r.value.notDone.length, valuesOk: values.every((v, k) => v === k * k) };
    },

    // ---- test_as_completed.py ----
    'AsCompletedTests.test_no_timeout': async () => {
      const fx = await fixtures();
      const p = pool({ maxWorkers: 5 });
      const f1 = tag(p.submit('blocks_for', 21, 0), 'f1');
      const f2 = tag(p.submit('blocks_for', 7, 0), 'f2');
      const given = [fx.cancelled, fx.failed, fx.ok, f1, f2];
      const looped = [];
      for await (const j of wx.asCompleted(given)) looped.push(j);
      const awaited = await wx.asCompleted(given);
      return { looped: named(looped), awaited: named(awaited) };
    },
    'AsCompletedTests.test_future_times_out': async () => {
      const fx = await fixtures();
      const p = pool({ maxWorkers: 5 });
      const out = {};
      for (const timeout of [0, 0.1]) {
        const f = tag(p.submit('blocks_for', 1, 1000), 'f');
        const got = [];
        let error = null;
        try {
          for await (const j of wx.asCompleted([fx.cancelled, fx.failed, fx.ok, f], { timeout })) got.push(j);
        } catch (e) {
          error = err(e);
        }
        out[timeout] = { got: named(got), error, fCancelled: f.cancelled() };
      }
      return out;
    },
    'AsCompletedTests.test_duplicate_futures': async () => {
      const p = pool({ maxWorkers: 5 });
      const j = p.submit('blocks_for', 1, 200);
      const fromArray = [];
      for await (const x of wx.asCompleted([j, j, j])) fromArray.push(x === j);
      const fromGenerator = [];
      const repeat = function* () {
        for (let i = 0; i < 3; i++) yield j;
      };
      for await (const x of wx.asCompleted(repeat())) fromGenerator.push(x === j);
      return { fromArray, fromGenerator };
    },
    'AsCompletedTests.test_correct_timeout_exception_msg': async () => {
      const fx = await fixtures();
      const p = pool({ maxWorkers: 1 });
      const running = p.submit('blocks_for', 1, 1000);
      await running.started();
      const pending = p.submit('noop');
      return await attempt(() => wx.asCompleted([fx.cancelled, pending, running, fx.ok], { timeout: 0 }));
    },

    // ---- test_future.py ----
    'FutureTests.test_done_callback_with_result': async () => {
      const p = pool({ maxWorkers: 1 });
      const j = p.submit('blocks_for', 5, 100);
      const seen = {};
      j.addDoneCallback((f) => Object.assign(seen, { same: f === j, done: f.done(), state: f.state, result: f.result({ timeout: 0 }) }));
      const calledBefore = 'same' in seen;
      await j;
      const called = 'same' in seen;
      return { calledBefore, called, same: seen.same, done: seen.done, state: seen.state, result: called ? await settle(seen.result) : null };
    },
    'FutureTests.test_done_callback_with_exception': async () => {
      const p = pool({ maxWorkers: 1 });
      const j = p.submit('panics', 'test');
      let seen = null;
      j.addDoneCallback((f) => (seen = f.exception({ timeout: 0 })));
      await j.catch(() => {});
      return { called: seen !== null, exception: seen && (await settleException(seen)) };
    },
    'FutureTests.test_done_callback_with_cancel': async () => {
      const p = pool({ maxWorkers: 1 });
      const blocker = p.submit('blocks_for', 0, 300);
      await blocker.started();
      const q = p.submit('noop');
      let seen = null;
      q.addDoneCallback((f) => (seen = f.cancelled()));
      const cancelled = q.cancel();
      const seenAtOnce = seen;
      await sleep(0);
      return { cancelled, seenAtOnce, seenLater: seen };
    },
    'FutureTests.test_done_callback_raises': async () => {
      const p = pool({ maxWorkers: 1 });
      const reported = [];
      const onError = (e) => {
        reported.push(String(e.error?.message ?? e.message));
        e.preventDefault();
      };
      self.addEventListener('error', onError);
      const calls = [];
      const j = p.submit('blocks_for', 5, 50);
      j.addDoneCallback(() => {
        calls.push('raising');
        throw new Error('doh!');
      });
      j.addDoneCallback(() => calls.push('second'));
      await j;
      await sleep(50);
      self.removeEventListener('error', onError);
      return { calls, reported };
    },
    'FutureTests.test_done_callback_raises_already_succeeded': async () => {
      const p = pool({ maxWorkers: 1 });
      const reported = [];
      const onError = (e) => {
        reported.push(String(e.error?.message ?? e.message));
        e.preventDefault();
      };
      self.addEventListener('error', onError);
      const j = p.submit('blocks_for', 5, 0);
      await j;
      let called = false;
      const added = await attempt(() =>
        j.addDoneCallback(() => {
          called = true;
          throw new Error('doh!');
        }),
      );
      await sleep(50);
      self.removeEventListener('error', onError);
      return { threw: added.error ?? null, called, reported };
    },
    'FutureTests.test_done_callback_already_successful': async () => {
      const p = pool({ maxWorkers: 1 });
      const j = p.submit('blocks_for', 5, 0);
      await j;
      let seen = null;
      j.addDoneCallback((f) => (seen = { same: f === j, result: f.result({ timeout: 0 }) }));
      const atOnce = seen !== null;
      return { atOnce, same: seen?.same, result: seen && (await settle(seen.result)) };
    },
    'FutureTests.test_done_callback_already_failed': async () => {
      const p = pool({ maxWorkers: 1 });
      const j = p.submit('panics', 'test');
      await j.catch(() => {});
      let seen = null;
      j.addDoneCallback((f) => (seen = f.exception({ timeout: 0 })));
      const atOnce = seen !== null;
      return { atOnce, exception: seen && (await settleException(seen)) };
    },
    'FutureTests.test_done_callback_already_cancelled': async () => {
      const fx = await fixtures();
      let seen = null;
      fx.cancelled.addDoneCallback((f) => (seen = f.cancelled()));
      return { atOnce: seen };
    },
    'FutureTests.states': async () => {
      const s = await states();
      const keys = ['pending', 'running', 'cancelled', 'failed', 'ok'];
      const table = (f) => Object.fromEntries(keys.map((k) => [k, f(s[k])]));
      const out = {
        state: table((j) => j.state),
        cancelled: table((j) => j.cancelled()),
        done: table((j) => j.done()),
        running: table((j) => j.running()),
      };
      out.result = {};
      out.exception = {};
      for (const k of keys) {
        out.result[k] = await settle(s[k].result({ timeout: 0 }));
        out.exception[k] = await settleException(s[k].exception({ timeout: 0 }));
      }
      // cancel() last: it changes the pending job.
      out.cancel = table((j) => ({ cancel: j.cancel(), state: j.state, running: j.running() }));
      return out;
    },
    'FutureTests.test_result_with_success': async () => {
      const p = pool({ maxWorkers: 1 });
      const j = p.submit('blocks_for', 6, 300);
      return await settle(j.result({ timeout: 5 }));
    },
    'FutureTests.test_result_with_cancel': async () => {
      const p = pool({ maxWorkers: 1 });
      const blocker = p.submit('blocks_for', 1, 1500);
      await blocker.started();
      const q = p.submit('noop');
      setTimeout(() => q.cancel(), 300);
      return await settle(q.result({ timeout: 30 }));
    },
    'FutureTests.test_exception_with_success': async () => {
      const p = pool({ maxWorkers: 1 });
      p.submit('blocks_for', 1, 300);
      const j = p.submit('panics', 'x');
      return await settleException(j.exception({ timeout: 30 }));
    },

    // ---- test_init.py ----
    'InitializerMixin.test_initializer': async () => {
      const p = pool({ maxWorkers: 2, initializer: 'set_worker_value', initargs: ['initialized'] });
      const jobs = [p.submit('worker_value'), p.submit('worker_value')];
      const values = await Promise.all(jobs.map(settle));
      const plain = pool({ maxWorkers: 2 });
      return { values, withoutInitializer: await settle(plain.submit('worker_value')) };
    },
    'FailingInitializerMixin.test_initializer': async () => {
      const p = pool({ maxWorkers: 2, initializer: 'panics', initargs: ['error in initializer'] });
      const first = await attempt(() => p.submit('worker_value'));
      let later = null;
      for (let t = 0; t < 10_000 && !later; t += 50) {
        try {
          p.submit('noop');
          await sleep(50);
        } catch (e) {
          later = err(e);
        }
      }
      return { first, later };
    },

    // ---- test_deadlock.py ----
    'ExecutorDeadlockTest.test_crash_during_func_exec_on_worker': async () => {
      const p = pool({ maxWorkers: 2 });
      const t = p.submit('traps');
      const outcome = await within(t, 20_000);
      const later = await settle(p.submit('blocks', 2));
      const finished = await within(p.shutdown(), 20_000);
      return { outcome, worker: t.worker, later, finished: finished !== 'pending' };
    },
    'ExecutorDeadlockTest.test_error_during_func_exec_on_worker': async () => {
      const p = pool({ maxWorkers: 2 });
      const j = p.submit('panics', 'boom');
      const outcome = await within(j, 20_000);
      const finished = await within(p.shutdown(), 20_000);
      return { outcome, worker: j.worker, finished: finished !== 'pending' };
    },
    'ExecutorDeadlockTest.test_shutdown_deadlock': async () => {
      const p = pool({ maxWorkers: 1 });
      const b = p.submit('blocks_for', 1, 100);
      const t = p.submit('traps');
      const finished = await within(p.shutdown({ wait: true }), 20_000);
      return { finished: finished !== 'pending', blocker: await within(b, 100), trap: await within(t, 100) };
    },

    // ---- test_asyncio/test_tasks.py: wait ----
    'BaseTaskTests.test_wait': async () => {
      const p = await warm(2);
      const a = tag(p.submit('blocks_for', 1, 100), 'a');
      const b = tag(p.submit('blocks_for', 2, 150), 'b');
      const r1 = await wx.wait([b, a]);
      const bothDone = a.done() && b.done();
      const r2 = await within(wx.wait([b, a]), 1000);
      return { done: named(r1.done), notDone: named(r1.notDone), bothDone, again: r2 === 'pending' ? 'pending' : { done: named(r2.value.done), notDone: named(r2.value.notDone) } };
    },
    'BaseTaskTests.test_wait_duplicate_coroutines': async () => {
      const p = pool({ maxWorkers: 2 });
      const c = p.submit('blocks_for', 3, 50);
      const d = p.submit('blocks_for', 4, 50);
      const r = await wx.wait([c, c, d]);
      return { done: r.done.length, notDone: r.notDone.length, values: (await Promise.all(r.done)).sort((x, y) => x - y) };
    },
    'BaseTaskTests.test_wait_errors': async () => {
      const p = pool({ maxWorkers: 1 });
      const j = p.submit('noop');
      return {
        empty: await attempt(() => wx.wait([])),
        bogus: await attempt(() => wx.wait([j], { returnWhen: 'BOGUS' })),
        minusOne: await attempt(() => wx.wait([j], { returnWhen: -1 })),
      };
    },
    'BaseTaskTests.test_wait_first_completed': async () => {
      const p = await warm(2);
      const a = tag(p.submit('blocks_for', 1, 2000), 'a');
      const b = tag(p.submit('blocks_for', 2, 100), 'b');
      const r = await wx.wait([b, a], { returnWhen: 'FIRST_COMPLETED' });
      return { done: named(r.done), notDone: named(r.notDone), aDone: a.done(), b: await settle(b) };
    },
    'BaseTaskTests.test_wait_really_done': async () => {
      const p = pool({ maxWorkers: 2 });
      const a = tag(p.submit('noop'), 'a');
      const b = tag(p.submit('noop'), 'b');
      await a;
      await b;
      const r = await wx.wait([b, a], { returnWhen: 'FIRST_COMPLETED' });
      return { done: named(r.done), notDone: named(r.notDone) };
    },
    'BaseTaskTests.test_wait_first_exception': async () => {
      const p = await warm(2);
      const a = tag(p.submit('blocks_for', 1, 2000), 'a');
      const b = tag(p.submit('panics', 'err'), 'b');
      const r = await wx.wait([b, a], { returnWhen: 'FIRST_EXCEPTION' });
      return { done: named(r.done), notDone: named(r.notDone), aDone: a.done() };
    },
    'BaseTaskTests.test_wait_first_exception_in_wait': async () => {
      const p = pool({ maxWorkers: 1 });
      const a = tag(p.submit('blocks_for', 1, 2000), 'a');
      const b = tag(failsAfter(300, 'err'), 'b');
      const bDoneAtCall = b.done();
      const r = await wx.wait([b, a], { returnWhen: 'FIRST_EXCEPTION' });
      return { bDoneAtCall, done: named(r.done), notDone: named(r.notDone), aDone: a.done() };
    },
    'BaseTaskTests.test_wait_with_exception': async () => {
      const p = pool({ maxWorkers: 1 });
      const a = tag(p.submit('blocks_for', 1, 100), 'a');
      const b = tag(failsAfter(150, 'really'), 'b');
      const out = [];
      for (let i = 0; i < 2; i++) {
        const r = await wx.wait([b, a]);
        const failed = (await Promise.all(r.done.map((j) => j.exception({ timeout: 0 })))).filter(Boolean);
        out.push({ done: named(r.done), notDone: named(r.notDone), failed: failed.map(err) });
      }
      return out;
    },
    'BaseTaskTests.test_wait_with_timeout': async () => {
      const p = await warm(2);
      const a = tag(p.submit('blocks_for', 1, 100), 'a');
      const b = tag(p.submit('blocks_for', 2, 1500), 'b');
      const r = await wx.wait([b, a], { timeout: 0.5 });
      return { done: named(r.done), notDone: named(r.notDone), bCancelled: b.cancelled(), bDone: b.done() };
    },
    'BaseTaskTests.test_wait_concurrent_complete': async () => {
      const p = await warm(2);
      const a = tag(p.submit('blocks_for', 1, 100), 'a');
      const b = tag(p.submit('blocks_for', 2, 1500), 'b');
      const r = await wx.wait([b, a], { timeout: 0.4 });
      return { done: named(r.done), notDone: named(r.notDone), aDone: a.done(), bDone: b.done() };
    },
    'BaseTaskTests.test_wait_with_iterator_of_tasks': async () => {
      const p = pool({ maxWorkers: 2 });
      const a = tag(p.submit('blocks_for', 1, 100), 'a');
      const b = tag(p.submit('blocks_for', 2, 150), 'b');
      const r = await attempt(() => wx.wait(new Set([b, a]).values()));
      return r.error ? r : { done: named(r.value.done), notDone: named(r.value.notDone) };
    },
    'BaseTaskTests.test_wait_generator': async () => {
      const p = pool({ maxWorkers: 2 });
      const gen = function* () {
        for (let i = 0; i < 10; i++) yield p.submit('noop');
      };
      const r = await attempt(() => wx.wait(gen(), { returnWhen: 'ALL_COMPLETED' }));
      return r.error ? r : { done: r.value.done.length, notDone: r.value.notDone.length };
    },
    'BaseTaskTests.test_wait_invalid_args': async () => {
      const p = pool({ maxWorkers: 1 });
      const j = p.submit('noop');
      await j;
      return { oneJob: await attempt(() => wx.wait(j)), empty: await attempt(() => wx.wait([])) };
    },

    // ---- test_asyncio/test_tasks.py: as_completed ----
    'BaseTaskTests.test_as_completed': async () => {
      const p = await warm(3);
      const make = () => {
        const a = p.submit('blocks_for', 1, 10);
        const b = p.submit('blocks_for', 2, 10);
        const c = p.submit('blocks_for', 3, 600);
        return [b, c, a];
      };
      const awaited = await Promise.all(await wx.asCompleted(make()));
      const looped = [];
      for await (const j of wx.asCompleted(make())) looped.push(await j);
      return { awaited, looped };
    },
    'BaseTaskTests.test_as_completed_same_tasks_in_as_out': async () => {
      const p = pool({ maxWorkers: 4 });
      const jobs = [1, 2, 3, 4].map((k) => p.submit('blocks_for', k, 20 * k));
      const yielded = [];
      for await (const j of wx.asCompleted(jobs)) yielded.push(j);
      return { count: yielded.length, allGiven: yielded.every((j) => jobs.includes(j)), distinct: new Set(yielded).size };
    },
    'BaseTaskTests.test_as_completed_with_timeout': async () => {
      const p = await warm(2);
      const run = async (form) => {
        const a = tag(p.submit('blocks_for', 1, 100), 'a');
        const b = tag(p.submit('blocks_for', 2, 1500), 'b');
        const got = [];
        let error = null;
        try {
          if (form === 'loop') for await (const j of wx.asCompleted([a, b], { timeout: 0.5 })) got.push(j);
          else got.push(...(await wx.asCompleted([a, b], { timeout: 0.5 })));
        } catch (e) {
          error = err(e);
        }
        return { got: named(got), error, bCancelled: b.cancelled() };
      };
      return { loop: await run('loop'), awaited: await run('await') };
    },
    'BaseTaskTests.test_as_completed_with_unused_timeout': async () => {
      const p = pool({ maxWorkers: 1 });
      const a = p.submit('blocks_for', 1, 10);
      const looped = await attempt(async () => {
        const got = [];
        for await (const j of wx.asCompleted([a], { timeout: 1 })) got.push(await j);
        return got;
      });
      const awaited = await attempt(async () => Promise.all(await wx.asCompleted([a], { timeout: 1 })));
      return { looped, awaited };
    },
    'BaseTaskTests.test_as_completed_resume_iterator': async () => {
      const p = pool({ maxWorkers: 4 });
      const jobs = [0, 1, 2, 3].map((k) => p.submit('blocks_for', k, 50 * k));
      const it = wx.asCompleted(jobs);
      const got = [];
      for await (const j of it) {
        got.push(await j);
        if (got.length === 2) break;
      }
      const afterBreak = got.length;
      for await (const j of it) got.push(await j);
      return { afterBreak, values: got.sort((x, y) => x - y) };
    },
    'BaseTaskTests.test_as_completed_concurrent': async () => {
      const p = pool({ maxWorkers: 2 });
      const a = p.submit('blocks_for', 1, 50);
      const b = p.submit('blocks_for', 2, 50);
      const items = await wx.asCompleted([a, b]);
      const r = await wx.wait(items);
      return { items: items.length, values: (await Promise.all(r.done)).sort((x, y) => x - y) };
    },
    'BaseTaskTests.test_as_completed_duplicate_coroutines': async () => {
      const p = pool({ maxWorkers: 2 });
      const c = p.submit('blocks_for', 3, 30);
      const d = p.submit('blocks_for', 4, 30);
      const looped = [];
      for await (const j of wx.asCompleted([c, c, d])) looped.push(await j);
      const awaited = await Promise.all(await wx.asCompleted([c, c, d]));
      return { looped: looped.sort((x, y) => x - y), awaited: awaited.sort((x, y) => x - y) };
    },
    'BaseTaskTests.test_as_completed_invalid_args': async () => {
      const p = pool({ maxWorkers: 1 });
      const j = p.submit('noop');
      await j;
      return {
        called: await attempt(() => wx.asCompleted(j)),
        looped: await attempt(async () => {
          for await (const x of wx.asCompleted(j)) void x;
        }),
      };
    },

    // ---- test_asyncio/test_tasks.py: gather ----
    'GatherTestsBase.test_success': async () => {
      const p = await warm(3);
      const run = async (options) => {
        const a = p.submit('blocks_for', 2, 200);
        const b = p.submit('blocks_for', 1, 100);
        const c = p.submit('blocks_for', 3, 600);
        let settled = false;
        const g = wx.gather([a, b, c], options);
        g.then(() => (settled = true), () => (settled = true));
        await a;
        await b;
        const settledAfterAB = settled;
        const value = await g;
        return { value, settledAfterAB, cDone: c.done() };
      };
      return { plain: await run(), explicit: await run({ returnExceptions: false }) };
    },
    'GatherTestsBase.test_result_exception_success': async () => {
      const p = pool({ maxWorkers: 3 });
      const a = p.submit('blocks_for', 2, 200);
      const b = p.submit('blocks_for', 1, 100);
      const c = p.submit('blocks_for', 3, 300);
      return { value: await wx.gather([a, b, c], { returnExceptions: true }) };
    },
    'GatherTestsBase.test_one_exception': async () => {
      const p = await warm(5);
      const a = p.submit('blocks_for', 1, 0);
      const b = p.submit('panics', 'x');
      const rest = [3, 4, 5].map((k) => p.submit('blocks_for', k, 800));
      const gErr = await wx.gather([a, b, ...rest]).then(() => null, (e) => e);
      const restAtReject = rest.map((j) => ({ done: j.done(), cancelled: j.cancelled() }));
      const bErr = await b.then(() => null, (e) => e);
      return { error: err(gErr), same: gErr === bErr, bError: err(bErr), restAtReject, restLater: await Promise.all(rest.map(settle)) };
    },
    'GatherTestsBase.test_return_exceptions': async () => {
      const p = pool({ maxWorkers: 3 });
      const a = p.submit('blocks_for', 3, 100);
      const b = p.submit('blocks_for', 1, 50);
      const c = p.submit('panics', 'c');
      const d = failsAfter(400, 'd');
      const r = await wx.gather([a, b, c, d], { returnExceptions: true });
      return { dDone: d.done(), value: r.map((x) => (x instanceof Error ? { error: err(x) } : x)) };
    },
    'FutureGatherTests.test_constructor_empty_sequence_use_running_loop': async () => settle(wx.gather([])),
    'FutureGatherTests.test_one_cancellation': async () => {
      const p = pool({ maxWorkers: 4 });
      const q = pool({ maxWorkers: 1 });
      const a = p.submit('blocks_for', 1, 0);
      await a;
      const blocker = q.submit('blocks_for', 0, 1000);
      await blocker.started();
      const b = q.submit('noop');
      const rest = [3, 4, 5].map((k) => p.submit('blocks_for', k, 800));
      const g = wx.gather([a, b, ...rest]);
      const cancelled = b.cancel();
      const outcome = await settle(g);
      return { cancelled, outcome, restDone: rest.map((j) => j.done()) };
    },
    'FutureGatherTests.test_result_exception_one_cancellation': async () => {
      const p = pool({ maxWorkers: 3 });
      const q = pool({ maxWorkers: 1 });
      const blocker = q.submit('blocks_for', 0, 500);
      await blocker.started();
      const a = p.submit('blocks_for', 1, 0);
      const b = p.submit('panics', 'zde');
      const c = q.submit('noop');
      const d = p.submit('blocks_for', 3, 100);
      const e = q.submit('noop');
      const f = p.submit('panics', 'rte');
      const g = wx.gather([a, b, c, d, e, f], { returnExceptions: true });
      const cancels = [c.cancel(), e.cancel()];
      const r = await g;
      return { cancels, value: r.map((x) => (x instanceof Error ? { error: err(x) } : x)) };
    },
    'CoroutineGatherTests.test_duplicate_coroutines': async () => {
      const p = pool({ maxWorkers: 2 });
      const c = p.submit('blocks_for', 3, 50);
      const d = p.submit('blocks_for', 4, 50);
      const value = await wx.gather([c, c, d, c]);
      return { value, runsOfC: p.records().filter((r) => r.label === 'blocks_for(3, 50)').length };
    },
    'CoroutineGatherTests.test_exception_marking': async () => {
      const unhandled = [];
      const onUnhandled = (e) => {
        unhandled.push(String(e.reason?.message ?? e.reason));
        e.preventDefault();
      };
      self.addEventListener('unhandledrejection', onUnhandled);
      const p = pool({ maxWorkers: 1 });
      const a = p.submit('panics', 'should not be ignored');
      const b = p.submit('panics', 'should not be ignored');
      const outcome = await settle(wx.gather([a, b]));
      for (let t = 0; t < 10_000 && !b.done(); t += 20) await sleep(20);
      await sleep(200);
      self.removeEventListener('unhandledrejection', onUnhandled);
      return { outcome, bDone: b.done(), unhandled };
    },
    'CoroutineGatherTests.test_issue46672': async () => {
      const p = pool({ maxWorkers: 1 });
      const logged = [];
      const consoleError = console.error;
      console.error = (...args) => logged.push(args.map(String).join(' '));
      const onError = (e) => logged.push(`error event: ${e.message}`);
      self.addEventListener('error', onError);
      try {
        const j = p.submit('blocks_for', 2, 0);
        const outcome = await attempt(() => wx.gather([j, {}]));
        const value = await settle(j);
        await sleep(50);
        return { outcome, value, logged };
      } finally {
        console.error = consoleError;
        self.removeEventListener('error', onError);
      }
    },

    // ---- test_asyncio/test_threads.py: to_thread on the default executor ----
    'ToThreadTests.test_to_thread': async () => {
      const j = wx.toThread('blocks_for', 6, 0);
      return { outcome: await settle(j), worker: j.worker };
    },
    'ToThreadTests.test_to_thread_exception': async () => settle(wx.toThread('panics', 'test')),
    'ToThreadTests.test_to_thread_once': async () => {
      const j = wx.toThread('noop');
      const outcome = await settle(j);
      const id = j.record().id;
      return { outcome, records: wx.records().filter((r) => r.id === id).map((r) => ({ label: r.label, state: r.state, executor: r.executor })) };
    },
    'ToThreadTests.test_to_thread_concurrent': async () => {
      const jobs = range(10).map(() => wx.toThread('noop'));
      const value = await wx.gather(jobs);
      const ids = jobs.map((j) => j.record().id);
      const records = wx.records().filter((r) => ids.includes(r.id));
      return { value, records: records.length, distinct: new Set(records.map((r) => r.id)).size, allFinished: records.every((r) => r.state === 'FINISHED') };
    },
  };

  /** Python's gh-132969 cases: a pool of `workers`, one task per child; sum the results
   * in order up to the first error, shut down without waiting. */
  async function gh132969(workers) {
    const p = pool({ maxWorkers: workers, maxTasksPerChild: 1 });
    const fs = [p.submit('blocks_for', 1, 100), p.submit('panics', 'failing task'), p.submit('blocks_for', 3, 300)];
    let sum = 0;
    for (const f of fs) {
      try {
        sum += await f;
      } catch {
        break;
      }
    }
    await p.shutdown({ wait: false });
    const outcomes = await Promise.all(fs.map((f) => within(f, 15_000)));
    return { sum, outcomes, alive: await drained(p) };
  }

  const out = { ms: {} };
  for (const name of names) {
    const t0 = performance.now();
    try {
      if (!cases[name]) throw new Error(`no case ${name}`);
      out[name] = await Promise.race([cases[name](), sleep(45_000).then(() => ({ crashed: 'case still going after 45 s' }))]);
    } catch (e) {
      out[name] = { crashed: `${e?.name}: ${e?.message}\n${e?.stack ?? ''}` };
    }
    await cleanup();
    out.ms[name] = Math.round(performance.now() - t0);
  }
  return out;
}

// ---------------------------------------------------------------------------------
// The checks: one per CPython test, each run for every (browser, executor) pair it
// applies to. `pools`: 'both', 'threads' or 'processes'. `group`: which evaluate runs it.

const THREADS = 'ThreadPoolExecutor';
/** A worker's name in messages: a thread's name or a process id. */
const workerPattern = (kind) => (kind === THREADS ? 'ThreadPoolExecutor-\\d+_\\d+' : '\\d+');
const errorIs = (outcome, name, pattern) => {
  assert.ok(outcome?.error, `expected an error, got ${JSON.stringify(outcome)}`);
  assert.equal(outcome.error.name, name, JSON.stringify(outcome.error));
  if (pattern) assert.match(outcome.error.message, pattern);
};
const squares = (xs) => xs.map((x) => x * x);

const checks = [
  // executor.py
  {
    name: 'ExecutorTest.test_submit', title: 'submit() resolves to the job\'s result', pools: 'both', group: 'executor',
    check: (r) => assert.equal(r.value, 256),
  },
  {
    name: 'ExecutorTest.test_map', title: 'map() gives the results in input order, with and without chunksize', pools: 'both', group: 'executor',
    check: (r) => {
      assert.deepEqual(r.plain, squares([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
      assert.deepEqual(r.chunked, squares([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
    },
  },
  {
    name: 'ExecutorTest.test_map_exception', title: 'a failed item raises at its place in map(), and the items after it still come', pools: 'both', group: 'executor',
    check: (r) => {
      const bad = /^blocks\(4294967296\) failed: .*n² does not fit in 64 bits/;
      const [a0, a1, a2, ...aRest] = r.plain;
      assert.deepEqual([a0, a1], [4, 9]);
      errorIs(a2, 'JobError', bad);
      assert.deepEqual(aRest, [25, 'done', 'done']);
      const [b0, b1, ...bRest] = r.chunked;
      assert.equal(b0, 4);
      errorIs(b1, 'JobError', bad);
      assert.deepEqual(bRest, [9, 25, 'done', 'done']);
      errorIs(r.awaited, 'JobError', bad);
    },
  },
  {
    name: 'ExecutorTest.test_map_timeout', title: 'map(timeout) gives what finished in time, then TimeoutError, then nothing', pools: 'both', group: 'executor',
    check: (r) => {
      const [s0, s1, s2, ...rest] = r.steps;
      assert.deepEqual([s0, s1], [null, null]);
      errorIs(s2, 'TimeoutError', /^blocking_task\(2500\) was not done within 1 s/);
      assert.deepEqual(rest, ['done', 'done']);
    },
  },
  {
    name: 'ExecutorTest.test_map_timeout_from_callable', title: 'a job\'s own TimeoutError (jobTimeout) fails its item only; map goes on', pools: 'processes', group: 'executor',
    check: (r) => {
      for (const steps of [r.noTimeout, r.timeout]) {
        const [s0, s1, ...rest] = steps;
        assert.equal(s0, null);
        errorIs(s1, 'TimeoutError', /^blocking_task\(3000\) timed out after 500 ms on \d+, which was terminated$/);
        assert.deepEqual(rest, [null, null, 'done']);
      }
    },
  },
  {
    name: 'ExecutorTest.test_map_close', title: 'closing map()\'s iterator early ends it and cancels what had not started', pools: 'both', group: 'executor',
    check: (r) => {
      for (const run of [r.plain, r.chunked]) {
        assert.deepEqual(run.first, { done: false, value: 4 });
        assert.equal(run.closed.done, true);
        assert.deepEqual(run.after.map((a) => a.done), [true, true]);
        const five = run.records.find((x) => x.label === 'blocks(5)');
        assert.deepEqual([five.state, five.started], ['CANCELLED', false], JSON.stringify(run.records));
      }
    },
  },
  {
    name: 'ExecutorTest.test_shutdown_race_issue12456', title: 'shutdown() returns with a map never iterated, and its jobs all ran', pools: 'both', group: 'executor',
    check: (r) => {
      assert.equal(r.finished, true);
      assert.equal(r.records.length, 6);
      assert.ok(r.records.every((x) => x.state === 'FINISHED'), JSON.stringify(r.records));
    },
  },
  {
    name: 'ExecutorTest.test_max_workers_negative', title: 'maxWorkers 0 and -1 throw ValueError', pools: 'both', group: 'executor',
    check: (r, { kind }) => {
      errorIs(r.zero, 'ValueError');
      assert.equal(r.zero.error.message, `${kind}: max_workers must be greater than 0 (got maxWorkers: 0)`);
      errorIs(r.negative, 'ValueError');
      assert.equal(r.negative.error.message, `${kind}: max_workers must be greater than 0 (got maxWorkers: -1)`);
    },
  },
  // test_thread_pool.py
  {
    name: 'ThreadPoolExecutorTest.test_map_submits_without_iteration', title: 'map() submits every call up front, even never iterated', pools: 'threads', group: 'executor',
    check: (r) => {
      assert.deepEqual(r.records.map((x) => x.label).sort(), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9].map((k) => `blocks(${k})`).sort());
      assert.ok(r.records.every((x) => x.state === 'FINISHED'), JSON.stringify(r.records));
    },
  },
  {
    name: 'ThreadPoolExecutorTest.test_default_workers', title: 'the default maxWorkers is min(32, cores + 4)', pools: 'threads', group: 'executor',
    check: (r) => assert.equal(r.maxWorkers, Math.min(32, r.cores + 4)),
  },
  {
    name: 'ThreadPoolExecutorTest.test_saturation', title: '60 jobs on maxWorkers 4 start exactly 4 threads', pools: 'threads', group: 'executor',
    check: (r) => {
      assert.equal(r.valuesOk, true);
      assert.equal(r.aliveAtSubmit, 4);
      assert.equal(r.aliveWhileBusy, 4);
      assert.equal(r.aliveAfter, 4);
      assert.equal(r.workers, 4, JSON.stringify(r));
      assert.equal(r.overlap, 4, JSON.stringify(r));
    },
  },
  {
    name: 'ThreadPoolExecutorTest.test_idle_thread_reuse', title: 'one idle thread runs three jobs in turn', pools: 'threads', group: 'executor',
    check: (r) => {
      assert.deepEqual(r.workers, [`${r.name}_0`, `${r.name}_0`, `${r.name}_0`]);
      assert.equal(r.alive, 1);
    },
  },
  {
    name: 'ThreadPoolExecutorTest.test_executor_map_current_future_cancel', title: 'a map timeout cancels the call it timed out on and the rest; neither starts', pools: 'threads', group: 'executor',
    check: (r) => {
      errorIs(r.step, 'TimeoutError');
      assert.equal(r.value, 1);
      assert.deepEqual(
        r.records.map((x) => [x.label, x.state, x.started]),
        [['blocks_for(1, 500)', 'FINISHED', true], ['blocks(2)', 'CANCELLED', false], ['blocks(3)', 'CANCELLED', false]],
      );
    },
  },
  // test_process_pool.py
  {
    name: 'ProcessPoolExecutorTest.test_killed_child', title: 'a killed worker fails its job with BrokenProcessPool; the pool goes on (CPython: the pool breaks)', pools: 'processes', group: 'executor',
    check: (r) => {
      assert.equal(r.killed, true);
      errorIs(r.outcome, 'BrokenProcessPool');
      assert.ok(r.outcome.error.message.startsWith(`${r.pid} died while running blocks_for(1, 3000): terminated by kill_worker`), r.outcome.error.message);
      assert.deepEqual(r.later, { value: 9 });
    },
  },
  {
    name: 'ProcessPoolExecutorTest.test_broken_process_pool_traceback', title: 'each job of a killed worker fails with its own error object', pools: 'processes', group: 'executor',
    check: (r) => {
      assert.deepEqual(r.killed, [true, true, true]);
      assert.equal(new Set(r.pids).size, 3);
      r.errors.forEach((e, i) => {
        assert.equal(e.name, 'BrokenProcessPool');
        assert.ok(e.message.startsWith(`${r.pids[i]} died while running blocks_for(${i + 1}, 3000): terminated by kill_worker`), e.message);
      });
      assert.equal(r.distinct, true);
    },
  },
  {
    name: 'ProcessPoolExecutorTest.test_map_chunksize', title: 'map() with chunksize 6, 50, 40 gives the same results; -1 and 0 throw ValueError', pools: 'processes', group: 'executor',
    check: (r) => {
      for (const c of [6, 50, 40]) assert.deepEqual(r[c], r.expected, `chunksize ${c}`);
      errorIs(r.minusOne, 'ValueError');
      assert.equal(r.minusOne.error.message, 'map: chunksize must be >= 1 (got chunksize: -1)');
      errorIs(r.zero, 'ValueError');
      assert.equal(r.zero.error.message, 'map: chunksize must be >= 1 (got chunksize: 0)');
    },
  },
  {
    name: 'ProcessPoolExecutorTest.test_traceback_when_child_process_terminates_abruptly', title: 'a worker that traps fails its job naming the worker and the job', pools: 'processes', group: 'executor',
    check: (r) => {
      errorIs(r.outcome, 'BrokenProcessPool');
      assert.match(r.outcome.error.message, new RegExp(`^${r.worker} died while running traps\\(\\): `));
    },
  },
  {
    name: 'ProcessPoolExecutorTest.test_saturation', title: '75 jobs on maxWorkers 5 start exactly 5 processes', pools: 'processes', group: 'executor',
    check: (r) => {
      assert.equal(r.valuesOk, true);
      assert.equal(r.most, 5);
      assert.equal(r.aliveAfter, 5);
      assert.equal(r.workers, 5);
      assert.ok(r.overlap <= 5, String(r.overlap));
    },
  },
  {
    name: 'ProcessPoolExecutorTest.test_idle_process_reuse_one', title: 'one idle process runs three jobs in turn', pools: 'processes', group: 'executor',
    check: (r) => {
      assert.equal(new Set(r.workers).size, 1, r.workers.join());
      assert.equal(r.alive, 1);
    },
  },
  {
    name: 'ProcessPoolExecutorTest.test_idle_process_reuse_multiple', title: 'idle processes are reused: at most 3 for six jobs submitted in pairs', pools: 'processes', group: 'executor',
    check: (r) => assert.ok(r.alive <= 3, String(r.alive)),
  },
  {
    name: 'ProcessPoolExecutorTest.test_max_tasks_per_child', title: 'maxTasksPerChild 3: the fourth job runs on a new process, one alive', pools: 'processes', group: 'executor',
    check: (r) => {
      const [w1, w2, w3, w4] = r.workers;
      assert.ok(w1 === w2 && w2 === w3, r.workers.join());
      assert.notEqual(w4, w1);
      assert.equal(r.alive, 1);
    },
  },
  {
    name: 'ProcessPoolExecutorTest.test_max_tasks_per_child_pending_tasks_gh115634', title: 'jobs queued while workers retire all run', pools: 'processes', group: 'executor',
    check: (r) => {
      for (const { shape, results } of r) assert.deepEqual(results.map((x) => x.value), squares([...Array(shape[2]).keys()]), String(shape));
    },
  },
  {
    name: 'ProcessPoolExecutorTest.test_shutdown_no_wait_max_tasks_gh119592', title: 'shutdown(wait=false) with one task per child still runs the queued jobs', pools: 'processes', group: 'executor',
    check: (r) => {
      assert.deepEqual(r.results, [{ value: 0 }, { value: 1 }, { value: 4 }]);
      assert.equal(r.alive, 0);
    },
  },
  {
    name: 'ProcessPoolExecutorTest.test_max_tasks_early_shutdown', title: 'shutdown() runs six queued jobs on three one-task workers', pools: 'processes', group: 'executor',
    check: (r) => {
      assert.equal(r.finished, true);
      assert.deepEqual(r.results.map((x) => x.value), squares([0, 1, 2, 3, 4, 5]));
    },
  },
  {
    name: 'ProcessPoolExecutorTest.test_force_shutdown_workers', title: 'killing the worker stops its job (killWorker for terminate_workers)', pools: 'processes', group: 'executor',
    check: (r) => {
      assert.equal(r.killed, true);
      errorIs(r.outcome, 'BrokenProcessPool');
      assert.ok(r.outcome.error.message.startsWith(`${r.pid} died while running blocks_for(1, 5000): terminated by kill_worker`), r.outcome.error.message);
    },
  },
  {
    name: 'ProcessPoolExecutorTest.test_force_shutdown_workers_dead_workers', title: 'killing a worker that already died does not throw; the pool goes on', pools: 'processes', group: 'executor',
    check: (r) => {
      errorIs(r.outcome, 'BrokenProcessPool');
      assert.deepEqual(r.kill, { value: false });
      assert.deepEqual(r.later, { value: 4 });
    },
  },
  // test_shutdown.py
  {
    name: 'ExecutorShutdownTest.test_run_after_shutdown', title: 'submit() after shutdown() throws RuntimeError', pools: 'both', group: 'shutdown',
    check: (r) => errorIs(r, 'RuntimeError', /cannot schedule new futures after shutdown/),
  },
  {
    name: 'ExecutorShutdownTest.test_hang_issue12364', title: 'shutdown() with 50 jobs queued returns, every result there', pools: 'both', group: 'shutdown',
    check: (r) => {
      assert.equal(r.finished, true);
      assert.equal(r.valuesOk, true);
    },
  },
  {
    name: 'ExecutorShutdownTest.test_cancel_futures', title: 'shutdown(cancelFutures) cancels the queued jobs only; the running ones finish', pools: 'both', group: 'shutdown',
    check: (r) => {
      assert.ok(r.cancelled > 20, String(r.cancelled));
      assert.ok(r.ran > 0);
      assert.equal(r.allDone, true);
      assert.deepEqual(r.exceptions, Array(r.ran).fill(null));
    },
  },
  {
    name: 'ExecutorShutdownTest.test_hang_gh94440', title: 'shutdown() right after a cancel returns', pools: 'both', group: 'shutdown',
    check: (r) => assert.deepEqual(r, { finished: true, done: true }),
  },
  // The same three shutdown tests, which CPython writes once per pool.
  ...[
    ['Thread', 'threads', 'thread', 'threads', '3'],
    ['Process', 'processes', 'process', 'processes', '3 (of 5)'],
  ].flatMap(([Kind, pools, one, many, started]) => [
    {
      name: `${Kind}PoolShutdownTest.test_${many}_terminate`, title: `three jobs start ${started} ${many}; shutdown() ends them`, pools, group: 'shutdown',
      check: (r) => {
        assert.equal(r.alive, 3);
        assert.equal(r.aliveAfter, 0);
        assert.deepEqual(r.left, []);
        assert.deepEqual(r.values, [1, 4, 9]);
      },
    },
    {
      name: `${Kind}PoolShutdownTest.test_context_manager_shutdown`, title: `map then shutdown: results in order, no ${one} left`, pools, group: 'shutdown',
      check: (r) => {
        assert.deepEqual(r.values, squares([5, 4, 3, 2, 1, 0, 1, 2, 3, 4]));
        assert.equal(r.aliveAfter, 0);
        assert.deepEqual(r.left, []);
      },
    },
    {
      name: `${Kind}PoolShutdownTest.test_shutdown_no_wait`, title: `shutdown(wait=false): the mapped jobs still finish, then the ${many} end`, pools, group: 'shutdown',
      check: (r) => {
        assert.deepEqual(r.values, squares([5, 4, 3, 2, 1, 0, 1, 2, 3, 4]));
        assert.equal(r.alive, 0);
      },
    },
  ]),
  {
    name: 'ThreadPoolShutdownTest.test_thread_names_assigned', title: 'threadNamePrefix names the threads SpecialPool_0..4', pools: 'threads', group: 'shutdown',
    check: (r) => {
      assert.ok(r.workers.length > 0);
      for (const w of r.workers) assert.match(w, /^SpecialPool_[0-4]$/);
    },
  },
  {
    name: 'ThreadPoolShutdownTest.test_thread_names_default', title: 'threads are named ThreadPoolExecutor-N_0..4 by default', pools: 'threads', group: 'shutdown',
    check: (r) => {
      assert.ok(r.workers.length > 0);
      for (const w of r.workers) assert.match(w, /^ThreadPoolExecutor-\d+_[0-4]$/);
    },
  },
  ...[['case_1', 2], ['case_2', 4]].map(([c, workers]) => ({
    name: `ProcessPoolShutdownTest.test_shutdown_gh_132969_${c}`,
    title: `maxWorkers ${workers}, one task per child, a failing task, shutdown(wait=false): no hang`,
    pools: 'processes',
    group: 'shutdown',
    check: (r) => {
      assert.equal(r.sum, 1);
      assert.deepEqual(r.outcomes[0], { value: 1 });
      errorIs(r.outcomes[1], 'JobError', /^panics\("failing task"\) panicked on \d+: failing task$/);
      assert.deepEqual(r.outcomes[2], { value: 9 });
      assert.equal(r.alive, 0);
    },
  })),
  // test_wait.py
  {
    name: 'WaitTests.test_20369', title: 'wait([j, j]) gives j once', pools: 'both', group: 'wait',
    check: (r) => assert.deepEqual(r, { done: 1, same: true, notDone: 0 }),
  },
  {
    name: 'WaitTests.test_first_completed', title: 'FIRST_COMPLETED returns with the quick job; the slow one is not done', pools: 'both', group: 'wait',
    check: (r) => assert.deepEqual(r, { done: ['f1'], notDone: ['f2'], f2Done: false }),
  },
  {
    name: 'WaitTests.test_first_completed_some_already_completed', title: 'FIRST_COMPLETED returns at once with every job already done', pools: 'both', group: 'wait',
    check: (r) => assert.deepEqual(r, { done: ['cancelled', 'ok'], notDone: ['f1'], f1Done: false }),
  },
  {
    name: 'WaitTests.test_first_exception', title: 'FIRST_EXCEPTION returns at the failure, with the job done before it', pools: 'both', group: 'wait',
    check: (r) => assert.deepEqual(r, { done: ['f1', 'f2'], notDone: ['f3'] }),
  },
  {
    name: 'WaitTests.test_first_exception_some_already_complete', title: 'FIRST_EXCEPTION: a cancelled job does not count as a failure', pools: 'both', group: 'wait',
    check: (r) => assert.deepEqual(r, { done: ['cancelled', 'f1', 'ok'], notDone: ['f2'] }),
  },
  {
    name: 'WaitTests.test_first_exception_one_already_failed', title: 'FIRST_EXCEPTION returns at once when a job has failed already', pools: 'both', group: 'wait',
    check: (r) => assert.deepEqual(r, { done: ['failed'], notDone: ['f1'], f1Done: false }),
  },
  {
    name: 'WaitTests.test_all_completed', title: 'ALL_COMPLETED waits for every job, failed and cancelled ones included', pools: 'both', group: 'wait',
    check: (r) => assert.deepEqual(r, { done: ['cancelled', 'f1', 'f2', 'failed', 'ok'], notDone: [] }),
  },
  {
    name: 'WaitTests.test_timeout', title: 'a timeout returns the unfinished job in notDone, not cancelled', pools: 'both', group: 'wait',
    check: (r) => assert.deepEqual(r, { done: ['cancelled', 'failed', 'ok'], notDone: ['f'], cancelled: false, value: { value: 1 } }),
  },
  {
    name: 'ThreadPoolWaitTests.test_pending_calls_race', title: 'wait() on 100 short jobs returns with all done', pools: 'threads', group: 'wait',
    check: (r) => assert.deepEqual(r, { done: 100, notDone: 0, valuesOk: true }),
  },
  // test_as_completed.py
  {
    name: 'AsCompletedTests.test_no_timeout', title: 'asCompleted gives each job once, done or not yet', pools: 'both', group: 'wait',
    check: (r) => {
      const all = ['cancelled', 'f1', 'f2', 'failed', 'ok'];
      assert.deepEqual(r, { looped: all, awaited: all });
    },
  },
  {
    name: 'AsCompletedTests.test_future_times_out', title: 'timeout 0 and 0.1: the done jobs come out, then TimeoutError', pools: 'both', group: 'wait',
    check: (r) => {
      for (const t of ['0', '0.1']) {
        assert.deepEqual(r[t].got, ['cancelled', 'failed', 'ok'], t);
        assert.deepEqual(r[t].error, { name: 'TimeoutError', message: '1 (of 4) futures unfinished' }, t);
        assert.equal(r[t].fCancelled, false);
      }
    },
  },
  {
    name: 'AsCompletedTests.test_duplicate_futures', title: 'a job given three times (array or generator) comes out once', pools: 'both', group: 'wait',
    check: (r) => assert.deepEqual(r, { fromArray: [true], fromGenerator: [true] }),
  },
  {
    name: 'AsCompletedTests.test_correct_timeout_exception_msg', title: 'the TimeoutError says "2 (of 4) futures unfinished"', pools: 'both', group: 'wait',
    check: (r) => assert.deepEqual(r.error, { name: 'TimeoutError', message: '2 (of 4) futures unfinished' }),
  },
  // test_future.py
  {
    name: 'FutureTests.test_done_callback_with_result', title: 'the callback gets the job, done, with its result', pools: 'both', group: 'future',
    check: (r) => assert.deepEqual(r, { calledBefore: false, called: true, same: true, done: true, state: 'FINISHED', result: { value: 25 } }),
  },
  {
    name: 'FutureTests.test_done_callback_with_exception', title: 'the callback of a failed job reads its error', pools: 'both', group: 'future',
    check: (r, { kind }) => {
      assert.equal(r.called, true);
      assert.equal(r.exception.value.name, 'JobError');
      assert.match(r.exception.value.message, new RegExp(`^panics\\("test"\\) panicked on ${workerPattern(kind)}: test$`));
    },
  },
  {
    name: 'FutureTests.test_done_callback_with_cancel', title: 'cancel() calls the done callback before it returns', pools: 'both', group: 'future',
    check: (r) => assert.deepEqual(r, { cancelled: true, seenAtOnce: true, seenLater: true }),
  },
  {
    name: 'FutureTests.test_done_callback_raises', title: 'a callback that throws is reported, and the next one still runs', pools: 'both', group: 'future',
    check: (r) => {
      assert.deepEqual(r.calls, ['raising', 'second']);
      assert.ok(r.reported.some((m) => m.includes('doh!')), JSON.stringify(r.reported));
    },
  },
  {
    name: 'FutureTests.test_done_callback_raises_already_succeeded', title: 'on a finished job a throwing callback runs at once and is reported, not thrown', pools: 'both', group: 'future',
    check: (r) => {
      assert.equal(r.threw, null);
      assert.equal(r.called, true);
      assert.ok(r.reported.some((m) => m.includes('doh!')), JSON.stringify(r.reported));
    },
  },
  {
    name: 'FutureTests.test_done_callback_already_successful', title: 'on a finished job the callback runs at once', pools: 'both', group: 'future',
    check: (r) => assert.deepEqual(r, { atOnce: true, same: true, result: { value: 25 } }),
  },
  {
    name: 'FutureTests.test_done_callback_already_failed', title: 'on a failed job the callback runs at once and sees the error', pools: 'both', group: 'future',
    check: (r) => {
      assert.equal(r.atOnce, true);
      assert.match(r.exception.value.message, /: test$/);
    },
  },
  {
    name: 'FutureTests.test_done_callback_already_cancelled', title: 'on a cancelled job the callback runs at once', pools: 'both', group: 'future',
    check: (r) => assert.equal(r.atOnce, true),
  },
  {
    name: 'FutureTests.test_cancel', case: 'FutureTests.states', title: 'cancel(): true when pending or cancelled, false when running or finished', pools: 'both', group: 'future',
    check: (r) =>
      assert.deepEqual(r.cancel, {
        pending: { cancel: true, state: 'CANCELLED', running: false },
        running: { cancel: false, state: 'RUNNING', running: true },
        cancelled: { cancel: true, state: 'CANCELLED', running: false },
        failed: { cancel: false, state: 'FINISHED', running: false },
        ok: { cancel: false, state: 'FINISHED', running: false },
      }),
  },
  {
    name: 'FutureTests.test_cancelled', case: 'FutureTests.states', title: 'cancelled() is true only for the cancelled job', pools: 'both', group: 'future',
    check: (r) => {
      assert.deepEqual(r.state, { pending: 'PENDING', running: 'RUNNING', cancelled: 'CANCELLED', failed: 'FINISHED', ok: 'FINISHED' });
      assert.deepEqual(r.cancelled, { pending: false, running: false, cancelled: true, failed: false, ok: false });
    },
  },
  {
    name: 'FutureTests.test_done', case: 'FutureTests.states', title: 'done() is false for pending and running jobs only', pools: 'both', group: 'future',
    check: (r) => assert.deepEqual(r.done, { pending: false, running: false, cancelled: true, failed: true, ok: true }),
  },
  {
    name: 'FutureTests.test_running', case: 'FutureTests.states', title: 'running() is true for the running job only', pools: 'both', group: 'future',
    check: (r) => assert.deepEqual(r.running, { pending: false, running: true, cancelled: false, failed: false, ok: false }),
  },
  {
    name: 'FutureTests.test_result_with_timeout', case: 'FutureTests.states', title: 'result({timeout: 0}) in each state', pools: 'both', group: 'future',
    check: (r, { kind }) => {
      errorIs(r.result.pending, 'TimeoutError');
      errorIs(r.result.running, 'TimeoutError');
      errorIs(r.result.cancelled, 'CancelledError', /^cancelled$/);
      errorIs(r.result.failed, 'JobError', new RegExp(`^panics\\("boom"\\) panicked on ${workerPattern(kind)}: boom$`));
      assert.deepEqual(r.result.ok, { value: 36 });
    },
  },
  {
    name: 'FutureTests.test_exception_with_timeout', case: 'FutureTests.states', title: 'exception({timeout: 0}) in each state: rejects, or resolves to the error or null', pools: 'both', group: 'future',
    check: (r, { kind }) => {
      errorIs(r.exception.pending, 'TimeoutError');
      errorIs(r.exception.running, 'TimeoutError');
      errorIs(r.exception.cancelled, 'CancelledError');
      assert.equal(r.exception.failed.value.name, 'JobError');
      assert.match(r.exception.failed.value.message, new RegExp(`^panics\\("boom"\\) panicked on ${workerPattern(kind)}: boom$`));
      assert.deepEqual(r.exception.ok, { value: null });
    },
  },
  {
    name: 'FutureTests.test_result_with_success', title: 'result({timeout: 5}) waits for the job', pools: 'both', group: 'future',
    check: (r) => assert.deepEqual(r, { value: 36 }),
  },
  {
    name: 'FutureTests.test_result_with_cancel', title: 'result() of a job cancelled meanwhile rejects with CancelledError', pools: 'both', group: 'future',
    check: (r) => errorIs(r, 'CancelledError'),
  },
  {
    name: 'FutureTests.test_exception_with_success', title: 'exception() waits for the job to fail and resolves to its error', pools: 'both', group: 'future',
    check: (r) => {
      assert.equal(r.value.name, 'JobError');
      assert.match(r.value.message, /^panics\("x"\) panicked on .*: x$/);
    },
  },
  // test_init.py
  {
    name: 'InitializerMixin.test_initializer', title: 'the initializer runs in each worker before its jobs', pools: 'both', group: 'future',
    check: (r) => {
      assert.deepEqual(r.values, [{ value: 'initialized' }, { value: 'initialized' }]);
      assert.deepEqual(r.withoutInitializer, { value: null });
    },
  },
  {
    name: 'FailingInitializerMixin.test_initializer', title: 'a failing initializer breaks the pool: its job and later submits fail', pools: 'both', group: 'future',
    check: (r, { kind }) => {
      const broken = kind === THREADS ? 'BrokenThreadPool' : 'BrokenProcessPool';
      const first = r.first.error ?? r.first.value?.error;
      assert.ok(first, JSON.stringify(r.first));
      assert.equal(first.name, broken);
      assert.ok(r.later, 'submit never threw');
      assert.equal(r.later.name, broken);
      assert.ok([first.message, r.later.message].some((m) => m.includes('error in initializer')), JSON.stringify(r));
    },
  },
  // test_deadlock.py
  {
    name: 'ExecutorDeadlockTest.test_crash_during_func_exec_on_worker', title: 'a job that traps fails (the pool goes on; CPython: BrokenProcessPool for the pool)', pools: 'processes', group: 'future',
    check: (r) => {
      errorIs(r.outcome, 'BrokenProcessPool');
      assert.match(r.outcome.error.message, new RegExp(`^${r.worker} died while running traps\\(\\): `));
      assert.deepEqual(r.later, { value: 4 });
      assert.equal(r.finished, true);
    },
  },
  {
    name: 'ExecutorDeadlockTest.test_error_during_func_exec_on_worker', title: 'a job that panics fails with its message; shutdown returns', pools: 'processes', group: 'future',
    check: (r) => {
      errorIs(r.outcome, 'JobError');
      assert.equal(r.outcome.error.message, `panics("boom") panicked on ${r.worker}: boom`);
      assert.equal(r.finished, true);
    },
  },
  {
    name: 'ExecutorDeadlockTest.test_shutdown_deadlock', title: 'a worker dying during shutdown() does not hang it', pools: 'processes', group: 'future',
    check: (r) => {
      assert.equal(r.finished, true);
      assert.deepEqual(r.blocker, { value: 1 });
      errorIs(r.trap, 'BrokenProcessPool', /died while running traps\(\)/);
    },
  },
  // test_tasks.py: wait
  {
    name: 'BaseTaskTests.test_wait', title: 'wait() waits for both; again on done jobs it returns at once', pools: 'both', group: 'asyncio',
    check: (r) => assert.deepEqual(r, { done: ['a', 'b'], notDone: [], bothDone: true, again: { done: ['a', 'b'], notDone: [] } }),
  },
  {
    name: 'BaseTaskTests.test_wait_duplicate_coroutines', title: 'wait([c, c, d]) gives two jobs', pools: 'both', group: 'asyncio',
    check: (r) => assert.deepEqual(r, { done: 2, notDone: 0, values: [9, 16] }),
  },
  {
    name: 'BaseTaskTests.test_wait_errors', title: 'wait([]) and a bad returnWhen throw ValueError', pools: 'both', group: 'asyncio',
    check: (r) => {
      assert.deepEqual(r.empty.error, { name: 'ValueError', message: 'Set of Tasks/Futures is empty.' });
      errorIs(r.bogus, 'ValueError', /returnWhen must be/);
      errorIs(r.minusOne, 'ValueError', /returnWhen must be/);
    },
  },
  {
    name: 'BaseTaskTests.test_wait_first_completed', title: 'FIRST_COMPLETED: the short job done, the long one not', pools: 'both', group: 'asyncio',
    check: (r) => assert.deepEqual(r, { done: ['b'], notDone: ['a'], aDone: false, b: { value: 4 } }),
  },
  {
    name: 'BaseTaskTests.test_wait_really_done', title: 'FIRST_COMPLETED on two done jobs gives both', pools: 'both', group: 'asyncio',
    check: (r) => assert.deepEqual(r, { done: ['a', 'b'], notDone: [] }),
  },
  {
    name: 'BaseTaskTests.test_wait_first_exception', title: 'FIRST_EXCEPTION returns at the failure', pools: 'both', group: 'asyncio',
    check: (r) => assert.deepEqual(r, { done: ['b'], notDone: ['a'], aDone: false }),
  },
  {
    name: 'BaseTaskTests.test_wait_first_exception_in_wait', title: 'FIRST_EXCEPTION returns when a job fails during the wait', pools: 'both', group: 'asyncio',
    check: (r) => assert.deepEqual(r, { bDoneAtCall: false, done: ['b'], notDone: ['a'], aDone: false }),
  },
  {
    name: 'BaseTaskTests.test_wait_with_exception', title: 'ALL_COMPLETED with one failing job, twice', pools: 'both', group: 'asyncio',
    check: (r) => {
      for (const w of r) {
        assert.deepEqual(w.done, ['a', 'b']);
        assert.deepEqual(w.notDone, []);
        assert.equal(w.failed.length, 1);
        assert.match(w.failed[0].message, /: really$/);
      }
    },
  },
  {
    name: 'BaseTaskTests.test_wait_with_timeout', title: 'a timeout returns what is done; the rest goes on', pools: 'both', group: 'asyncio',
    check: (r) => assert.deepEqual(r, { done: ['a'], notDone: ['b'], bCancelled: false, bDone: false }),
  },
  {
    name: 'BaseTaskTests.test_wait_concurrent_complete', title: 'a job done before the timeout is in done (a real clock cannot tie them)', pools: 'both', group: 'asyncio',
    check: (r) => assert.deepEqual(r, { done: ['a'], notDone: ['b'], aDone: true, bDone: false }),
  },
  {
    name: 'BaseTaskTests.test_wait_with_iterator_of_tasks', title: 'wait() takes an iterator of jobs', pools: 'both', group: 'asyncio',
    check: (r) => assert.deepEqual(r, { done: ['a', 'b'], notDone: [] }),
  },
  {
    name: 'BaseTaskTests.test_wait_generator', title: 'wait() takes a generator of jobs', pools: 'both', group: 'asyncio',
    check: (r) => assert.deepEqual(r, { done: 10, notDone: 0 }),
  },
  {
    name: 'BaseTaskTests.test_wait_invalid_args', title: 'wait(job) throws TypeError, wait([]) ValueError', pools: 'both', group: 'asyncio',
    check: (r) => {
      errorIs(r.oneJob, 'TypeError');
      errorIs(r.empty, 'ValueError', /^Set of Tasks\/Futures is empty\.$/);
    },
  },
  // test_tasks.py: as_completed
  {
    name: 'BaseTaskTests.test_as_completed', title: 'the two short jobs first, the long one last (awaited and for await)', pools: 'both', group: 'asyncio',
    check: (r) => {
      for (const order of [r.awaited, r.looped]) {
        assert.deepEqual(order.slice(0, 2).sort(), [1, 4]);
        assert.equal(order[2], 9);
      }
    },
  },
  {
    name: 'BaseTaskTests.test_as_completed_same_tasks_in_as_out', title: 'asCompleted yields the very Job objects given', pools: 'both', group: 'asyncio',
    check: (r) => assert.deepEqual(r, { count: 4, allGiven: true, distinct: 4 }),
  },
  {
    name: 'BaseTaskTests.test_as_completed_with_timeout', title: 'the job done in time, then TimeoutError; the other goes on', pools: 'both', group: 'asyncio',
    check: (r) => {
      assert.deepEqual(r.loop, { got: ['a'], error: { name: 'TimeoutError', message: '1 (of 2) futures unfinished' }, bCancelled: false });
      assert.deepEqual(r.awaited, { got: [], error: { name: 'TimeoutError', message: '1 (of 2) futures unfinished' }, bCancelled: false });
    },
  },
  {
    name: 'BaseTaskTests.test_as_completed_with_unused_timeout', title: 'a timeout that never fires: one job, no error', pools: 'both', group: 'asyncio',
    check: (r) => assert.deepEqual(r, { looped: { value: [1] }, awaited: { value: [1] } }),
  },
  {
    name: 'BaseTaskTests.test_as_completed_resume_iterator', title: 'after break, iterating again gives the rest', pools: 'both', group: 'asyncio',
    check: (r) => assert.deepEqual(r, { afterBreak: 2, values: [0, 1, 4, 9] }),
  },
  {
    name: 'BaseTaskTests.test_as_completed_concurrent', title: 'the jobs asCompleted gives can be waited on', pools: 'both', group: 'asyncio',
    check: (r) => assert.deepEqual(r, { items: 2, values: [1, 4] }),
  },
  {
    name: 'BaseTaskTests.test_as_completed_duplicate_coroutines', title: 'asCompleted([c, c, d]) gives two jobs', pools: 'both', group: 'asyncio',
    check: (r) => assert.deepEqual(r, { looped: [9, 16], awaited: [9, 16] }),
  },
  {
    name: 'BaseTaskTests.test_as_completed_invalid_args', title: 'asCompleted(job) throws TypeError', pools: 'both', group: 'asyncio',
    check: (r) => {
      errorIs(r.called, 'TypeError');
      errorIs(r.looped, 'TypeError');
    },
  },
  // test_tasks.py: gather
  {
    name: 'GatherTestsBase.test_success', title: 'results in argument order, once the last job is done', pools: 'both', group: 'asyncio',
    check: (r) => {
      for (const run of [r.plain, r.explicit]) assert.deepEqual(run, { value: [4, 1, 9], settledAfterAB: false, cDone: true });
    },
  },
  {
    name: 'GatherTestsBase.test_result_exception_success', title: 'returnExceptions with no failure: the results', pools: 'both', group: 'asyncio',
    check: (r) => assert.deepEqual(r, { value: [4, 1, 9] }),
  },
  {
    name: 'GatherTestsBase.test_one_exception', title: 'rejects at once with the failed job\'s error; the others go on', pools: 'both', group: 'asyncio',
    check: (r) => {
      assert.equal(r.error.name, 'JobError');
      assert.match(r.error.message, /^panics\("x"\) panicked on .*: x$/);
      assert.deepEqual(r.bError, r.error);
      assert.deepEqual(r.restAtReject, [{ done: false, cancelled: false }, { done: false, cancelled: false }, { done: false, cancelled: false }]);
      assert.deepEqual(r.restLater, [{ value: 9 }, { value: 16 }, { value: 25 }]);
      assert.equal(r.same, true, 'gather rejects with the very error object the job rejects with');
    },
  },
  {
    name: 'GatherTestsBase.test_return_exceptions', title: 'returnExceptions: values and errors in argument order, after the last job', pools: 'both', group: 'asyncio',
    check: (r) => {
      assert.equal(r.dDone, true);
      const [a, b, c, d] = r.value;
      assert.deepEqual([a, b], [9, 1]);
      errorIs(c, 'JobError', /: c$/);
      errorIs(d, 'JobError', /: d$/);
    },
  },
  {
    name: 'FutureGatherTests.test_constructor_empty_sequence_use_running_loop', title: 'gather([]) resolves to []', pools: 'both', group: 'asyncio',
    check: (r) => assert.deepEqual(r, { value: [] }),
  },
  {
    name: 'FutureGatherTests.test_one_cancellation', title: 'a cancelled job rejects the gather with CancelledError at once', pools: 'both', group: 'asyncio',
    check: (r) => {
      assert.equal(r.cancelled, true);
      errorIs(r.outcome, 'CancelledError');
      assert.deepEqual(r.restDone, [false, false, false]);
    },
  },
  {
    name: 'FutureGatherTests.test_result_exception_one_cancellation', title: 'returnExceptions: CancelledError objects in place of cancelled jobs', pools: 'both', group: 'asyncio',
    check: (r) => {
      assert.deepEqual(r.cancels, [true, true]);
      const [a, b, c, d, e, f] = r.value;
      assert.equal(a, 1);
      errorIs(b, 'JobError', /: zde$/);
      errorIs(c, 'CancelledError');
      assert.equal(d, 9);
      errorIs(e, 'CancelledError');
      errorIs(f, 'JobError', /: rte$/);
    },
  },
  {
    name: 'CoroutineGatherTests.test_duplicate_coroutines', title: 'gather([c, c, d, c]): a result per argument, c ran once', pools: 'both', group: 'asyncio',
    check: (r) => assert.deepEqual(r, { value: [9, 9, 16, 9], runsOfC: 1 }),
  },
  {
    name: 'CoroutineGatherTests.test_exception_marking', title: 'two failing jobs: gather rejects with the first, no unhandled rejection', pools: 'both', group: 'asyncio',
    check: (r) => {
      errorIs(r.outcome, 'JobError', /should not be ignored$/);
      assert.equal(r.bDone, true);
      assert.deepEqual(r.unhandled, []);
    },
  },
  {
    name: 'CoroutineGatherTests.test_issue46672', title: 'gather([job, {}]) throws TypeError, logs nothing, leaves the job alone', pools: 'both', group: 'asyncio',
    check: (r) => {
      errorIs(r.outcome, 'TypeError');
      assert.deepEqual(r.value, { value: 4 });
      assert.deepEqual(r.logged, []);
    },
  },
  // test_threads.py
  {
    name: 'ToThreadTests.test_to_thread', title: 'toThread() runs the job on the default executor', pools: 'both', group: 'asyncio',
    check: (r, { kind }) => {
      assert.deepEqual(r.outcome, { value: 36 });
      assert.match(r.worker, kind === THREADS ? /^asyncio_\d+$/ : /^\d+$/);
    },
  },
  {
    name: 'ToThreadTests.test_to_thread_exception', title: 'toThread() rejects with the job\'s error', pools: 'both', group: 'asyncio',
    check: (r) => errorIs(r, 'JobError', /^panics\("test"\) panicked on .*: test$/),
  },
  {
    name: 'ToThreadTests.test_to_thread_once', title: 'the job runs exactly once', pools: 'both', group: 'asyncio',
    check: (r) => {
      assert.deepEqual(r.outcome, { value: null });
      assert.equal(r.records.length, 1);
      assert.deepEqual([r.records[0].label, r.records[0].state], ['noop()', 'FINISHED']);
    },
  },
  {
    name: 'ToThreadTests.test_to_thread_concurrent', title: 'ten toThread() calls gathered: ten runs, each once', pools: 'both', group: 'asyncio',
    check: (r) => assert.deepEqual(r, { value: Array(10).fill(null), records: 10, distinct: 10, allFinished: true }),
  },
];

const GROUPS = ['executor', 'shutdown', 'wait', 'future', 'asyncio'];

// E2E_BROWSERS=chromium (or firefox, webkit) runs one engine only.
const browsers = engines(['chromium', 'firefox', 'webkit']);

for (const browser of browsers) {
  for (const kind of [THREADS, 'ProcessPoolExecutor']) {
    const pools = kind === THREADS ? 'threads' : 'processes';
    const mine = checks.filter((c) => c.pools === 'both' || c.pools === pools);
    describe(`${browser}, ${kind} (${pools === 'threads' ? 'cross-origin isolated page' : 'page without isolation headers'})`, () => {
      let site;
      let opened;
      const out = {};
      const timings = {};
      const caseMs = {};

      before(async () => {
        site = await serveSite({ isolated: pools === 'threads' });
        opened = await openIn(browser, `${site.url}/index.html`);
        for (const group of GROUPS) {
          const names = [...new Set(mine.filter((c) => c.group === group).map((c) => c.case ?? c.name))];
          const t0 = Date.now();
          const { ms, ...got } = await opened.page.evaluate(runCases, { kind, names });
          timings[group] = Date.now() - t0;
          Object.assign(out, got);
          Object.assign(caseMs, ms);
        }
        // CPYTHON_TIMINGS=1: how long each group and each case took.
        if (process.env.CPYTHON_TIMINGS) console.log(browser, kind, timings, caseMs);
      });

      after(async () => {
        await opened?.close();
        site?.close();
      });

      for (const c of mine) {
        test(`${c.name}: ${c.title}`, () => {
          const r = out[c.case ?? c.name];
          assert.ok(r !== undefined, 'the case did not run');
          assert.equal(r?.crashed, undefined, r?.crashed);
          c.check(r, { kind, browser });
        });
      }
    });
  }
}
