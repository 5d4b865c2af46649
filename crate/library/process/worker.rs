//! The inside of a process worker: it runs the calls it is sent, by registered name,
//! and reports back in messages. The browser's process workers (a Web Worker with a
//! wasm instance of its own) and the host's stand-in (a thread that shares nothing)
//! both run this.

use std::cell::RefCell;

use serde_json::Value;

use crate::executors::job::{call_label, catch_panic, take_note};
use crate::observe::log;
use crate::platform;
use crate::process::protocol::{ByName, Event, Outcome, Report, Sent};
use crate::process::registry;
use crate::runtime::scope;

/// What a worker sends its pool with.
pub type Emit = std::sync::Arc<dyn Fn(Event) + Send + Sync>;

/// Sets the worker up: its process id and log lines to the pool, then Python's
/// `initializer`. Returns the event that says whether it is ready.
pub fn start(pid: u32, initializer: Option<&ByName>, emit: &Emit) -> Event {
    let to_pool = emit.clone();
    log::become_process(pid, Box::new(move |line| to_pool(Event::Log(line))));
    let Some(init) = initializer else { return Event::Ready };
    let label = call_label(&init.name, &init.args);
    let outcome = doing(Doing::Initializer(label.clone()), || run(init.name.as_str(), init.args.clone()));
    match outcome {
        Outcome::Ok(_) => Event::Ready,
        Outcome::Failed(message) | Outcome::Panicked(message) => initializer_failed(&label, &message),
    }
}

fn initializer_failed(label: &str, message: &str) -> Event {
    Event::Failed(format!("its initializer {label} failed: {message}"))
}

/// What the worker is running, for a panic that aborts.
enum Doing {
    Initializer(String),
    Call { id: u64, started: f64 },
}

thread_local! {
    static DOING: RefCell<Option<Doing>> = const { RefCell::new(None) };
    /// Results of a `map` chunk's calls not yet sent (see `run_batch`).
    static HELD: RefCell<Vec<Report>> = const { RefCell::new(Vec::new()) };
}

fn doing<T>(what: Doing, f: impl FnOnce() -> T) -> T {
    DOING.with(|d| *d.borrow_mut() = Some(what));
    let out = f();
    DOING.with(|d| *d.borrow_mut() = None);
    out
}

/// Where panics abort (the plain build), the panic hook's reports of a panic with
/// `message`: the results held so far, then the call it was in (`Aborting`), or that the
/// initializer failed. The worker ends right after, so the pool hears it from the worker
/// rather than as a death with no reason. Empty if the worker was running neither.
pub fn on_abort(message: String) -> Vec<Event> {
    let held = HELD.with(|h| std::mem::take(&mut *h.borrow_mut()));
    let mut events: Vec<Event> = (!held.is_empty()).then_some(Event::Done(held)).into_iter().collect();
    match DOING.with(|d| d.borrow_mut().take()) {
        Some(Doing::Initializer(label)) => events.push(initializer_failed(&label, &message)),
        Some(Doing::Call { id, started }) => events.push(Event::Aborting(Report {
            id,
            outcome: Outcome::Panicked(message),
            started,
            finished: platform::now_ms(),
            note: take_note(),
            next: None,
        })),
        None => {}
    }
    events
}

fn run(name: &str, args: Vec<Value>) -> Outcome {
    // A pool given a JavaScript module runs its functions; any other, the registry.
    #[cfg(target_arch = "wasm32")]
    let from_module = module_jobs::module_job(name, &args);
    #[cfg(not(target_arch = "wasm32"))]
    let from_module = None;
    let ran = catch_panic(|| match from_module {
        Some(result) => result,
        None => registry::installed().run(name, args),
    });
    match ran {
        Ok(Ok(value)) => Outcome::Ok(value),
        Ok(Err(message)) => Outcome::Failed(message),
        Err(message) => Outcome::Panicked(message),
    }
}

/// A `map` chunk's results wait for the next call's only while each call took less than
/// this, and for at most `HOLD_MS` in all: long enough to send a chunk of tiny calls in
/// a few messages, short enough that no result waits long.
const FAST_MS: f64 = 0.5;
const HOLD_MS: f64 = 4.0;

