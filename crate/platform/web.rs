//! The browser: workers are Web Workers that share the page's wasm memory (threaded
//! build), the clock is `performance`, timers are `setTimeout`.

use std::future::Future;
use std::pin::Pin;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

use js_sys::{JsString, Reflect};
use wasm_bindgen::prelude::*;

use crate::sync::SpinLock;

#[wasm_bindgen]
extern "C" {
    /// The URL of the wasm-bindgen glue module, which a new worker imports.
    #[wasm_bindgen(thread_local_v2, js_namespace = ["import", "meta"], js_name = url)]
    static GLUE_URL: JsString;
    #[wasm_bindgen(thread_local_v2, js_name = performance)]
    static PERFORMANCE: web_sys::Performance;
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(handler: &JsValue, ms: f64) -> JsValue;
}

#[wasm_bindgen(module = "/www/thread-worker.js")]
extern "C" {
    #[wasm_bindgen(js_name = spawnWorker, catch)]
    fn spawn_worker_js(
        glue_url: &JsString,
        module: &JsValue,
        memory: &JsValue,
        name: &str,
        entry: u32,
        on_exit: &JsValue,
    ) -> Result<(), JsValue>;
    /// The names of the Web Workers this library started and has not yet seen end.
    #[wasm_bindgen(js_name = liveWorkers)]
    pub fn live_workers() -> Vec<String>;
}

/// Milliseconds since the Unix epoch. Each worker's `performance.now()` counts from its
/// own time origin, so the origin is added to put all threads on one clock.
pub fn now_ms() -> f64 {
    PERFORMANCE.with(|p| p.time_origin() + p.now())
}

pub fn cpu_count() -> usize {
    Reflect::get(&js_sys::global(), &"navigator".into())
        .and_then(|nav| Reflect::get(&nav, &"hardwareConcurrency".into()))
        .ok()
        .and_then(|n| n.as_f64())
        .map_or(1, |n| n.max(1.0) as usize)
}

/// Threads need the threaded build, which only instantiates on a cross-origin isolated
/// page (its memory is a SharedArrayBuffer).
pub fn threads_available() -> Result<(), String> {
    if cfg!(target_feature = "atomics") {
        Ok(())
    } else {
        Err("the page is not cross-origin isolated; serve it with the headers \
             `Cross-Origin-Opener-Policy: same-origin` and \
             `Cross-Origin-Embedder-Policy: require-corp`"
            .into())
    }
}

/// Starts a Web Worker that instantiates the shared module and runs `body`. `on_exit`
/// is called on this thread when it ends: `None` after `body` returned, `Some(reason)`
/// if it died (a trap, a failed start).
pub fn spawn_worker(
    name: &str,
    body: Box<dyn FnOnce() + Send>,
    on_exit: Box<dyn FnOnce(Option<String>) + Send>,
) -> Result<(), String> {
    let entry = Box::into_raw(Box::new(body));
    let on_exit = AssertUnwindSafe(on_exit);
    let on_exit = Closure::once_into_js(move |reason: JsValue| {
        let on_exit = on_exit; // the whole wrapper, not just its field
        (on_exit.0)(reason.as_string())
    });
    GLUE_URL
        .with(|url| {
            spawn_worker_js(url, &wasm_bindgen::module(), &wasm_bindgen::memory(), name, entry as u32, &on_exit)
        })
        .map_err(|error| {
            // SAFETY: the worker was not created, so `entry` was never handed over.
            drop(unsafe { Box::from_raw(entry) });
            describe(&error)
        })
}

/// A worker's entry point, called by www/thread-worker.js with what `spawn_worker` made.
#[wasm_bindgen(js_name = wxWorkerMain)]
pub fn worker_main(entry: u32) {
    // SAFETY: `entry` is the `Box` leaked by `spawn_worker`, handed to exactly one worker.
    let body = unsafe { Box::from_raw(entry as *mut Box<dyn FnOnce() + Send>) };
    body()
}

fn describe(error: &JsValue) -> String {
    error.as_string().unwrap_or_else(|| {
        Reflect::get(error, &"message".into()).ok().and_then(|m| m.as_string()).unwrap_or_else(|| format!("{error:?}"))
    })
}

/// Calls `fire` on this thread once `duration` has passed.
pub fn start_timer(duration: Duration, fire: Box<dyn FnOnce() + Send>) {
    set_timeout(&Closure::once_into_js(AssertUnwindSafe(fire)), duration.as_secs_f64() * 1000.0);
}

/// Starts `future` on this thread's event loop.
pub fn spawn_task(future: Pin<Box<dyn Future<Output = ()> + Send>>) {
    wasm_bindgen_futures::spawn_local(AssertUnwindSafe(future));
}

thread_local! {
    /// Only the page's main thread has a `document`.
    static ON_MAIN_THREAD: bool = Reflect::has(&js_sys::global(), &"document".into()).unwrap_or(false);
}

/// Blocks the calling thread for `duration`, as `time.sleep`. A worker sleeps on an
/// atomic; the main thread may not wait, so there (and in a build without shared
/// memory) it spins, which is the freeze a blocking call on the main thread causes.
pub fn block_for(duration: Duration) {
    if cfg!(target_feature = "atomics") && !ON_MAIN_THREAD.with(|m| *m) {
        std::thread::sleep(duration);
    } else {
        let end = now_ms() + duration.as_secs_f64() * 1000.0;
        while now_ms() < end {
            std::hint::spin_loop();
        }
    }
}

/// The page's base URL, so that a worker resolves relative URLs as the page would.
static BASE_URL: SpinLock<Option<String>> = SpinLock::new(None);

/// Records the page's base URL; called on the main thread at start.
pub fn remember_base_url() {
    let base = Reflect::get(&js_sys::global(), &"document".into())
        .and_then(|doc| Reflect::get(&doc, &"baseURI".into()))
        .ok()
        .and_then(|b| b.as_string());
    if base.is_some() {
        *BASE_URL.lock() = base;
    }
}

/// A synchronous GET: blocks the worker until the whole body is in.
pub fn blocking_get(url: &str) -> Result<crate::jobs::Fetched, String> {
    let base = BASE_URL.lock().clone();
    let absolute = match &base {
        Some(base) => web_sys::Url::new_with_base(url, base).map_err(|e| describe(&e))?.href(),
        None => url.to_owned(),
    };
    let started = now_ms();
    let request = web_sys::XmlHttpRequest::new().map_err(|e| describe(&e))?;
    request.open_with_async("GET", &absolute, false).map_err(|e| describe(&e))?;
    request.send().map_err(|e| format!("GET {absolute} failed: {}", describe(&e)))?;
    let status = request.status().map_err(|e| describe(&e))?;
    let body = request.response_text().map_err(|e| describe(&e))?.unwrap_or_default();
    Ok(crate::jobs::Fetched { status, length: body.len(), ms: now_ms() - started })
}
