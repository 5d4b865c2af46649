//! The browser: workers are Web Workers that share the page's wasm memory (threaded
//! build), the clock is `performance`, timers are `setTimeout`.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::time::Duration;

use js_sys::{JsString, Reflect};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// The URL of the wasm-bindgen glue module, which a new worker imports.
    #[wasm_bindgen(thread_local_v2, js_namespace = ["import", "meta"], js_name = url)]
    pub static GLUE_URL: JsString;
    #[wasm_bindgen(thread_local_v2, js_name = performance)]
    static PERFORMANCE: web_sys::Performance;
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(handler: &JsValue, ms: f64) -> JsValue;
    /// A worker's `postMessage`, to its page.
    #[wasm_bindgen(js_name = postMessage)]
    pub fn post_message(message: &JsValue);
}

#[wasm_bindgen(module = "/www/library/workers.js")]
extern "C" {
    #[wasm_bindgen(js_name = spawnThread, catch)]
    fn spawn_thread_js(
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
/// own time origin, so the origin is added to put all threads on one clock. Never less
/// than this thread's last reading: WebKit's coarsened clock was seen to step back
/// within a worker, so that one worker's jobs overlapped in their records.
pub fn now_ms() -> f64 {
    thread_local!(static LAST: std::cell::Cell<f64> = const { std::cell::Cell::new(0.0) });
    let now = PERFORMANCE.with(|p| p.time_origin() + p.now());
    LAST.with(|last| {
        let now = now.max(last.get());
        last.set(now);
        now
    })
}

pub fn cpu_count() -> usize {
    Reflect::get(&js_sys::global(), &"navigator".into())
        .and_then(|nav| Reflect::get(&nav, &"hardwareConcurrency".into()))
        .ok()
        .and_then(|n| n.as_f64())
        .map_or(1, |n| n.max(1.0) as usize)
}

/// What says a build has threads: `()` in the threaded build. The plain build has none,
/// so there it is uninhabited, and code that needs it (a `ThreadPoolExecutor`'s) is
/// known dead and left out.
#[cfg(target_feature = "atomics")]
pub type Threads = ();
#[cfg(not(target_feature = "atomics"))]
pub type Threads = std::convert::Infallible;

/// [`Threads`], or why this build has none.
pub fn threads() -> Result<Threads, String> {
    #[cfg(target_feature = "atomics")]
    return Ok(());
    #[cfg(not(target_feature = "atomics"))]
    Err("the page is not cross-origin isolated; serve it with the headers \
         `Cross-Origin-Opener-Policy: same-origin` and \
         `Cross-Origin-Embedder-Policy: require-corp`"
        .into())
}

/// Starts a Web Worker that instantiates the shared module and runs `body`. `on_exit`
/// is called on this thread when it ends: `None` after `body` returned, `Some(reason)`
/// if it died (a trap, a failed start).
pub fn spawn_worker(name: &str, body: Box<dyn FnOnce() + Send>, on_exit: Box<dyn FnOnce(Option<String>) + Send>) -> Result<(), String> {
    // The page's URL, for the jobs of this thread (a page whose module did not start
    // through `start`, such as a test runner's, has not recorded it yet).
    if BASE_URL.get().is_none() {
        remember_base_url();
    }
    let entry = Box::into_raw(Box::new(body));
    let on_exit = AssertUnwindSafe(on_exit);
    let on_exit = Closure::once_into_js(move |reason: JsValue| {
        let on_exit = on_exit; // the whole wrapper, not just its field
        (on_exit.0)(reason.as_string())
    });
    GLUE_URL.with(|url| spawn_thread_js(url, &wasm_bindgen::module(), &wasm_bindgen::memory(), name, entry as u32, &on_exit)).map_err(
        |error| {
            // SAFETY: the worker was not created, so `entry` was never handed over.
            drop(unsafe { Box::from_raw(entry) });
            describe(&error)
        },
    )
}

/// A thread's entry point, called by www/workers.js with what `spawn_worker` made.
/// (Only the threaded build has threads.)
#[cfg(target_feature = "atomics")]
#[wasm_bindgen(js_name = wxWorkerMain)]
pub fn worker_main(entry: u32) {
    // SAFETY: `entry` is the `Box` leaked by `spawn_worker`, handed to exactly one worker.
    let body = unsafe { Box::from_raw(entry as *mut Box<dyn FnOnce() + Send>) };
    body()
}

pub fn describe(error: &JsValue) -> String {
    error
        .as_string()
        .unwrap_or_else(|| Reflect::get(error, &"message".into()).ok().and_then(|m| m.as_string()).unwrap_or_else(|| kind_of(error)))
}

/// What was thrown, as `TypeError: message`.
pub fn thrown(error: &JsValue) -> String {
    match Reflect::get(error, &"name".into()).ok().and_then(|n| n.as_string()) {
        Some(name) => format!("{name}: {}", describe(error)),
        None => describe(error),
    }
}

/// What kind of value `value` is, for a message: `a function`, `an object`. (Not
/// `JsValue`'s `Debug`, whose JavaScript half the glue would then carry.)
pub fn kind_of(value: &JsValue) -> String {
    match value.js_typeof().as_string().unwrap_or_default().as_str() {
        "undefined" => "undefined".to_owned(),
        kind @ "object" => format!("an {kind}"),
        kind => format!("a {kind}"),
    }
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

/// Waits for a contended lock word to change from `value`. A worker sleeps on it, so
/// that on a machine with few cores a waiting worker leaves the core to the holder; the
/// main thread may not sleep, so it spins.
pub fn wait_while(word: &std::sync::atomic::AtomicI32, value: i32, _spins: u32) {
    #[cfg(target_feature = "atomics")]
    if !ON_MAIN_THREAD.with(|m| *m) {
        // SAFETY: `word` is a live, aligned i32 in this instance's shared memory.
        unsafe { core::arch::wasm32::memory_atomic_wait32(word.as_ptr(), value, -1) };
        return;
    }
    let _ = (word, value);
    std::hint::spin_loop();
}

/// Wakes one thread asleep in [`wait_while`] on `word`.
pub fn wake_one(word: &std::sync::atomic::AtomicI32) {
    #[cfg(target_feature = "atomics")]
    // SAFETY: as in `wait_while`.
    unsafe {
        core::arch::wasm32::memory_atomic_notify(word.as_ptr(), 1);
    }
    #[cfg(not(target_feature = "atomics"))]
    let _ = word;
}

/// Blocks the calling thread for `duration`, as `time.sleep`, and says how. A worker
/// sleeps on an atomic; the main thread may not wait, and a build without shared
/// memory has no atomic to wait on, so there it spins: the freeze a blocking call on
/// the main thread causes, or a process worker kept busy for the time asked.
pub fn block_for(duration: Duration) -> &'static str {
    if cfg!(target_feature = "atomics") && !ON_MAIN_THREAD.with(|m| *m) {
        std::thread::sleep(duration);
        "sleeping"
    } else {
        let end = now_ms() + duration.as_secs_f64() * 1000.0;
        while now_ms() < end {
            std::hint::spin_loop();
        }
        if cfg!(target_feature = "atomics") { "spinning (the main thread may not wait)" } else { "spinning (no shared memory to sleep on)" }
    }
}

/// The page's base URL, so that a worker resolves relative URLs as the page would.
static BASE_URL: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Records the page's base URL; called on the main thread at start.
pub fn remember_base_url() {
    let base = Reflect::get(&js_sys::global(), &"document".into())
        .and_then(|doc| Reflect::get(&doc, &"baseURI".into()))
        .ok()
        .and_then(|b| b.as_string());
    if let Some(base) = base {
        set_base_url(base);
    }
}

/// Sets the base URL this instance's jobs resolve relative URLs against: the page's.
/// The first setting stands (a page has one base; a process worker is told it once).
pub fn set_base_url(base: String) {
    let _ = BASE_URL.set(base);
}

/// A synchronous GET of a URL of the page's own origin (relative to the page), as on
/// every kind of worker: blocks the worker until the whole body is in. A status other
/// than 2xx fails it, as `requests.get(url).raise_for_status()`.
pub fn blocking_get(url: &str) -> Result<super::Fetched, String> {
    let location = || Reflect::get(&Reflect::get(&js_sys::global(), &"location".into()).ok()?, &"href".into()).ok()?.as_string();
    let base = BASE_URL.get().cloned().or_else(location);
    let base = base.ok_or("GET: this worker does not know the page's URL")?;
    let (page, target) =
        (web_sys::Url::new(&base).map_err(|e| describe(&e))?, web_sys::Url::new_with_base(url, &base).map_err(|e| describe(&e))?);
    let absolute = target.href();
    // A link can name any URL: a visitor's browser fetches from the page's origin only.
    if target.origin() != page.origin() {
        return Err(format!("GET {absolute} refused: jobs fetch only from this page's origin, {}", page.origin()));
    }
    let started = now_ms();
    let request = web_sys::XmlHttpRequest::new().map_err(|e| describe(&e))?;
    request.open_with_async("GET", &absolute, false).map_err(|e| describe(&e))?;
    // Bytes, not text: a body longer than the largest JS string still has a length.
    request.set_response_type(web_sys::XmlHttpRequestResponseType::Arraybuffer);
    request.send().map_err(|e| format!("GET {absolute} failed: {}", describe(&e)))?;
    let status = request.status().map_err(|e| describe(&e))?;
    if !(200..300).contains(&status) {
        return Err(format!("GET {absolute}: HTTP {status}"));
    }
    let body = request.response().map_err(|e| describe(&e))?;
    let body = body.dyn_ref::<js_sys::ArrayBuffer>().ok_or_else(|| format!("GET {absolute}: the body could not be held in memory"))?;
    Ok(super::Fetched { status, length: body.byte_length() as usize, ms: now_ms() - started })
}

/// A note for the developer's console.
pub fn console_note(message: &str) {
    web_sys::console::info_1(&message.into());
}
