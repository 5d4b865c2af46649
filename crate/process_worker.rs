//! The inside of a process worker: it runs the calls it is sent, by registered name,
//! and reports back in messages. The browser's process workers (a Web Worker with a
//! wasm instance of its own) and the host's stand-in (a thread that shares nothing)
//! both run this.

use std::cell::RefCell;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::job::{ByName, call_label, catch_panic, take_note};
use crate::log::{self, LogLine};
use crate::platform;
use crate::registry;
use crate::scope::{self, RunId};

// The messages between a pool and its workers are JSON. Both ends are this crate, so
// structs cross as arrays of their fields, in order: smaller messages, and far less
// code (in the wasm every process worker loads) than reading objects by field name.

/// A call sent to a worker; it crosses as `[id, run, name, args]`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(from = "(u64, RunId, String, Vec<Value>)")]
pub struct Sent {
    pub id: u64,
    /// The run that submitted it: the lines it logs are that run's.
    pub run: RunId,
    pub name: String,
    pub args: Vec<Value>,
}

impl Serialize for Sent {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (self.id, self.run, &self.name, &self.args).serialize(s)
    }
}

impl From<(u64, RunId, String, Vec<Value>)> for Sent {
    fn from((id, run, name, args): (u64, RunId, String, Vec<Value>)) -> Self {
        Sent { id, run, name, args }
    }
}

/// What a worker tells the pool.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Event {
    /// Started, initializer run: send work.
    Ready,
    /// Could not start (the initializer failed).
    Failed(String),
    /// Began call `id` (the first field) at a time (the second): a batch's first call.
    Started(u64, f64),
    /// A call finished, and the next of its batch (`Report::next`) began: one message
    /// for both, so a burst of tiny calls costs one message a call.
    Done(Report),
    /// A line a call logged, sent as it happens.
    Log(#[serde(with = "line_as_array")] LogLine),
    /// A call panicked in a build whose panics abort (the plain build): its report,
    /// sent by the panic hook as the worker ends. The pool settles the call and counts
    /// the worker gone.
    Aborting(Report),
}

/// One finished call, with the times it ran and what it logged. It crosses as
/// `[id, outcome, started, finished, note, next]`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(from = "(u64, Outcome, f64, f64, Option<String>, Option<u64>)")]
pub struct Report {
    pub id: u64,
    pub outcome: Outcome,
    pub started: f64,
    pub finished: f64,
    pub note: Option<String>,
    /// The call of the same batch that began as this one finished, if any.
    pub next: Option<u64>,
}

impl Serialize for Report {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (self.id, &self.outcome, self.started, self.finished, &self.note, self.next).serialize(s)
    }
}

impl From<(u64, Outcome, f64, f64, Option<String>, Option<u64>)> for Report {
    fn from((id, outcome, started, finished, note, next): (u64, Outcome, f64, f64, Option<String>, Option<u64>)) -> Self {
        Report { id, outcome, started, finished, note, next }
    }
}

/// A log line crosses as `[time, process, thread, logger, message, run]`. (JavaScript
/// gets log lines as objects: `LogLine`'s own `Serialize`.)
mod line_as_array {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use crate::log::LogLine;
    use crate::scope::RunId;

