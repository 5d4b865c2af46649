//! The inside of a process worker: it runs the calls it is sent, by registered name,
//! and reports back in messages. The browser's process workers (a Web Worker with a
//! wasm instance of its own) and the host's stand-in (a thread that shares nothing)
//! both run this.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::job::{ByName, call_label, catch_panic, take_note};
use crate::log::{self, LogLine};
use crate::platform;
use crate::registry;
use crate::scope::{self, RunId};

/// A call sent to a worker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sent {
    pub id: u64,
    /// The run that submitted it: the lines it logs are that run's.
    #[serde(default)]
    pub run: RunId,
    pub name: String,
    pub args: Vec<Value>,
}

/// What a worker tells the pool.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Event {
    /// Started, initializer run: send work.
    Ready,
    /// Could not start (the initializer failed).
    Failed(String),
    /// Began a call that may take a while.
    Started { id: u64, at: f64 },
    /// Calls finished, in the order they ran.
    Done(Vec<Report>),
    /// A line a call logged, sent as it happens.
    Log(LogLine),
}

/// One finished call, with the times it ran and what it logged.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub id: u64,
    pub outcome: Outcome,
    pub started: f64,
    pub finished: f64,
    pub note: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Outcome {
    Ok(Value),
    /// The job returned an error (bad arguments, an unknown name, a failed GET).
    Failed(String),
    Panicked(String),
}

/// What a worker sends its pool with.
pub type Emit = std::sync::Arc<dyn Fn(Event) + Send + Sync>;

/// Sets the worker up: its process id and log lines to the pool, then Python's
/// `initializer`. Returns the event that says whether it is ready.
pub fn start(pid: u32, initializer: Option<&ByName>, emit: &Emit) -> Event {
    let to_pool = emit.clone();
    log::become_process(pid, Box::new(move |line| to_pool(Event::Log(line))));
    let Some(init) = initializer else { return Event::Ready };
    match run(init.name.as_str(), init.args.clone()) {
        Outcome::Ok(_) => Event::Ready,
        Outcome::Failed(message) | Outcome::Panicked(message) => {
            Event::Failed(format!("its initializer {} failed: {message}", call_label(&init.name, &init.args)))
        }
    }
}

fn run(name: &str, args: Vec<Value>) -> Outcome {
    match catch_panic(|| registry::run(name, args)) {
        Ok(Ok(value)) => Outcome::Ok(value),
        Ok(Err(message)) => Outcome::Failed(message),
        Err(message) => Outcome::Panicked(message),
    }
}

/// Runs a batch in order, reporting each call's start and then its result before the
/// next call starts. Batches save the pool's messages to the worker; the worker's own
/// reports are not held back, because the next call may block for long: a finished
/// call's result must not wait behind it, and if the worker dies the pool must know
/// which call it was in (the model test's cases in tests/model.rs).
pub fn run_batch(batch: Vec<Sent>, emit: &dyn Fn(Event)) {
    for Sent { id, run: for_run, name, args } in batch {
        let _for_its_run = scope::enter(for_run);
        let started = platform::now_ms();
        emit(Event::Started { id, at: started });
        let outcome = run(&name, args);
        let finished = platform::now_ms();
        emit(Event::Done(vec![Report { id, outcome, started, finished, note: take_note() }]));
    }
}
