//! The browser's process workers: a Web Worker each, with a wasm instance of its own
//! (the plain build), talking to its pool by messages. The page's side starts them and
//! hears their events; the worker's side (`wxProcessStart`, `wxProcessRun`, called by
//! www/library/workers.js) runs the calls.

use std::cell::RefCell;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use js_sys::{JsString, Reflect};
use serde_json::Value;
use wasm_bindgen::prelude::*;

use crate::platform::{self, GLUE_URL, console_note, describe, post_message};
use crate::process::protocol::{self, ByName, Event, Outcome, ProcessHandle, Report, Sent, WorkerReport};
use crate::process::worker::{self, Emit};
use crate::runtime::sync::SpinLock;

#[wasm_bindgen(module = "/www/library/workers.js")]
extern "C" {
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
/// event's JSON (and its results as JS numbers, see `post_event`), or a death's reason.
type OnReport = Closure<dyn FnMut(Option<String>, Option<String>, JsValue)>;

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
    let on_report = OnReport::new(move |event: Option<String>, death: Option<String>, results: JsValue| {
        let AssertUnwindSafe(report) = &report; // the whole wrapper, not just its field
        match (event, death) {
            (Some(json), _) => match serde_json::from_str(&json) {
                Ok(mut event) => {
                    if let (Event::Done(reports), true) = (&mut event, results.is_array()) {
                        let results = js_sys::Array::from(&results);
                        for (k, report) in reports.iter_mut().enumerate() {
                            if let (Outcome::Ok(value), Some(exact)) = (&mut report.outcome, results.get(k as u32).as_f64()) {
                                *value = Value::from(exact);
                            }
                        }
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
    if let Some(base) = base {
        platform::set_base_url(base);
    }
    if let Some(url) = jobs_module {
        worker::run_from_module(url, failed.map_or(Ok(exports), Err));
    }
    // Where panics abort (the plain build), a panic ends this worker's instance: its
    // hook first tells the pool which call panicked and with what message, so that the
    // call fails as it would have had the panic unwound. Then it prints it as before.
    #[cfg(panic = "abort")]
    std::panic::set_hook(Box::new(|info| {
        worker::on_abort(platform::panic_message(info.payload())).iter().for_each(post_event);
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
/// beside it as a JS number too (in `results`, at its report's place), which the page
/// reads instead (see `protocol::inexact_float`).
fn post_event(event: &Event) {
    let message = js_sys::Object::new();
    if let Event::Done(reports) = event {
        let exact = |report: &Report| match &report.outcome {
            Outcome::Ok(value) => protocol::inexact_float(value),
            _ => None,
        };
        if reports.iter().any(|r| exact(r).is_some()) {
            let results: js_sys::Array = reports.iter().map(|r| exact(r).map_or(JsValue::NULL, JsValue::from_f64)).collect();
            let _ = Reflect::set(&message, &"results".into(), &results);
        }
    }
    let json = serde_json::to_string(event).expect("events serialise");
    let _ = Reflect::set(&message, &"type".into(), &"wx-event".into());
    let _ = Reflect::set(&message, &"event".into(), &json.into());
    post_message(&message);
}
