//! The browser: workers are Web Workers that share the page's wasm memory (threaded
//! build), the clock is `performance`, timers are `setTimeout`.

use std::cell::RefCell;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use js_sys::{Function, JsString, Reflect};
use serde_json::Value;
use wasm_bindgen::prelude::*;

use crate::executors::job::ByName;
use crate::process::protocol::{self, Event, Outcome, ProcessHandle, Report, Sent, WorkerReport};
use crate::process::worker::{self, Emit};
use crate::runtime::sync::SpinLock;

#[wasm_bindgen]
extern "C" {
    /// The URL of the wasm-bindgen glue module, which a new worker imports.
    #[wasm_bindgen(thread_local_v2, js_namespace = ["import", "meta"], js_name = url)]
    static GLUE_URL: JsString;
    #[wasm_bindgen(thread_local_v2, js_name = performance)]
    static PERFORMANCE: web_sys::Performance;
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(handler: &JsValue, ms: f64) -> JsValue;
    /// A worker's `postMessage`, to its page.
    #[wasm_bindgen(js_name = postMessage)]
    fn post_message(message: &JsValue);
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
    #[wasm_bindgen(js_name = spawnProcess, catch)]
    fn spawn_process_js(
        glue_url: &JsString,
        module: &JsValue,
        pid: u32,
        initializer: Option<String>,
        jobs_module: Option<String>,
        on_report: &JsValue,
    ) -> Result<ProcessWorker, JsValue>;
    type ProcessWorker;
    #[wasm_bindgen(method, structural)]
    fn send(this: &ProcessWorker, batch: String);
    #[wasm_bindgen(method, structural)]
    fn terminate(this: &ProcessWorker);
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
    if BASE_URL.lock().is_none() {
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

fn describe(error: &JsValue) -> String {
    error
        .as_string()
        .unwrap_or_else(|| Reflect::get(error, &"message".into()).ok().and_then(|m| m.as_string()).unwrap_or_else(|| kind_of(error)))
}

/// What was thrown, as `TypeError: message`.
fn thrown(error: &JsValue) -> String {
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

/// A synchronous GET of a URL of the page's own origin (relative to the page), as on
/// every kind of worker: blocks the worker until the whole body is in. A status other
/// than 2xx fails it, as `requests.get(url).raise_for_status()`.
pub fn blocking_get(url: &str) -> Result<super::Fetched, String> {
    let location = || Reflect::get(&Reflect::get(&js_sys::global(), &"location".into()).ok()?, &"href".into()).ok()?.as_string();
    let base = BASE_URL.lock().clone().or_else(location);
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

/// The build process workers run (its glue's URL), when the page set one: the plain
/// build, which needs no shared memory. Otherwise they run this module, each with
/// memory of its own.
static PROCESS_IMAGE: SpinLock<Option<String>> = SpinLock::new(None);

/// Sets the build that process workers run: the URL of its wasm-bindgen glue.
#[wasm_bindgen(js_name = setProcessImage)]
pub fn set_process_image(glue_url: String) {
    *PROCESS_IMAGE.lock() = Some(glue_url);
}

/// What hears a process worker's events: a Rust closure JavaScript calls with an
/// event's JSON (and its result as a JS number, see `post_event`), or a death's reason.
type OnReport = Closure<dyn FnMut(Option<String>, Option<String>, Option<f64>)>;

thread_local! {
    /// The JS handles of this thread's process workers, with their pids and what hears
    /// them: the pool's handles are plain data, as the pool may be shared across
    /// threads. Ending a worker drops its listener here and then, not when the browser
    /// next collects garbage: the listener holds the pool, records and all.
    static PROCESSES: RefCell<Vec<(u32, ProcessWorker, OnReport)>> = const { RefCell::new(Vec::new()) };
}

/// Starts a process worker `pid`; `report` hears its events and its death.
pub(crate) fn spawn_process(
    pid: u32,
    initializer: Option<ByName>,
    jobs_module: Option<String>,
    report: Box<dyn Fn(WorkerReport) + Send + Sync>,
) -> Result<Arc<dyn ProcessHandle>, String> {
    let report = AssertUnwindSafe(report);
    let on_report = OnReport::new(move |event: Option<String>, death: Option<String>, result: Option<f64>| {
        let AssertUnwindSafe(report) = &report; // the whole wrapper, not just its field
        match (event, death) {
            (Some(json), _) => match serde_json::from_str(&json) {
                Ok(mut event) => {
                    if let (Event::Done(Report { outcome: Outcome::Ok(value), .. }), Some(exact)) = (&mut event, result) {
                        *value = Value::from(exact);
                    }
                    report(Ok(event))
                }
                Err(e) => report(Err(format!("sent a message that is not an event: {e}"))),
            },
            (None, reason) => report(Err(reason.unwrap_or_else(|| "exited".into()))),
        }
    });
    let initializer = initializer.map(|i| serde_json::to_string(&i).expect("calls serialise"));
    let image = PROCESS_IMAGE.lock().clone();
    let worker = match image {
        Some(url) => spawn_process_js(&url.into(), &JsValue::NULL, pid, initializer, jobs_module, on_report.as_ref()),
        None => GLUE_URL.with(|url| spawn_process_js(url, &wasm_bindgen::module(), pid, initializer, jobs_module, on_report.as_ref())),
    }
    .map_err(|e| describe(&e))?;
    PROCESSES.with(|p| p.borrow_mut().push((pid, worker, on_report)));
    Ok(Arc::new(WebProcess { pid }))
}

struct WebProcess {
    pid: u32,
}

impl ProcessHandle for WebProcess {
    fn send(&self, batch: Vec<Sent>) {
        let json = serde_json::to_string(&batch).expect("batches serialise");
        PROCESSES.with(|p| p.borrow().iter().find(|(pid, ..)| *pid == self.pid).map(|(_, w, _)| w.send(json)));
    }

    /// Ends the worker and drops its listener, which may be the caller: wasm-bindgen
    /// frees a closure dropped during its own call once the call returns.
    fn terminate(&self) {
        let removed = PROCESSES.with(|p| {
            let mut p = p.borrow_mut();
            p.iter().position(|(pid, ..)| *pid == self.pid).map(|i| p.swap_remove(i))
        });
        if let Some((_, worker, on_report)) = removed {
            worker.terminate();
            drop(on_report);
        }
    }
}

/// The JavaScript module a process worker runs jobs from: its URL, and its exports or
/// why it could not be imported.
struct ModuleJobs {
    url: String,
    exports: Result<JsValue, String>,
}

thread_local! {
    static MODULE_JOBS: RefCell<Option<ModuleJobs>> = const { RefCell::new(None) };
}

/// Runs job `name` from this process worker's JavaScript module, if its pool gave it
/// one. Arguments and results cross as JSON, as a registered job's do; a result must
/// also survive `structuredClone`, the browser's rule for what may cross.
pub(crate) fn module_job(name: &str, args: &[Value]) -> Option<Result<Value, String>> {
    MODULE_JOBS.with(|jobs| jobs.borrow().as_ref().map(|jobs| jobs.run(name, args)))
}

impl ModuleJobs {
    fn run(&self, name: &str, args: &[Value]) -> Result<Value, String> {
        let url = &self.url;
        let exports = self.exports.as_ref().map_err(|why| format!("the module {url} could not be imported: {why}"))?;
        let function: Function = Reflect::get(exports, &name.into()).ok().and_then(|f| f.dyn_into().ok()).ok_or_else(|| {
            let names: Vec<String> =
                js_sys::Object::keys::<JsValue>(exports.unchecked_ref()).iter().filter_map(|k| k.as_string()).collect();
            format!("the module {url} exports no function {name:?}; it exports: {}", names.join(", "))
        })?;
        let args = js_sys::JSON::parse(&serde_json::to_string(args).expect("JSON values serialise")).map_err(|e| describe(&e))?;
        let result = function.apply(&JsValue::UNDEFINED, args.unchecked_ref()).map_err(|e| format!("it threw {}", thrown(&e)))?;
        if Reflect::get(&result, &"then".into()).is_ok_and(|then| then.is_function()) {
            return Err(
                "it returned a Promise: a process worker runs one job to its end before the next, so export a plain (not async) function"
                    .into(),
            );
        }
        let clone: Function = Reflect::get(&js_sys::global(), &"structuredClone".into()).map_err(|e| describe(&e))?.unchecked_into();
        clone.call1(&JsValue::UNDEFINED, &result).map_err(|e| format!("its result cannot be cloned to the page ({})", thrown(&e)))?;
        match js_sys::JSON::stringify(&result).ok().and_then(|json| json.as_string()) {
            Some(json) => serde_json::from_str(&json).map_err(|e| format!("its result is not JSON: {e}")),
            None => Ok(Value::Null), // undefined, as a function that returns nothing
        }
    }
}

/// A process worker's start, called by www/workers.js: reports ready (or why not).
/// `base` is the page's base URL, against which its jobs resolve relative URLs;
/// `jobs_module` the JavaScript module its pool runs jobs from, imported by the
/// worker (`exports`, or why not in `failed`).
#[wasm_bindgen(js_name = wxProcessStart)]
pub fn process_start(
    pid: u32,
    initializer: Option<String>,
    base: Option<String>,
    jobs_module: Option<String>,
    exports: JsValue,
    failed: Option<String>,
) {
    if base.is_some() {
        *BASE_URL.lock() = base;
    }
    if let Some(url) = jobs_module {
        let exports = match failed {
            Some(why) => Err(why),
            None => Ok(exports),
        };
        MODULE_JOBS.with(|jobs| *jobs.borrow_mut() = Some(ModuleJobs { url, exports }));
    }
    // Where panics abort (the plain build), a panic ends this worker's instance: its
    // hook first tells the pool which call panicked and with what message, so that the
    // call fails as it would have had the panic unwound. Then it prints it as before.
    #[cfg(panic = "abort")]
    std::panic::set_hook(Box::new(|info| {
        if let Some(event) = worker::on_abort(crate::executors::job::panic_message(info.payload())) {
            post_event(&event);
        }
        console_error_panic_hook::hook(info);
    }));
    let initializer: Option<ByName> = initializer.and_then(|json| serde_json::from_str(&json).ok());
    let emit: Emit = Arc::new(|event| post_event(&event));
    post_event(&worker::start(pid, initializer.as_ref(), &emit));
}

/// Runs a batch sent to this process worker.
#[wasm_bindgen(js_name = wxProcessRun)]
pub fn process_run(batch: String) {
    match serde_json::from_str(&batch) {
        Ok(batch) => worker::run_batch(batch, &|event| post_event(&event)),
        Err(e) => console_note(&format!("web-executors: a process worker got a batch it cannot read: {e}")),
    }
}

/// Posts `event` to the page as JSON. A result that is a float with a fraction goes
/// beside it as a JS number too, which the page reads instead (see
/// `protocol::inexact_float`).
fn post_event(event: &Event) {
    let message = js_sys::Object::new();
    if let Event::Done(Report { outcome: Outcome::Ok(value), .. }) = event
        && let Some(exact) = protocol::inexact_float(value)
    {
        let _ = Reflect::set(&message, &"result".into(), &exact.into());
    }
    let json = serde_json::to_string(event).expect("events serialise");
    let _ = Reflect::set(&message, &"type".into(), &"wx-event".into());
    let _ = Reflect::set(&message, &"event".into(), &json.into());
    post_message(&message);
}
