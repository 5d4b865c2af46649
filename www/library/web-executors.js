// web-executors for the browser: `const wx = await load({ builds })`, then Python's
// executor API with camelCase names and Promises. `builds` are the wasm-bindgen glue of
// the program's two builds (its crate depends on web-executors and registers its
// jobs): `threads` for cross-origin isolated pages, `plain` for any page and for every
// process worker. This module and www/library/workers.js are the library's JavaScript;
// they load nothing else of their own.

let loading;

/** What a page whose policy forbids this library's workers must allow. (www/workers.js
 * says it too, for the workers it starts: this module loads before the build that
 * imports it.) */
const policyHint = () =>
  `the page's Content-Security-Policy may forbid workers: allow ${new URL(import.meta.url).origin} in worker-src (or in script-src, if it has no worker-src)`;

/**
 * Loads the build this page can run: the threaded one where the page is cross-origin
 * isolated and wasm threads work, the plain one otherwise (then `threadsAvailable` is
 * false and `whyNoThreads` says why). Starts no worker: the default executor starts
 * its workers on its first job, as Python makes its default executor on first use.
 * Options: `builds: { threads, plain }`, the URLs of the two builds' wasm-bindgen
 * glue (required); `workers`, the size of the default thread pool (default: the number
 * of cores); `threads: false` to use the plain build even where threads would work;
 * `devtoolsTracks: true` to give every job that ran an entry in Chrome DevTools'
 * Performance panel, on a track per worker grouped by executor (a `performance.measure`
 * each, so they are in the page's performance timeline too; off by default).
 * Every call shares the first one's work and result, so any script may call it; any
 * call with `devtoolsTracks: true` turns the tracks on.
 */
export function load(options) {
  loading ??= start(options);
  if (options?.devtoolsTracks) loading.then(({ exports }) => trackJobs(exports), () => {});
  return loading;
}

/** Jobs turned into measures at most this many at a time, so that a run of 50,000 short
 * jobs costs the page a few milliseconds a turn, not one long frame. */
const TRACK_BATCH = 500;
const TRACK_EVERY_MS = 100;
let tracking = false;

/** Gives each job that ended, in every run, its DevTools track entry, soon after it ends. */
function trackJobs(exports) {
  if (tracking) return;
  tracking = true;
  const ended = new exports.EndedJobs();
  const follow = () => {
    const entries = ended.trackEntries(TRACK_BATCH, performance.timeOrigin);
    try {
      for (const { name, start, end, detail } of entries) performance.measure(name, { start, end, detail });
    } catch (error) {
      // A browser whose performance.measure takes no options (User Timing 3) has no such tracks.
      console.info(`web-executors: no DevTools tracks in this browser (${error.message})`);
      return;
    }
    // A full batch means more are waiting: the next turn takes them.
    setTimeout(follow, entries.length === TRACK_BATCH ? 0 : TRACK_EVERY_MS);
  };
  follow();
}

/** The two builds' glue as URLs, or a TypeError that says what `load()` needs. */
function buildsOf(builds) {
  const url = (value) => {
    try {
      return typeof value === 'string' || value instanceof URL ? new URL(value, globalThis.document?.baseURI ?? location.href) : null;
    } catch {
      return null;
    }
  };
  const [threads, plain] = [url(builds?.threads), url(builds?.plain)];
  if (!threads || !plain) {
    throw new TypeError(
      "load: give the URLs of your two builds' wasm-bindgen glue, " +
        "load({ builds: { threads: 'pkg/threads/app.js', plain: 'pkg/plain/app.js' } }) " +
        `(got builds: ${shown(builds)})`,
    );
  }
  return { threads, plain };
}

