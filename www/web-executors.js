// web-executors for the browser: `const wx = await load()`, then Python's executor API
// with camelCase names and Promises. Everything is loaded relative to this module, so
// the site works from any path.

const threadsBuild = new URL('../pkg/threads/web_executors.js', import.meta.url);

let loading;

/**
 * Loads the build this page can run and starts the default executor's workers.
 * Options: `workers`, the size of the default pool (default: the number of cores).
 * Every call shares the first one's work and result, so any script may call it.
 */
export function load(options) {
  loading ??= start(options);
  return loading;
}

async function start({ workers = navigator.hardwareConcurrency || 2 } = {}) {
  if (!self.crossOriginIsolated) {
    throw new Error(
      'web-executors needs a cross-origin isolated page for its threads: serve it with ' +
        '`Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy: require-corp`',
    );
  }
  const wx = await import(threadsBuild);
  await wx.default();
  await wx.initThreadPool(workers);
  return api(wx, { build: 'threads', threadsAvailable: true });
}

function api(wx, about) {
  class ThreadPoolExecutor extends wx.ThreadPoolExecutor {
    /** `submit(name, ...args)`: a job by its registered name; await it for the result. */
    submit(name, ...args) {
      return this.submitJob(name, args);
    }
  }
  return {
    ...about,
    ThreadPoolExecutor,
    /** Python's `loop.run_in_executor(executor, fn, *args)`; `null` is the default executor. */
    runInExecutor: (executor, name, ...args) =>
      executor ? executor.submit(name, ...args) : wx.submitDefault(name, args),
    /** Python's `asyncio.to_thread(fn, *args)`, on the default executor. */
    toThread: (name, ...args) => wx.submitDefault(name, args),
    wait: wx.wait,
    asCompleted: wx.asCompleted,
    gather: wx.gather,
    records: wx.records,
    logLines: wx.logLines,
    logEntries: wx.logEntries,
    clearRecords: wx.clearRecords,
    jobNames: wx.jobNames,
    liveWorkers: wx.liveWorkers,
    runScenario: wx.runScenario,
  };
}
