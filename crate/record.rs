//! Job records: what the timeline draws and the tests check. One per submitted job,
//! kept for the whole run and readable while it goes on.

use std::sync::Arc;

use serde::Serialize;

use crate::scope::RunId;
use crate::sync::SpinLock;

/// A job's state, as `concurrent.futures` names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JobState {
    /// Queued, waiting for a worker; the only state in which `cancel()` succeeds.
    Pending,
    /// A worker is running it.
    Running,
    /// Ran to the end: a result or an error.
    Finished,
    /// Cancelled before a worker took it.
    Cancelled,
}

/// A snapshot of one job, with times in milliseconds since the Unix epoch on the clock
/// that all workers share.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct JobRecord {
    /// Unique in the page, in submission order.
    pub id: u64,
    /// The run that submitted it (see `scope`); 0 outside any run.
    pub run: RunId,
    /// The job as a call: `blocks(3)`.
    pub label: String,
    /// The executor's name: `ThreadPoolExecutor-0`, `asyncio`.
    pub executor: Arc<str>,
    /// The worker that ran it, once one took it.
    pub worker: Option<Arc<str>>,
    pub state: JobState,
    pub submitted: f64,
    pub started: Option<f64>,
    pub finished: Option<f64>,
    /// The result, shown as text, where the job says how to show it.
    pub result: Option<String>,
    /// The error of a failed or cancelled job.
    pub error: Option<String>,
    /// What the job said of how it ran: `blocked 100 ms by sleeping`.
    pub note: Option<String>,
}

/// Anything that can report its record: a job of any result type.
pub trait Recorded: Send + Sync {
    fn record(&self) -> JobRecord;
}

/// All jobs of the page, in submission order, until `clear()`.
static BOOK: SpinLock<Vec<Arc<dyn Recorded>>> = SpinLock::new(Vec::new());

/// Adds a job to the book. Called once per job, at submission.
pub(crate) fn enter(job: Arc<dyn Recorded>) {
    BOOK.lock().push(job);
}

/// Every record so far, in submission order.
pub fn records() -> Vec<JobRecord> {
    // Copy the list out first: `record()` takes each job's own lock.
    let jobs = BOOK.lock().clone();
    jobs.iter().map(|job| job.record()).collect()
}

/// Records of one executor only.
pub fn records_of(executor: &str) -> Vec<JobRecord> {
    records().into_iter().filter(|r| &*r.executor == executor).collect()
}

/// Records of one run only.
pub fn records_of_run(run: RunId) -> Vec<JobRecord> {
    let jobs = BOOK.lock().clone();
    jobs.iter().map(|job| job.record()).filter(|r| r.run == run).collect()
}

/// Forgets every record (the page's "clear", the tests between runs).
pub fn clear() {
    // A new Vec, not `clear()`: the memory of a long run goes back too.
    *BOOK.lock() = Vec::new();
}
