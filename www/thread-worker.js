// A worker thread of web-executors. The same module plays two parts:
// - on any thread, the wasm glue imports it for `spawnWorker`;
// - as a Web Worker's script, it instantiates the shared wasm module and runs one
//   Rust worker loop until the pool lets it go.

// Every Web Worker started here and not yet ended, with its name.
const live = new Map();

export function spawnWorker(glueUrl, module, memory, name, entry, onExit) {
  const worker = new Worker(new URL(import.meta.url), { type: 'module', name });
  live.set(worker, name);
  const end = (reason) => {
    if (!live.delete(worker)) return;
    worker.terminate();
    onExit(reason);
  };
  worker.addEventListener('message', ({ data }) => {
    if (data?.type === 'wx-exit') end(data.reason);
  });
  worker.addEventListener('error', (event) => {
    event.preventDefault();
    end(event.message || `worker ${name} failed to start`);
  });
  worker.postMessage({ type: 'wx-start', glueUrl, module, memory, entry });
}

export function liveWorkers() {
  return [...live.values()];
}

if (typeof WorkerGlobalScope !== 'undefined' && self instanceof WorkerGlobalScope) {
  self.addEventListener('message', async function start({ data }) {
    if (data?.type !== 'wx-start') return;
    self.removeEventListener('message', start);
    let reason = null;
    try {
      const glue = await import(data.glueUrl);
      const wasm = glue.initSync({ module: data.module, memory: data.memory });
      // The raw export, not the glue's wrapper: after a trap the wrapper marks the
      // module terminated in (shared) memory, which would stop every thread. Panics
      // unwind inside Rust and never get here; a trap ends only this worker, which
      // the pool replaces.
      wasm.wxWorkerMain(data.entry);
    } catch (error) {
      reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    }
    postMessage({ type: 'wx-exit', reason });
    close();
  });
}