/// Runs a batch in order, reporting each call's start and its result as they happen.
/// Batches save the pool's messages to the worker. The worker's own reports are held
/// back only within a `map` chunk of fast calls (Python returns a chunk's results
/// together): elsewhere the next call may block for long, a finished call's result must
/// not wait behind it, and if the worker dies the pool must know which call it was in
/// (the model test's cases in tests/model.rs). A result and the next call's start
/// happen at once, so they share a message.
pub fn run_batch(batch: Vec<Sent>, emit: &dyn Fn(Event)) {
    let mut calls = batch.into_iter().peekable();
    let mut started = platform::now_ms();
    if let Some(first) = calls.peek() {
        emit(Event::Started(first.id, started));
    }
    let mut holding_since = None;
    while let Some(Sent { id, run: for_run, name, args, chunk }) = calls.next() {
        let outcome = {
            let _for_its_run = scope::enter(for_run);
            doing(Doing::Call { id, started }, || run(&name, args))
        };
        let finished = platform::now_ms();
        let next = calls.peek();
        let hold = chunk.is_some()
            && next.is_some_and(|n| n.chunk == chunk)
            && finished - started < FAST_MS
            && finished - *holding_since.get_or_insert(finished) < HOLD_MS;
        let report = Report { id, outcome, started, finished, note: take_note(), next: next.map(|call| call.id) };
        let held = HELD.with(|h| {
            let mut held = h.borrow_mut();
            held.push(report);
            if hold { None } else { Some(std::mem::take(&mut *held)) }
        });
        if let Some(reports) = held {
            holding_since = None;
            emit(Event::Done(reports));
        }
        started = finished;
    }
}

/// Makes this process worker run its pool's jobs from the JavaScript module at `url`
/// (its exports, or why it could not be imported).
#[cfg(target_arch = "wasm32")]
pub fn run_from_module(url: String, exports: Result<wasm_bindgen::JsValue, String>) {
    module_jobs::MODULE_JOBS.with(|jobs| *jobs.borrow_mut() = Some(module_jobs::ModuleJobs { url, exports }));
}

/// Jobs from a JavaScript module, by name, in a browser's process worker.
#[cfg(target_arch = "wasm32")]
mod module_jobs {
    use std::cell::RefCell;

    use js_sys::{Function, Reflect};
    use serde_json::Value;
    use wasm_bindgen::prelude::*;

    use crate::platform;

    /// The JavaScript module a process worker runs jobs from: its URL, and its exports or
    /// why it could not be imported.
    pub(super) struct ModuleJobs {
        pub(super) url: String,
        pub(super) exports: Result<JsValue, String>,
    }

    thread_local! {
        pub(super) static MODULE_JOBS: RefCell<Option<ModuleJobs>> = const { RefCell::new(None) };
    }