/** Why this page cannot run wasm threads, or null if it can: resolves once proven. */
export async function whyNoThreads() {
  if (!self.crossOriginIsolated) {
    return (
      'the page is not cross-origin isolated; serve it with the headers ' +
      '`Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy: require-corp`'
    );
  }
  // Making a shared memory proves little (WebKit on Linux makes one, then refuses to
  // post it): a worker must get it and write to it where this page reads.
  let memory;
  try {
    memory = new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
  } catch (error) {
    return `this browser cannot make shared WebAssembly memory (${error})`;
  }
  return new Promise((resolve) => {
    let worker;
    const end = (why) => {
      clearTimeout(timer);
      worker?.terminate();
      resolve(why);
    };
    const timer = setTimeout(() => end('a worker given shared memory did not answer within 5 s'), 5000);
    try {
      worker = new Worker(new URL('./workers.js', import.meta.url), { type: 'module', name: 'wx-probe' });
    } catch (error) {
      end(`a worker could not be created (${error.name}: ${error.message}); ${policyHint()}`);
      return;
    }
    try {
      worker.addEventListener('error', (event) => {
        event.preventDefault();
        end(`a worker could not start (${event.message || policyHint()})`);
      });
      worker.addEventListener('message', ({ data }) => {
        if (data?.type !== 'wx-probe') return;
        const seen = new Int32Array(memory.buffer)[0];
        end(seen === data.wrote ? null : 'a worker given shared memory wrote to a copy, not to the memory this page shares');
      });
      worker.postMessage({ type: 'wx-probe', memory });
    } catch (error) {
      end(`this browser cannot post shared memory to a worker (${error.name}: ${error.message})`);
    }
  });
}

/** The build, started: the module's exports once its wasm is instantiated. */
async function instantiate(builds, build) {
  const wx = await import(builds[build].href);
  await wx.default();
  wx.wxStart();
  // The program's jobs by name (`register_jobs!`), if it has any.
  wx.wxRegisterJobs?.();
  // Process workers always run the plain build: they share nothing anyway.
  wx.setProcessImage(builds.plain.href);
  return wx;
}

async function start({ builds: given, workers = navigator.hardwareConcurrency || 2, threads = true } = {}) {
  const builds = buildsOf(given);
  let why = threads ? await whyNoThreads() : 'the plain build was asked for (load({ threads: false }))';
  if (!why) {
    try {
      const wx = await instantiate(builds, 'threads');
      wx.setDefaultWorkers(workers);
      return api(wx, { build: 'threads', threadsAvailable: true, whyNoThreads: null });
    } catch (error) {
      // Its 1 GiB shared memory may not be reserved (Safari on iOS refuses large ones
      // more readily), or its workers not start: the plain build runs anyway.
      why = `the threaded build could not start (${error?.name ?? 'Error'}: ${error?.message ?? error})`;
    }
  }
  return api(await instantiate(builds, 'plain'), { build: 'plain', threadsAvailable: false, whyNoThreads: why });
}

/**
 * An async iterator over `source.next()` (which resolves to `undefined` after the last
 * item), that is also awaitable for all its items as an array. `item(raw)` maps what
 * `next()` resolved to; `close()` runs if the loop is left early. A source with
 * `takeReady()` (map's) hands over every result already in at once, so a long map
 * costs a wait only where a result is not yet in.
 */
function iterable(source, item, close) {
  let ready = [];
  let at = 0;
  const takeReady = () => {
    if (at === ready.length && source.takeReady) [ready, at] = [source.takeReady(), 0];
    return at < ready.length;
  };
  const iterator = {
    async next() {
      if (takeReady()) return { done: false, value: ready[at++] };
      const raw = await source.next();
      return raw === undefined ? { done: true, value: undefined } : { done: false, value: item(raw) };
    },
    async return() {
      [ready, at] = [[], 0];
      close?.();
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
    then(onFulfilled, onRejected) {
      const all = (async () => {
        const items = [];
        for (;;) {
          while (takeReady()) for (; at < ready.length; at++) items.push(ready[at]);
          const { done, value } = await iterator.next();
          if (done) return items;
          items.push(value);
        }
      })();
      return all.then(onFulfilled, onRejected);
    },
  };
  return iterator;
}

/** What `value` is, for an error message: `a number (123)`, `an Object`, `a Symbol`. */
function shown(value) {
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'object' || typeof value === 'function') return `a ${value.constructor?.name ?? typeof value}`;
  return typeof value === 'symbol' ? 'a symbol' : `a ${typeof value} (${String(value).slice(0, 40)})`;
}

/** `f` (number parameters), guarded: a value whose conversion to a number throws
 * would throw inside the wasm call, which wasm-bindgen takes for a crash of the module. */
export function numeric(f, owner) {
  return function (...args) {
    const at = args.findIndex((a) => a !== null && (typeof a === 'object' || typeof a === 'function' || typeof a === 'symbol' || typeof a === 'bigint'));
    if (at >= 0) throw new TypeError(`${owner}: expected a number (got ${shown(args[at])})`);
    return f.apply(this, args);
  };
}

