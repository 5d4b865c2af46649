// web-executors for the browser: `const wx = await load()`, then Python's executor API
// with camelCase names and Promises. Everything is loaded relative to this module, so
// the site works from any path.

const builds = {
  threads: new URL('../pkg/threads/web_executors.js', import.meta.url),
  plain: new URL('../pkg/plain/web_executors.js', import.meta.url),
};

let loading;

/**
 * Loads the build this page can run: the threaded one where the page is cross-origin
 * isolated and wasm threads work, the plain one otherwise (then `threadsAvailable` is
 * false and `whyNoThreads` says why). Starts the default executor's workers.
 * Options: `workers`, the size of the default thread pool (default: the number of
 * cores); `threads: false` to use the plain build even where threads would work.
 * Every call shares the first one's work and result, so any script may call it.
 */
export function load(options) {
  loading ??= start(options);
  return loading;
}

/** Why this page cannot run wasm threads, or null if it can. */
export function whyNoThreads() {
  if (!self.crossOriginIsolated) {
    return (
      'the page is not cross-origin isolated; serve it with the headers ' +
      '`Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy: require-corp`'
    );
  }
  try {
    new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
  } catch {
    return 'this browser cannot share WebAssembly memory between workers';
  }
  return null;
}

async function start({ workers = navigator.hardwareConcurrency || 2, threads = true } = {}) {
  const why = threads ? whyNoThreads() : 'the plain build was asked for (load({ threads: false }))';
  const build = why ? 'plain' : 'threads';
  const wx = await import(builds[build]);
  await wx.default();
  // Process workers always run the plain build: they share nothing anyway.
  wx.setProcessImage(builds.plain.href);
  if (!why) await wx.initThreadPool(workers);
  return api(wx, { build, threadsAvailable: !why, whyNoThreads: why });
}

/**
 * An async iterator over `source.next()` (which resolves to `undefined` after the last
 * item), that is also awaitable for all its items as an array. `item(raw)` maps what
 * `next()` resolved to; `close()` runs if the loop is left early.
 */
function iterable(source, item, close) {
  const iterator = {
    async next() {
      const raw = await source.next();
      return raw === undefined ? { done: true, value: undefined } : { done: false, value: item(raw) };
    },
    async return() {
      close?.();
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
    then(onFulfilled, onRejected) {
      const all = (async () => {
        const items = [];
        for await (const value of iterator) items.push(value);
        return items;
      })();
      return all.then(onFulfilled, onRejected);
    },
  };
  return iterator;
}

function api(wx, about) {
  /** Python's `add_done_callback(fn)`: `fn(job)` once the job is done (at once if it is). */
  wx.Job.prototype.addDoneCallback = function addDoneCallback(fn) {
    if (typeof fn !== 'function') throw new TypeError(`addDoneCallback: expected a function (got ${typeof fn})`);
    this.onDone(() => fn(this));
  };
  const executorApi = {
    /** `submit(name, ...args)`: a registered job; await it for the result. */
    submit(name, ...args) {
      return this.submitJob(name, args);
    },
    /**
     * Python's `executor.map(fn, items, timeout, chunksize)`: one job per item. Iterate
     * with `for await` for the results in input order, each as soon as it and those
     * before it are done (an error at item k is thrown when the loop reaches k), or
     * await it for the array.
     */
    map(name, items, options) {
      const results = this.mapJobs(name, [...items], options);
      return iterable(results, (raw) => raw.value, () => results.cancelRest());
    },
  };
  /** Python's `ThreadPoolExecutor`: `new ThreadPoolExecutor({ maxWorkers: 3 })`. */
  class ThreadPoolExecutor extends wx.Executor {
    constructor(options) {
      super('threads', options);
    }
  }
  /** Python's `ProcessPoolExecutor`: workers with no shared memory, on any page. */
  class ProcessPoolExecutor extends wx.Executor {
    constructor(options) {
      super('processes', options);
    }
  }
  for (const Pool of [ThreadPoolExecutor, ProcessPoolExecutor]) {
    Object.defineProperties(Pool.prototype, Object.getOwnPropertyDescriptors(executorApi));
  }
  /**
   * Python's `as_completed(jobs, timeout)`: `for await (const job of asCompleted(jobs))`
   * gives each job once, as it completes; or await it for all of them in that order.
   * A timeout throws `TimeoutError` after the jobs that completed in time.
   */
  const asCompleted = (jobs, options) => {
    const given = [...jobs];
    return iterable(new wx.AsCompletedJobs(given, options), (i) => given[i]);
  };
  return {
    ...about,
    ThreadPoolExecutor,
    ProcessPoolExecutor,
    /** Python's `loop.run_in_executor(executor, fn, *args)`; `null` is the default executor. */
    runInExecutor: (executor, name, ...args) =>
      executor ? executor.submit(name, ...args) : wx.submitDefault(name, args),
    /** Python's `asyncio.to_thread(fn, *args)`, on the default executor. */
    toThread: (name, ...args) => wx.submitDefault(name, args),
    wait: wx.wait,
    asCompleted,
    gather: wx.gather,
    records: wx.records,
    logLines: wx.logLines,
    logLinesByProcess: wx.logLinesByProcess,
    logEntries: wx.logEntries,
    clearRecords: wx.clearRecords,
    jobNames: wx.jobNames,
    liveWorkers: wx.liveWorkers,
    /** Bytes of the wasm heap in use: for checking that memory comes back. */
    heapInUse: wx.heapInUse,
    runScenario: wx.runScenario,
    // Runs kept apart, for the timeline (www/executor-timeline.js): a run's number,
    // its plan, records, log and trace, stopping it, and its jobs on the main thread.
    newRun: wx.newRun,
    planRun: wx.planRun,
    stopRun: wx.stopRun,
    runRecords: wx.runRecords,
    runLog: wx.runLog,
    runTrace: wx.runTrace,
    runOnMainThread: wx.runOnMainThread,
    scenarioSource: wx.scenarioSource,
    Timeline: wx.Timeline,
    WorkerBudget: wx.WorkerBudget,
    /** The benchmark's floor: a no-op through `rayon::spawn` (threads build only). */
    rayonSpawnNoop: wx.rayonSpawnNoop,
  };
}
