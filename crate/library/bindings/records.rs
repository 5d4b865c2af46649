//! What JavaScript reads of the runs: records, log lines, traces; of the page or of
//! one run (`newRun`), for a timeline that follows it.

use std::panic::AssertUnwindSafe;

use wasm_bindgen::prelude::*;

use super::convert::to_js;
use crate::observe::{devtools, log, record, trace};
use crate::platform;
use crate::process::registry;
use crate::runtime::scope;

/// Every job record of the page, in submission order.
#[wasm_bindgen]
pub fn records() -> JsValue {
    to_js(&record::records())
}

/// The log lines from index `from` on, formatted as Python's logging formats them.
#[wasm_bindgen(js_name = logLines)]
pub fn log_lines(from: Option<usize>) -> Vec<String> {
    log::lines_since(from.unwrap_or(0)).iter().map(log::LogLine::format).collect()
}

/// The log lines from index `from` on, as objects: time, thread, logger, message.
#[wasm_bindgen(js_name = logEntries)]
pub fn log_entries(from: Option<usize>) -> JsValue {
    to_js(&log::lines_since(from.unwrap_or(0)))
}

/// Forgets all records and log lines (jobs still running keep going).
#[wasm_bindgen(js_name = clearRecords)]
pub fn clear_records() {
    record::clear();
    log::clear();
    // The JS jobs stay: a `Job` still held can still be awaited and waited on.
}

/// Bytes of the wasm heap in use (allocated and not freed), across its threads.
#[wasm_bindgen(js_name = heapInUse)]
pub fn heap_in_use() -> f64 {
    crate::runtime::heap::in_use() as f64
}

/// The names of the registered jobs.
#[wasm_bindgen(js_name = jobNames)]
pub fn job_names() -> Vec<String> {
    registry::installed().names().into_iter().map(str::to_owned).collect()
}

/// The names of this library's live Web Workers (the default executor's among them).
#[wasm_bindgen(js_name = liveWorkers)]
pub fn live_workers() -> Vec<String> {
    platform::live_workers()
}

/// A number for a new run: its jobs and log lines are kept apart from other runs'.
#[wasm_bindgen(js_name = newRun)]
pub fn new_run() -> u32 {
    scope::new_run()
}

/// Forgets run `run`'s records and log lines: a widget's run that was replaced, or
/// whose widget left the page. (Its jobs, if still going, go on.)
#[wasm_bindgen(js_name = forgetRun)]
pub fn forget_run(run: u32) {
    record::forget_run(run);
    log::forget_run(run);
}

/// The job records of run `run`, in submission order.
#[wasm_bindgen(js_name = runRecords)]
pub fn run_records(run: u32) -> JsValue {
    to_js(&record::records_of_run(run))
}

/// The log lines of run `run`, formatted as its program formats them: with thread
/// names, or with process ids (`byProcess`, scenario 2's format).
/// From line `from` on (for a reader that polls while the run goes on).
#[wasm_bindgen(js_name = runLog)]
pub fn run_log(run: u32, by_process: bool, from: Option<usize>) -> Vec<String> {
    let format = if by_process { log::LogLine::format_process } else { log::LogLine::format };
    log::lines_of_run_from(run, from.unwrap_or(0)).iter().map(format).collect()
}

/// Run `run` as Chrome trace-event JSON (opens in Perfetto and DevTools).
#[wasm_bindgen(js_name = runTrace)]
pub fn run_trace(run: u32) -> JsValue {
    to_js(&trace::trace_events(&record::records_of_run(run), &log::lines_of_run(run)))
}

/// The log lines from index `from` on, formatted with process ids, as scenario 2 logs.
#[wasm_bindgen(js_name = logLinesByProcess)]
pub fn log_lines_by_process(from: Option<usize>) -> Vec<String> {
    log::lines_since(from.unwrap_or(0)).iter().map(log::LogLine::format_process).collect()
}

/// The jobs that ran and ended, in every run, as `performance.measure` arguments for
/// DevTools' custom tracks (`load({ devtoolsTracks: true })` reads them as they end).
/// (Unwind safe as far as it matters: a read cut short by a panic loses a few entries.)
#[wasm_bindgen(js_name = EndedJobs)]
pub struct EndedJobs(AssertUnwindSafe<record::EndedReader>);

#[wasm_bindgen(js_class = EndedJobs)]
impl EndedJobs {
    #[wasm_bindgen(constructor)]
    #[allow(clippy::new_without_default)]
    pub fn new() -> EndedJobs {
        EndedJobs(AssertUnwindSafe(record::EndedReader::new()))
    }

    /// Up to `max` jobs that ended since the last read, each once, as `{ name, start,
    /// end, detail }` with times relative to `timeOrigin` (the page's
    /// `performance.timeOrigin`). A read costs what changed since the last one.
    #[wasm_bindgen(js_name = trackEntries)]
    pub fn track_entries(&mut self, max: usize, time_origin: f64) -> JsValue {
        let entries: Vec<_> = self.0.read(max).iter().filter_map(|r| devtools::track_entry(r, time_origin)).collect();
        to_js(&entries)
    }
}