/** `options` with its `module` as an absolute URL (each worker imports it from its own
 * script's URL, not the page's). */
function withModuleUrl(options) {
  const module = options?.module;
  if (module === undefined || !(typeof module === 'string' || module instanceof URL)) return options;
  try {
    return { ...options, module: new URL(module, globalThis.document?.baseURI ?? location.href).href };
  } catch {
    throw new TypeError(`ProcessPoolExecutor: module must be the URL of a JavaScript module (got ${shown(module)})`);
  }
}

/** `items` as an array, if it is an iterable (not a string); else a TypeError. */
function arrayOf(items, owner, what) {
  if (typeof items?.[Symbol.iterator] !== 'function' || typeof items === 'string') {
    throw new TypeError(`${owner}: expected an array or other iterable of ${what} (got ${shown(items)})`);
  }
  return Array.isArray(items) ? items : [...items];
}

/**
 * `jobs` as an array: as Python's `wait`, `as_completed` and `gather` take any iterable
 * of futures, these take any iterable of jobs (an array, a Set, a generator); anything
 * else, or anything in it but this library's jobs, is a TypeError.
 */
function listOf(jobs, owner, Job) {
  const list = arrayOf(jobs, owner, 'jobs');
  const at = list.findIndex((job) => !(job instanceof Job));
  if (at >= 0) throw new TypeError(`${owner}: expected jobs, as submit() returns them (got ${shown(list[at])} at ${at})`);
  return list;
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
      const results = this.mapJobs(name, arrayOf(items, 'map', 'items'), options);
      return iterable(results, (raw) => raw.value, () => results.cancelRest());
    },
  };
  /** Python's `ThreadPoolExecutor`: `new ThreadPoolExecutor({ maxWorkers: 3 })`. */
  class ThreadPoolExecutor extends wx.Executor {
    constructor(options) {
      super('threads', options);
    }
  }
  /**
   * Python's `ProcessPoolExecutor`: workers with no shared memory, on any page. With
   * `module` (a URL, relative to the page), its jobs are the functions that JavaScript
   * module exports, by name, instead of the build's registered jobs.
   */
  class ProcessPoolExecutor extends wx.Executor {
    constructor(options) {
      super('processes', withModuleUrl(options));
    }
  }
  executorApi.killWorker = numeric(wx.Executor.prototype.killWorker, 'killWorker');
  for (const Pool of [ThreadPoolExecutor, ProcessPoolExecutor]) {
    Object.defineProperties(Pool.prototype, Object.getOwnPropertyDescriptors(executorApi));
  }
  /**
   * Python's `as_completed(jobs, timeout)`: `for await (const job of asCompleted(jobs))`
   * gives each job once, as it completes; or await it for all of them in that order.
   * A timeout throws `TimeoutError` after the jobs that completed in time.
   */
  const asCompleted = (jobs, options) => {
    const given = listOf(jobs, 'asCompleted', wx.Job);
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
    wait: (jobs, options) => wx.wait(listOf(jobs, 'wait', wx.Job), options),
    asCompleted,
    gather: (jobs, options) => wx.gather(listOf(jobs, 'gather', wx.Job), options),
    records: wx.records,
    logLines: numeric(wx.logLines, 'logLines'),
    logLinesByProcess: numeric(wx.logLinesByProcess, 'logLinesByProcess'),
    logEntries: numeric(wx.logEntries, 'logEntries'),
    clearRecords: wx.clearRecords,
    jobNames: wx.jobNames,
    liveWorkers: wx.liveWorkers,
    /** Bytes of the wasm heap in use: for checking that memory comes back. */
    heapInUse: wx.heapInUse,
    // Runs kept apart, for a timeline that follows one: a run's number, its records,
    // log and trace, and forgetting it.
    newRun: wx.newRun,
    runRecords: numeric(wx.runRecords, 'runRecords'),
    forgetRun: numeric(wx.forgetRun, 'forgetRun'),
    runLog: numeric(wx.runLog, 'runLog'),
    runTrace: numeric(wx.runTrace, 'runTrace'),
    /** The build's own exports (the program's bindings beside the library's). */
    exports: wx,
  };
}