    /// Runs job `name` from this process worker's JavaScript module, if its pool gave it
    /// one. Arguments and results cross as JSON, as a registered job's do; a result must
    /// also survive `structuredClone`, the browser's rule for what may cross.
    pub(super) fn module_job(name: &str, args: &[Value]) -> Option<Result<Value, String>> {
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
            let args =
                js_sys::JSON::parse(&serde_json::to_string(args).expect("JSON values serialise")).map_err(|e| platform::describe(&e))?;
            let result =
                function.apply(&JsValue::UNDEFINED, args.unchecked_ref()).map_err(|e| format!("it threw {}", platform::thrown(&e)))?;
            if Reflect::get(&result, &"then".into()).is_ok_and(|then| then.is_function()) {
                return Err(
                    "it returned a Promise: a process worker runs one job to its end before the next, so export a plain (not async) function"
                        .into(),
                );
            }
            let clone: Function =
                Reflect::get(&js_sys::global(), &"structuredClone".into()).map_err(|e| platform::describe(&e))?.unchecked_into();
            clone
                .call1(&JsValue::UNDEFINED, &result)
                .map_err(|e| format!("its result cannot be cloned to the page ({})", platform::thrown(&e)))?;
            match js_sys::JSON::stringify(&result).ok().and_then(|json| json.as_string()) {
                Some(json) => serde_json::from_str(&json).map_err(|e| format!("its result is not JSON: {e}")),
                None => Ok(Value::Null), // undefined, as a function that returns nothing
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_reports_its_first_start_then_each_result_with_the_next_start() {
        registry::install_test_jobs();
        let batch = (1..=3).map(|id| Sent { id, run: 0, name: "square".into(), args: vec![Value::from(id)], chunk: None }).collect();
        let events = RefCell::new(Vec::new());
        run_batch(batch, &|event| events.borrow_mut().push(event));
        let events = events.into_inner();
        assert_eq!(events.len(), 4, "one message a call, and one for the first start: {events:?}");
        let Event::Started(1, first) = events[0] else { panic!("the first call's start comes first: {events:?}") };
        let mut began = (1, first);
        for (k, event) in events[1..].iter().enumerate() {
            let Event::Done(reports) = event else { panic!("then results: {event:?}") };
            let [report] = &reports[..] else { panic!("one result a message outside a chunk: {reports:?}") };
            assert_eq!((report.id, report.started), began, "each call ran from when its start was reported");
            assert_eq!(report.outcome, Outcome::Ok(Value::from(began.0 * began.0)));
            match report.next {
                Some(next) => {
                    assert_eq!(next, began.0 + 1, "the next call began as this one finished");
                    began = (next, report.finished);
                }
                None => assert_eq!(k, 2, "only the batch's last result has no next start"),
            }
        }
    }

    fn chunk_of(calls: &[(&str, u64)]) -> Vec<Sent> {
        let call = |(id, (name, arg)): (usize, &(&str, u64))| Sent {
            id: id as u64 + 1,
            run: 0,
            name: (*name).into(),
            args: vec![Value::from(*arg)],
            chunk: Some(9),
        };
        calls.iter().enumerate().map(call).collect()
    }

    fn messages(batch: Vec<Sent>) -> Vec<Vec<u64>> {
        let events = RefCell::new(Vec::new());
        run_batch(batch, &|event| events.borrow_mut().push(event));
        let done = |event: Event| match event {
            Event::Done(reports) => Some(reports.iter().map(|r| r.id).collect()),
            _ => None,
        };
        events.into_inner().into_iter().filter_map(done).collect()
    }

    #[test]
    fn a_chunk_of_fast_calls_sends_its_results_together_and_a_slow_call_sends_them_at_once() {
        registry::install_test_jobs();
        assert_eq!(messages(chunk_of(&[("square", 2), ("square", 3), ("square", 4)])), vec![vec![1, 2, 3]]);
        let slow = chunk_of(&[("square", 2), ("sleep_ms", 5), ("square", 4), ("square", 5)]);
        assert_eq!(messages(slow), vec![vec![1, 2], vec![3, 4]], "a call over 0.5 ms sends what was held with its own result");
        let mut unchunked = chunk_of(&[("square", 2), ("square", 3)]);
        unchunked.iter_mut().for_each(|call| call.chunk = None);
        assert_eq!(messages(unchunked), vec![vec![1], vec![2]], "outside a chunk, each result goes as it comes");
        let mut two_chunks = chunk_of(&[("square", 2), ("square", 3)]);
        two_chunks[1].chunk = Some(10);
        assert_eq!(messages(two_chunks), vec![vec![1], vec![2]], "a chunk's results do not wait for another chunk");
    }

    #[test]
    fn a_panic_that_aborts_is_reported_for_what_the_worker_was_running() {
        assert_eq!(on_abort("boom".into()), vec![]);
        let [Event::Aborting(report)] = &doing(Doing::Call { id: 7, started: 1.0 }, || on_abort("boom".into()))[..] else {
            panic!("a call's panic is reported as Aborting")
        };
        assert_eq!((report.id, &report.outcome, report.started), (7, &Outcome::Panicked("boom".into()), 1.0));
        let failed = doing(Doing::Initializer("panics(\"x\")".into()), || on_abort("x".into()));
        assert_eq!(failed, vec![Event::Failed("its initializer panics(\"x\") failed: x".into())]);
        assert_eq!(on_abort("after".into()), vec![], "reported once");
    }

    #[test]
    fn a_panic_in_a_chunk_sends_the_results_held_before_it() {
        let held = Report { id: 3, outcome: Outcome::Ok(Value::from(1)), started: 0.0, finished: 0.1, note: None, next: Some(4) };
        HELD.with(|h| h.borrow_mut().push(held.clone()));
        let events = doing(Doing::Call { id: 4, started: 0.1 }, || on_abort("boom".into()));
        assert!(matches!(&events[..], [Event::Done(reports), Event::Aborting(r)] if reports == &vec![held] && r.id == 4), "{events:?}");
    }
}
