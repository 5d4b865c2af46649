// The Web Workers of web-executors. This module plays two parts:
// - on the page, the wasm glue imports it to start workers (`spawnThread`,
//   `spawnProcess`);
// - as a Web Worker's own script, it sets up the worker: a thread shares the page's
//   wasm memory and runs one Rust worker loop; a process has an instance of its own
//   and runs the calls it is sent, by name.

// Every Web Worker started here and not yet ended, with its name.
const live = new Map();

function start(name, onEnd) {
  const worker = new Worker(new URL(import.meta.url), { type: 'module', name });
  live.set(worker, name);
  let ended = false;
  const end = (reason) => {
    if (ended) return false;
    ended = true;
    live.delete(worker);
    worker.terminate();
    return true;
  };
  worker.addEventListener('error', (event) => {
    event.preventDefault();
    if (end()) onEnd(event.message || `worker ${name} failed to start`);
  });
  worker.addEventListener('message', ({ data }) => {
    if (data?.type === 'wx-exit' && end()) onEnd(data.reason);
  });
  return { worker, end, ended: () => ended };
}

/** A thread: runs `entry` (a Rust closure) on the shared `memory`. */
export function spawnThread(glueUrl, module, memory, name, entry, onExit) {
  const { worker } = start(name, onExit);
  worker.postMessage({ type: 'wx-thread', glueUrl, module, memory, entry });
}

/**
 * A process: its own instance of `module` (or of the build at `glueUrl`), which runs
 * the batches sent to it. `onReport(eventJson, null, result)` for each event it sends
 * (`result`: a call's result as a JS number, when it crossed as one too),
 * `onReport(null, reason)` when it dies; nothing after it ended. `terminate()` ends it
 * without a report.
 */
export function spawnProcess(glueUrl, module, pid, initializer, onReport) {
  const { worker, end, ended } = start(String(pid), (reason) => onReport(null, reason));
  worker.addEventListener('message', ({ data }) => {
    // Once ended, onReport may be gone (the pool drops it with the worker).
    if (data?.type === 'wx-event' && !ended()) onReport(data.event, null, data.result);
  });
  worker.postMessage({ type: 'wx-process', glueUrl, module, pid, initializer });
  return {
    send: (batch) => worker.postMessage({ type: 'wx-run', batch }),
    terminate: () => end(),
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

async function process({ glueUrl, module, pid, initializer }) {
  const glue = await import(glueUrl);
  if (module) glue.initSync({ module });
  else await glue.default();
  self.addEventListener('message', ({ data }) => {
    if (data?.type !== 'wx-run') return;
    try {
      glue.wxProcessRun(data.batch);
    } catch (error) {
      exit(error);
    }
  });
  glue.wxProcessStart(pid, initializer);
  return new Promise(() => {}); // lives until terminated
}

/** The page's proof that threads work: write to the shared memory it posted. */
function probe({ memory }) {
  const wrote = 42;
  new Int32Array(memory.buffer)[0] = wrote;
  postMessage({ type: 'wx-probe', wrote });
}

function exit(error) {
  const reason = error == null ? null : error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  postMessage({ type: 'wx-exit', reason });
  close();
}

// Only as a worker's own script; a copy imported by another build's glue stays inert.
if (typeof WorkerGlobalScope !== 'undefined' && self instanceof WorkerGlobalScope && import.meta.url === self.location.href) {
  self.addEventListener('message', async function begin({ data }) {
    const role = { 'wx-thread': thread, 'wx-process': process, 'wx-probe': probe }[data?.type];
    if (!role) return;
    self.removeEventListener('message', begin);
    try {
      await role(data);
      exit(null);
    } catch (error) {
      exit(error);
    }
  });
}