    pub fn serialize<S: Serializer>(line: &LogLine, s: S) -> Result<S::Ok, S::Error> {
        (line.time, line.process, &*line.thread, &line.logger, &line.message, line.run).serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<LogLine, D::Error> {
        let (time, process, thread, logger, message, run) = <(f64, u32, String, String, String, RunId)>::deserialize(d)?;
        Ok(LogLine { time, process, thread: thread.into(), logger, message, run })
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Outcome {
    Ok(Value),
    /// The job returned an error (bad arguments, an unknown name, a failed GET).
    Failed(String),
    Panicked(String),
}

/// The float that `value` is, if the page's serde_json might not read it back bit for
/// bit: one with a fraction, or too large to be whole. In the browser such a result
/// crosses beside its event as a JS number too, because the page's serde_json reads
/// fractions to within a bit of the last place (its exact reader would cost every page
/// 9 KB of wasm), while JavaScript's reader is exact. (The registered jobs that return
/// fractions return a number.)
pub fn inexact_float(value: &Value) -> Option<f64> {
    value.as_f64().filter(|f| value.is_f64() && (f.fract() != 0.0 || f.abs() >= 9_007_199_254_740_992.0))
}

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
}

fn doing<T>(what: Doing, f: impl FnOnce() -> T) -> T {
    DOING.with(|d| *d.borrow_mut() = Some(what));
    let out = f();
    DOING.with(|d| *d.borrow_mut() = None);
    out
}

/// Where panics abort (the plain build), the panic hook's report of a panic with
/// `message`: the call it was in panicked (`Aborting`), or the initializer failed. The
/// worker ends right after, so the pool hears it from the worker rather than as a
/// death with no reason. `None` if the worker was running neither.
pub fn on_abort(message: String) -> Option<Event> {
    match DOING.with(|d| d.borrow_mut().take())? {
        Doing::Initializer(label) => Some(initializer_failed(&label, &message)),
        Doing::Call { id, started } => Some(Event::Aborting(Report {
            id,
            outcome: Outcome::Panicked(message),
            started,
            finished: platform::now_ms(),
            note: take_note(),
            next: None,
        })),
    }
}

fn run(name: &str, args: Vec<Value>) -> Outcome {
    match catch_panic(|| registry::run(name, args)) {
        Ok(Ok(value)) => Outcome::Ok(value),
        Ok(Err(message)) => Outcome::Failed(message),
        Err(message) => Outcome::Panicked(message),
    }
}

/// Runs a batch in order, reporting each call's start and its result as they happen.
/// Batches save the pool's messages to the worker; the worker's own reports are not
/// held back, because the next call may block for long: a finished call's result must
/// not wait behind it, and if the worker dies the pool must know which call it was in
/// (the model test's cases in tests/model.rs). A result and the next call's start
/// happen at once, so they share a message.
pub fn run_batch(batch: Vec<Sent>, emit: &dyn Fn(Event)) {
    let mut calls = batch.into_iter().peekable();
    let mut started = platform::now_ms();
    if let Some(first) = calls.peek() {
        emit(Event::Started(first.id, started));
    }
    while let Some(Sent { id, run: for_run, name, args }) = calls.next() {
        let outcome = {
            let _for_its_run = scope::enter(for_run);
            doing(Doing::Call { id, started }, || run(&name, args))
        };
        let finished = platform::now_ms();
        let next = calls.peek().map(|call| call.id);
        emit(Event::Done(Report { id, outcome, started, finished, note: take_note(), next }));
        started = finished;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_results_with_fractions_are_the_ones_that_cross_as_js_numbers() {
        assert_eq!(inexact_float(&Value::from(966_737.619_177_362_8)), Some(966_737.619_177_362_8));
        assert_eq!(inexact_float(&Value::from(1e300)), Some(1e300));
        assert_eq!(inexact_float(&Value::from(4.0)), None, "a whole float reads back exactly");
        assert_eq!(inexact_float(&Value::from(16u64)), None);
        assert_eq!(inexact_float(&Value::from("1.5")), None);
    }

    #[test]
    fn a_batch_reports_its_first_start_then_each_result_with_the_next_start() {
        let batch = (1..=3).map(|id| Sent { id, run: 0, name: "blocks".into(), args: vec![Value::from(id)] }).collect();
        let events = RefCell::new(Vec::new());
        run_batch(batch, &|event| events.borrow_mut().push(event));
        let events = events.into_inner();
        assert_eq!(events.len(), 4, "one message a call, and one for the first start: {events:?}");
        let Event::Started(1, first) = events[0] else { panic!("the first call's start comes first: {events:?}") };
        let mut began = (1, first);
        for (k, event) in events[1..].iter().enumerate() {
            let Event::Done(report) = event else { panic!("then results: {event:?}") };
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

    #[test]
    fn a_panic_that_aborts_is_reported_for_what_the_worker_was_running() {
        assert_eq!(on_abort("boom".into()), None);
        let Some(Event::Aborting(report)) = doing(Doing::Call { id: 7, started: 1.0 }, || on_abort("boom".into())) else {
            panic!("a call's panic is reported as Aborting")
        };
        assert_eq!((report.id, report.outcome, report.started), (7, Outcome::Panicked("boom".into()), 1.0));
        let failed = doing(Doing::Initializer("panics(\"x\")".into()), || on_abort("x".into()));
        assert_eq!(failed, Some(Event::Failed("its initializer panics(\"x\") failed: x".into())));
        assert_eq!(on_abort("after".into()), None, "reported once");
    }
}
