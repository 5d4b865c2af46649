//! The messages between a process pool and its workers.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::observe::log::LogLine;
use crate::runtime::scope::RunId;

/// A call of a registered job: its name and JSON arguments. It crosses to a process
/// worker as `[name, args]`.
#[derive(Clone, Debug, PartialEq, serde::Deserialize)]
#[serde(from = "(String, Vec<Value>)")]
pub struct ByName {
    pub name: String,
    pub args: Vec<Value>,
}

impl serde::Serialize for ByName {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (&self.name, &self.args).serialize(s)
    }
}

impl From<(String, Vec<Value>)> for ByName {
    fn from((name, args): (String, Vec<Value>)) -> Self {
        ByName { name, args }
    }
}

/// The platform's handle on one process worker.
pub(crate) trait ProcessHandle: Send + Sync {
    fn send(&self, batch: Vec<Sent>);
    fn terminate(&self);
}

/// What a process worker reports to its pool: an event, or its death and why.
pub(crate) type WorkerReport = Result<Event, String>;

// The messages between a pool and its workers are JSON. Both ends are this crate, so
// structs cross as arrays of their fields, in order: smaller messages, and far less
// code (in the wasm every process worker loads) than reading objects by field name.

/// A call sent to a worker; it crosses as `[id, run, name, args, chunk]`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(from = "(u64, RunId, String, Vec<Value>, Option<u64>)")]
pub struct Sent {
    pub id: u64,
    /// The run that submitted it: the lines it logs are that run's.
    pub run: RunId,
    pub name: String,
    pub args: Vec<Value>,
    /// `map`'s chunk, if the call is in one: a chunk's results may come back together.
    pub chunk: Option<u64>,
}

impl Serialize for Sent {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (self.id, self.run, &self.name, &self.args, self.chunk).serialize(s)
    }
}

impl From<(u64, RunId, String, Vec<Value>, Option<u64>)> for Sent {
    fn from((id, run, name, args, chunk): (u64, RunId, String, Vec<Value>, Option<u64>)) -> Self {
        Sent { id, run, name, args, chunk }
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
    /// for both, so a burst of tiny calls costs one message a call. Several reports:
    /// the results of a `map` chunk's calls, held while they came fast.
    Done(Vec<Report>),
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

    use crate::observe::log::LogLine;
    use crate::runtime::scope::RunId;

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
}
