// The Web Workers of web-executors. This module plays two parts:
// - on the page, the wasm glue imports it to start workers (`spawnThread`,
//   `spawnProcess`);
// - as a Web Worker's own script, it sets up the worker: a thread shares the page's
//   wasm memory and runs one Rust worker loop; a process has an instance of its own
//   and runs the calls it is sent, by name.

// Every Web Worker started here and not yet ended, with its name.
const live = new Map();

/** What a page whose policy forbids this library's workers must allow. */
const workerPolicyHint = () =>
  `the page's Content-Security-Policy may forbid workers: allow ${new URL(import.meta.url).origin} in worker-src (or in script-src, if it has no worker-src)`;

/** `new Worker(url, options)`; a browser that refuses it at once says why, with the fix. */
function newWorker(url, options) {
  try {
    return new Worker(url, options);
  } catch (error) {
    throw new Error(`a worker could not be created (${error.name}: ${error.message}); ${workerPolicyHint()}`);
  }
}

/**
 * Starts a worker named `name` and sends it `first`; `onMessage(data)` hears what it
 * sends, `onEnd(reason)` its end. Returns `{ post, end, ended }`.
 */
function start(name, first, onEnd, onMessage) {
  let worker;
  let ended = false;
  let heard = false;
  let tries = 0;
  const end = () => {
    if (ended) return false;
    ended = true;
    live.delete(worker);
    worker.terminate();
    return true;
  };
  const create = () => {
    // The worker holds this Web Lock while it lives: the page, asking for the same
    // lock, is granted it when the worker ends, however it ends. So an end that sends
    // no event (a worker stopped from outside, its script halted) is heard too.
    const life = `web-executors ${name} ${Math.random()}`;
    worker = newWorker(new URL(import.meta.url), { type: 'module', name });
    live.set(worker, name);
    worker.addEventListener('error', (event) => {
      event.preventDefault();
      // WebKitGTK (2.50) on an isolated page with shared memory on: after workers have
      // ended, as many new ones can fail to load, with no message. Start it again, but
      // only one that never said it started: a thread's entry must run once.
      if (!heard && !event.message && tries < 4 && !ended) {
        tries++;
        live.delete(worker);
        worker.terminate();
        create();
        return;
      }
      if (end()) onEnd(event.message || `worker ${name} failed to start; ${workerPolicyHint()}`);
    });
    worker.addEventListener('message', ({ data }) => {
      heard = true;
      if (data?.type === 'wx-started') {
        navigator.locks?.request(life, () => {
          if (end()) onEnd(`worker ${name} stopped without a word (stopped from outside?)`);
        });
        return;
      }
      if (data?.type === 'wx-exit') {
        if (end()) onEnd(data.reason);
      } else if (!ended) {
        onMessage?.(data);
      }
    });
    worker.postMessage({ ...first, life });
  };
  create();
  return { post: (message) => worker.postMessage(message), end, ended: () => ended };
}

/** A thread: runs `entry` (a Rust closure) on the shared `memory`. */
export function spawnThread(glueUrl, module, memory, name, entry, onExit) {
  start(name, { type: 'wx-thread', glueUrl, module, memory, entry }, onExit);
}

/**
 * A process: its own instance of `module` (or of the build at `glueUrl`), which runs
 * the batches sent to it, by the build's registered jobs or, given `jobsModule`, by the
 * functions that JavaScript module exports. `onReport(eventJson, null, results)` for each event it sends
 * (`results`: the event's results as JS numbers, at their reports' places, when some
 * crossed as such too),
 * `onReport(null, reason)` when it dies; nothing after it ended (the pool drops
 * `onReport` with the worker). `terminate()` ends it without a report.
 */
export function spawnProcess(glueUrl, module, pid, initializer, jobsModule, onReport) {
  const worker = start(
    String(pid),
    // The page's URL, against which the worker's jobs resolve relative URLs.
    { type: 'wx-process', glueUrl, module, pid, initializer, jobsModule, base: globalThis.document?.baseURI ?? null },
    (reason) => onReport(null, reason),
    (data) => data?.type === 'wx-event' && onReport(data.event, null, data.results),
  );
  return {
    send: (batch) => worker.post({ type: 'wx-run', batch }),
    terminate: () => worker.end(),
  };
}

/** The names of the workers alive (threads' names, processes' ids). */
export function liveWorkers() {
  return [...live.values()];
}

async function thread({ glueUrl, module, memory, entry }) {
  const glue = await import(glueUrl);
  const wasm = glue.initSync({ module, memory });
  // The raw export, not the glue's wrapper: after a trap the wrapper marks the
  // module terminated in (shared) memory, which would stop every thread. Panics
  // unwind inside Rust and never get here; a trap ends only this worker, which
  // the pool replaces.
  try {
    wasm.wxWorkerMain(entry);
  } finally {
    // The thread is done, its loop returned or a trap ended it: give its stack and
    // thread-locals back to the shared heap (wasm-bindgen allocated them when the
    // thread started). Nothing runs on this thread after it.
    wasm.__wbindgen_thread_destroy();
  }
}

async function process({ glueUrl, module, pid, initializer, jobsModule, base }) {
  const glue = await import(glueUrl);
  if (module) glue.initSync({ module });
  else await glue.default();
  glue.wxStart();
  // The program's jobs by name (`register_jobs!`), as the page has them.
  glue.wxRegisterJobs?.();
  // A pool given a JavaScript module runs its exported functions: imported before the
  // worker says it is ready, and if it cannot be, each job says why.
  let exports = null;
  let failed = null;
  if (jobsModule) {
    try {
      exports = await import(jobsModule);
    } catch (error) {
      failed = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    }
  }
  self.addEventListener('message', ({ data }) => {
    if (data?.type !== 'wx-run') return;
    try {
      glue.wxProcessRun(data.batch);
    } catch (error) {
      exit(error);
    }
  });
  glue.wxProcessStart(pid, initializer, base, jobsModule ?? null, exports, failed);
  return new Promise(() => {}); // lives until terminated
}

/** Holds the Web Lock `name` until this worker ends (see `start`); resolves once held. */
function holdLife(name) {
  if (!name || !self.navigator?.locks) return undefined;
  return new Promise((held) => navigator.locks.request(name, () => (held(), new Promise(() => {}))));
}

/** The page's proof that threads work: write to the shared memory it posted. */
function probe({ memory }) {
  const wrote = 42;
  new Int32Array(memory.buffer)[0] = wrote;
  postMessage({ type: 'wx-probe', wrote });
}

function exit(error) {
  // A trap reads differently in each engine (`unreachable`, `unreachable executed`,
  // `Unreachable code should not be executed`): say what it is, then the engine's words.
  const reason =
    error == null
      ? null
      : error instanceof WebAssembly.RuntimeError
        ? `trapped (${error.message})`
        : error instanceof Error
          ? `${error.name}: ${error.message}`
          : String(error);
  postMessage({ type: 'wx-exit', reason });
  close();
}

// Only as a worker's own script; a copy imported by another build's glue stays inert.
if (typeof WorkerGlobalScope !== 'undefined' && self instanceof WorkerGlobalScope && import.meta.url === self.location.href) {
  self.addEventListener('message', async function begin({ data }) {
    const role = { 'wx-thread': thread, 'wx-process': process, 'wx-probe': probe }[data?.type];
    if (!role) return;
    self.removeEventListener('message', begin);
    await holdLife(data.life);
    // Loaded: from here on it is this worker's, and a failure is its death.
    postMessage({ type: 'wx-started' });
    try {
      await role(data);
      exit(null);
    } catch (error) {
      exit(error);
    }
  });
}
