//! One submitted job: its state machine, its result, and the future that waits for it.
//!
//! States follow `concurrent.futures`: PENDING (queued) → RUNNING (a worker took it) →
//! FINISHED (result or error); or PENDING → CANCELLED. A job settles exactly once: the
//! first of finish, fail or cancel wins and the others are no-ops.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::observe::record::{self, JobRecord, JobState, Outcome, Recorded, Worker};
use crate::platform::{self, panic_message};
use crate::process::protocol::ByName;
use crate::runtime::scope::{self, RunId};
use crate::runtime::sync::SpinLock;

/// Which kind of pool a worker belongs to: a worker's death breaks a thread pool or a
/// process pool, and Python names the two errors apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolKind {
    Threads,
    Processes,
}

impl PoolKind {
    /// `BrokenThreadPool` or `BrokenProcessPool`.
    pub fn broken_name(self) -> &'static str {
        match self {
            PoolKind::Threads => "BrokenThreadPool",
            PoolKind::Processes => "BrokenProcessPool",
        }
    }
}

/// Why a job gave no result.
#[derive(Clone, Debug, PartialEq)]
pub enum JobError {
    /// Cancelled while it waited in the queue (Python's `CancelledError`).
    Cancelled,
    /// The job panicked; the worker that ran it is named.
    Panicked { job: String, worker: Worker, message: String },
    /// The job returned an error (a registered job given arguments it cannot take).
    Failed { job: String, message: String },
    /// The worker died under the job (a trap that was not a panic, or a terminated
    /// worker), or died after the job was handed to it, when it may have begun it.
    WorkerDied { job: String, worker: Worker, reason: String, pool: PoolKind },
    /// No worker could run it: none could be started, or the pool is broken (a failed
    /// initializer).
    NoWorker { job: String, reason: String, pool: PoolKind },
    /// It ran longer than the process pool's job timeout; its worker was terminated.
    TimedOut { job: String, worker: Worker, after_ms: f64 },
    /// A closure sent to a process pool: only registered jobs cross to a worker that
    /// shares no memory (Python cannot pickle a lambda either).
    NotByName { job: String },
    /// A wait for its result ran out of time (`result(timeout)`, `map`'s timeout); the
    /// job itself goes on.
    WaitTimedOut { job: String, timeout: Duration },
}

/// An error that is one of Python's exceptions: its class name, which JavaScript errors
/// carry in `name` (`catch (e) { if (e.name === 'TimeoutError') … }`).
pub trait PythonException: std::error::Error {
    fn python_name(&self) -> &'static str;
}

impl PythonException for JobError {
    /// A job's own failure has no class of Python's: it is a `JobError`.
    fn python_name(&self) -> &'static str {
        match self {
            JobError::Cancelled => "CancelledError",
            JobError::Panicked { .. } | JobError::Failed { .. } => "JobError",
            JobError::WorkerDied { pool, .. } | JobError::NoWorker { pool, .. } => pool.broken_name(),
            JobError::TimedOut { .. } | JobError::WaitTimedOut { .. } => "TimeoutError",
            JobError::NotByName { .. } => "PicklingError",
        }
    }
}

impl fmt::Display for JobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JobError::Cancelled => f.write_str("cancelled"),
            JobError::Panicked { job, worker, message } => {
                write!(f, "{job} panicked on {worker}: {message}")
            }
            JobError::Failed { job, message } => write!(f, "{job} failed: {message}"),
            JobError::WorkerDied { job, worker, reason, .. } => {
                write!(f, "{worker} died while running {job}: {reason}")
            }
            JobError::NoWorker { job, reason, .. } => write!(f, "{job} could not run: {reason}"),
            JobError::TimedOut { job, worker, after_ms } => {
                write!(f, "{job} timed out after {after_ms} ms on {worker}, which was terminated")
            }
            JobError::NotByName { job } => write!(
                f,
                "{job} cannot run on a process pool: only registered jobs cross to a process \
                 (submit job!(name(args)) or a job name from JavaScript)"
            ),
            JobError::WaitTimedOut { job, timeout } => {
                write!(f, "{job} was not done within {} s (it goes on)", timeout.as_secs_f64())
            }
        }
    }
}

impl std::error::Error for JobError {}

/// The most JSON characters the arguments of one call from JavaScript may take: a call's
/// arguments are copied into the wasm, and to a process worker, on every call.
pub const MAX_ARGUMENTS_JSON: usize = 1 << 20;

/// The most characters of a label kept in a job's record (and its log lines).
pub const MAX_LABEL: usize = 200;

/// The most characters of an error message, or a result shown as text, that a job keeps:
/// a record is read every frame, and an error may quote its whole input.
pub const MAX_TEXT: usize = 2000;

/// `text` cut to at most `max` characters, with a marker that says how much went.
pub fn clip(mut text: String, max: usize) -> String {
    let Some((cut, _)) = text.char_indices().nth(max) else { return text };
    let dropped = text[cut..].chars().count();
    text.truncate(cut);
    text.shrink_to_fit();
    format!("{text}… ({dropped} more characters)")
}

/// A function call to run on a worker, with the label records and logs show for it.
/// Build one with [`job!`](crate::job!), or pass any closure where a job is expected.
pub struct Call<T> {
    pub(crate) label: String,
    pub(crate) describe: Option<fn(&T) -> String>,
    /// Runs the call here, on a worker that shares this program's memory.
    /// `Err(message)` fails the job with [`JobError::Failed`].
    pub(crate) run: Box<dyn FnOnce() -> Result<T, String> + Send>,
    /// The same call by registered name, for a worker that shares nothing (a process
    /// pool): what Python would pickle. Closures have none.
    pub(crate) by_name: Option<ByName>,
}

/// `blocks(3)`, `http_get("/index.html")`: a call as records and logs show it.
pub fn call_label(name: &str, args: &[Value]) -> String {
    let shown: Vec<String> = args.iter().map(Value::to_string).collect();
    format!("{name}({})", shown.join(", "))
}

impl<T: fmt::Debug> Call<T> {
    /// A call labelled `label`, whose result records show with `{:?}`.
    pub fn new(label: impl Into<String>, run: impl FnOnce() -> T + Send + 'static) -> Self {
        Self::described(label, |v| format!("{v:?}"), run)
    }

    /// A call of the registered job `name` with `args`, which `run` performs here. What
    /// [`job!`](crate::job!) builds: it runs on threads and on processes alike.
    pub fn registered(name: &str, args: Vec<Value>, run: impl FnOnce() -> T + Send + 'static) -> Self {
        let mut call = Self::new(call_label(name, &args), run);
        call.by_name = Some(ByName { name: name.to_owned(), args });
        call
    }
}

impl<T> Call<T> {
    /// A call labelled `label` whose result records do not show.
    pub fn labelled(label: impl Into<String>, run: impl FnOnce() -> T + Send + 'static) -> Self {
        Self { label: label.into(), describe: None, run: Box::new(move || Ok(run())), by_name: None }
    }

    /// A call whose result records show with `describe`.
    pub fn described(label: impl Into<String>, describe: fn(&T) -> String, run: impl FnOnce() -> T + Send + 'static) -> Self {
        Self::fallible(label, describe, move || Ok(run()))
    }

    /// A call that may fail with a message, as a registered job given bad arguments.
    pub fn fallible(
        label: impl Into<String>,
        describe: fn(&T) -> String,
        run: impl FnOnce() -> Result<T, String> + Send + 'static,
    ) -> Self {
        Self { label: label.into(), describe: Some(describe), run: Box::new(run), by_name: None }
    }

    /// The call by registered name, if it has one.
    pub fn by_name(&self) -> Option<&ByName> {
        self.by_name.as_ref()
    }

    pub fn label(&self) -> &str {
        &self.label
    }
}

/// An argument of [`job!`] as JSON.
#[doc(hidden)]
pub fn json_arg(value: &impl serde::Serialize) -> Value {
    serde_json::to_value(value).expect("the arguments of job! must serialise to JSON")
}

/// Anything that can be submitted: a [`Call`], or a closure or function taking no
/// arguments (labelled with its function name, as Python's records show `blocking_task`).
pub trait IntoJob<T>: Send + 'static {
    fn into_call(self) -> Call<T>;
}

impl<T: 'static> IntoJob<T> for Call<T> {
    fn into_call(self) -> Call<T> {
        self
    }
}

impl<T, F: FnOnce() -> T + Send + 'static> IntoJob<T> for F {
    fn into_call(self) -> Call<T> {
        Call::labelled(format!("{}()", function_name::<F>()), self)
    }
}

/// `crate::jobs::blocks` → `blocks`; a closure → `<closure>`.
pub(crate) fn function_name<F>() -> &'static str {
    let path = std::any::type_name::<F>();
    match path.rsplit("::").next() {
        Some(name) if !name.contains('{') => name,
        _ => "<closure>",
    }
}

/// A call of a registered job, as Python's `submit(blocks, 3)`: `job!(blocks(3))` runs
/// `blocks(3)` on a thread, or by name on a process, and is recorded as `blocks(3)`.
/// Arguments must serialise to JSON. Pass plain values: each argument expression is
/// evaluated once for the JSON and once for the call.
#[macro_export]
macro_rules! job {
    ($f:ident ( $($arg:expr),* $(,)? )) => {
        $crate::Call::registered(stringify!($f), vec![$($crate::executors::job::json_arg(&$arg)),*], move || $f($($arg),*))
    };
}

static NEXT_ID: AtomicU64 = AtomicU64::new(0);

/// The shared state of one job: held by its future, by the queue or worker running it,
/// and by the record book.
pub(crate) struct Job<T> {
    id: u64,
    /// The run that submitted it (see `scope`).
    run: RunId,
    label: String,
    executor: Arc<str>,
    submitted: f64,
    describe: Option<fn(&T) -> String>,
    /// Its place in its run's record book, which hears of each change of state.
    place: AtomicU32,
    inner: SpinLock<Inner<T>>,
}

struct Inner<T> {
    state: JobState,
    worker: Option<Worker>,
    outcome: Option<Outcome>,
    started: Option<f64>,
    finished: Option<f64>,
    /// Set when the job settles; taken by the first `.await` of its future.
    result: Option<Result<T, JobError>>,
    /// What the record shows of the result or error, kept after `result` is taken.
    result_text: Option<String>,
    /// What the job said of how it ran (see [`note`]).
    note: Option<String>,
    error_text: Option<String>,
    /// Tasks to wake when the job settles.
    wakers: Vec<Waker>,
    /// Tasks to wake when it starts (or settles without starting): `started()`'s. Apart
    /// from `wakers`, so that a job's start wakes no one who waits for its end.
    start_wakers: Vec<Waker>,
    /// `add_done_callback`'s callbacks, called once each, in the order added, when the
    /// job settles.
    callbacks: Vec<Box<dyn FnOnce() + Send>>,
}

impl<T> Inner<T> {
    /// Everyone to wake as the job settles: its end's waiters and its start's.
    fn take_wakers(&mut self) -> Vec<Waker> {
        let mut wakers = std::mem::take(&mut self.wakers);
        wakers.append(&mut self.start_wakers);
        wakers
    }

    fn is_done(&self) -> bool {
        matches!(self.state, JobState::Finished | JobState::Cancelled)
    }
}

/// Keeps `cx`'s waker among `wakers`, once.
fn register(wakers: &mut Vec<Waker>, cx: &Context<'_>) {
    if !wakers.iter().any(|w| w.will_wake(cx.waker())) {
        wakers.push(cx.waker().clone());
    }
}

/// Calls a job's done callbacks, after its lock is released. As Python logs an
/// exception raised by a callback and goes on, a callback that panics is reported and
/// the others still run.
fn call_back(label: &str, callbacks: Vec<Box<dyn FnOnce() + Send>>) {
    for callback in callbacks {
        if let Err(message) = catch_panic(callback) {
            platform::console_note(&format!("web-executors: exception calling callback for {label}: {message}"));
        }
    }
}

/// What the executors need of a job without knowing its result type.
pub(crate) trait JobControl: Recorded {
    fn label(&self) -> &str;
    /// The run that submitted it.
    fn run_id(&self) -> RunId;
    /// PENDING → RUNNING on `worker`. False if the job was cancelled while queued.
    fn set_running(&self, worker: &Worker) -> bool;
    fn cancel(&self) -> bool;
    /// Settles the job with `error` unless it has settled already.
    fn fail(&self, error: JobError);
}

impl<T> Job<T> {
    /// Tells the record book that this job's record changed.
    fn touched(&self) {
        record::touched(self.run, self.place.load(Ordering::Relaxed), std::ptr::from_ref(self).cast());
    }
}

impl<T: Send + 'static> Job<T> {
    fn new(label: String, executor: Arc<str>, describe: Option<fn(&T) -> String>) -> Arc<Self> {
        let job = Arc::new(Job {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            run: scope::current(),
            label: clip(label, MAX_LABEL),
            executor,
            submitted: platform::now_ms(),
            describe,
            place: AtomicU32::new(0),
            inner: SpinLock::new(Inner {
                state: JobState::Pending,
                worker: None,
                outcome: None,
                started: None,
                finished: None,
                result: None,
                result_text: None,
                note: None,
                error_text: None,
                wakers: Vec::new(),
                start_wakers: Vec::new(),
                callbacks: Vec::new(),
            }),
        });
        let place = record::enter(job.run, job.clone());
        job.place.store(place, Ordering::Relaxed);
        job
    }

    /// Settles with `result` unless already settled; wakes every waiter.
    fn settle(&self, state: JobState, result: Result<T, JobError>) {
        self.settle_at(state, result, None, platform::now_ms());
    }

    /// Settles with the times the job ran, where a worker measured them itself.
    fn settle_at(&self, state: JobState, result: Result<T, JobError>, started: Option<f64>, finished: f64) {
        let mut inner = self.inner.lock();
        if inner.is_done() {
            return;
        }
        if started.is_some() {
            inner.started = started;
        }
        inner.outcome = Some(outcome_of(&result));
        match &result {
            Ok(value) => inner.result_text = self.describe.map(|d| clip(d(value), MAX_TEXT)),
            Err(error) => inner.error_text = Some(clip(error.to_string(), MAX_TEXT)),
        }
        inner.state = state;
        // A process worker's clock and the page's differ a little, and Firefox's, coarse
        // (1 ms) and jittered where the page is not cross-origin isolated, can read an
        // end a millisecond before the start: a record's times stay in order.
        inner.finished = Some(inner.started.map_or(finished, |started| finished.max(started)));
        inner.result = Some(result);
        let wakers = inner.take_wakers();
        let callbacks = std::mem::take(&mut inner.callbacks);
        drop(inner);
        self.touched();
        wakers.into_iter().for_each(Waker::wake);
        call_back(&self.label, callbacks);
    }
}

impl<T: Send + 'static> Recorded for Job<T> {
    fn record(&self) -> JobRecord {
        let inner = self.inner.lock();
        JobRecord {
            id: self.id,
            run: self.run,
            label: self.label.clone(),
            executor: self.executor.clone(),
            worker: inner.worker.clone(),
            state: inner.state,
            outcome: inner.outcome,
            submitted: self.submitted,
            started: inner.started,
            finished: inner.finished,
            result: inner.result_text.clone(),
            error: inner.error_text.clone(),
            note: inner.note.clone(),
        }
    }
}

impl<T: Send + 'static> JobControl for Job<T> {
    fn label(&self) -> &str {
        &self.label
    }

    fn run_id(&self) -> RunId {
        self.run
    }

    fn set_running(&self, worker: &Worker) -> bool {
        let mut inner = self.inner.lock();
        if inner.state != JobState::Pending {
            return false;
        }
        inner.state = JobState::Running;
        inner.worker = Some(worker.clone());
        inner.started = Some(platform::now_ms());
        let wakers = std::mem::take(&mut inner.start_wakers);
        drop(inner);
        self.touched();
        wakers.into_iter().for_each(Waker::wake);
        true
    }

    fn cancel(&self) -> bool {
        match self.inner.lock().state {
            JobState::Pending => {}
            JobState::Cancelled => return true,
            JobState::Running | JobState::Finished => return false,
        }
        self.settle(JobState::Cancelled, Err(JobError::Cancelled));
        // A worker may have taken it between the check and the settle.
        self.inner.lock().state == JobState::Cancelled
    }

    fn fail(&self, error: JobError) {
        self.settle(JobState::Finished, Err(error));
    }
}

/// What a process pool needs of a job: it runs elsewhere and comes back as JSON.
pub(crate) trait RemoteJob: JobControl {
    /// Settles from a worker's report, with the times it measured and its note.
    fn settle_report(&self, outcome: Result<Value, JobError>, started: f64, finished: f64, note: Option<String>);
    /// A worker began it at `at` (its record's start, which dispatch set roughly).
    fn mark_started(&self, at: f64);
}

impl<T: DeserializeOwned + Send + 'static> RemoteJob for Job<T> {
    fn settle_report(&self, outcome: Result<Value, JobError>, started: f64, finished: f64, note: Option<String>) {
        self.inner.lock().note = note;
        let result = outcome.and_then(|value| {
            serde_json::from_value(value.clone()).map_err(|e| JobError::Failed {
                job: self.label.clone(),
                message: format!("its result {value} is not of the type expected: {e}"),
            })
        });
        self.settle_at(JobState::Finished, result, Some(started), finished);
    }

    fn mark_started(&self, at: f64) {
        self.inner.lock().started = Some(at);
        self.touched();
    }
}

/// A new PENDING job of a process pool: its future, and the job for the pool's queue.
pub(crate) fn new_remote_job<T: DeserializeOwned + Send + 'static>(
    call: &Call<T>,
    executor: &Arc<str>,
) -> (JobFuture<T>, Arc<dyn RemoteJob>) {
    let job = Job::new(call.label.clone(), executor.clone(), call.describe);
    (JobFuture { job: job.clone(), awaited: false }, job)
}

/// How a job that settled with `result` ended.
fn outcome_of<T>(result: &Result<T, JobError>) -> Outcome {
    match result {
        Ok(_) => Outcome::Ok,
        Err(JobError::Cancelled) => Outcome::Cancelled,
        Err(JobError::Panicked { .. }) => Outcome::Panicked,
        Err(JobError::TimedOut { .. }) => Outcome::TimedOut,
        Err(JobError::WorkerDied { .. } | JobError::NoWorker { .. }) => Outcome::WorkerDied,
        Err(JobError::Failed { .. } | JobError::NotByName { .. } | JobError::WaitTimedOut { .. }) => Outcome::Failed,
    }
}

/// Runs a job on the worker given, calling the closure given just before it settles.
type RunOn = Box<dyn FnOnce(&Worker, &dyn Fn()) + Send>;

/// Work for a queue: the job, and the closure that runs it on a worker.
pub(crate) struct WorkItem {
    pub(crate) job: Arc<dyn JobControl>,
    run: RunOn,
}

impl WorkItem {
    /// Runs the job on the calling worker, unless it was cancelled while queued.
    /// `before_settle` runs between the job's end and its result being published: a
    /// pool marks the worker idle there, so whoever the result wakes finds it idle.
    pub(crate) fn run(self, worker: &Worker, before_settle: &dyn Fn()) {
        if self.job.set_running(worker) {
            let _for_its_run = scope::enter(self.job.run_id());
            (self.run)(worker, before_settle);
        }
    }
}

thread_local! {
    static NOTE: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Lets the running job say how it ran, for its record: `blocks` says whether it
/// slept or had to spin.
pub fn note(text: impl Into<String>) {
    NOTE.with(|n| *n.borrow_mut() = Some(text.into()));
}

/// Takes what the job that just ran noted.
pub(crate) fn take_note() -> Option<String> {
    NOTE.with(|n| n.borrow_mut().take())
}

/// Runs `f`, turning a panic into its message. Panics unwind on the host and in the
/// threaded build (wasm exception handling), so the worker lives on. The plain build's
/// panics abort: there a process worker's panic hook reports the panic
/// ([`crate::process::worker::on_abort`]) and the worker ends.
pub(crate) fn catch_panic<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|payload| panic_message(&*payload))
}

/// A new PENDING job of `executor`: its future for the submitter, its work for a queue.
pub(crate) fn new_job<T: Send + 'static>(call: Call<T>, executor: &Arc<str>) -> (JobFuture<T>, WorkItem) {
    let Call { label, describe, run, .. } = call;
    let job = Job::new(label, executor.clone(), describe);
    let for_worker = job.clone();
    let item = WorkItem {
        job: job.clone(),
        run: Box::new(move |worker, before_settle| {
            let job = || for_worker.label.clone();
            let ran = catch_panic(run);
            for_worker.inner.lock().note = take_note();
            let result = match ran {
                Ok(Ok(value)) => Ok(value),
                Ok(Err(message)) => Err(JobError::Failed { job: job(), message: clip(message, MAX_TEXT) }),
                Err(message) => Err(JobError::Panicked { job: job(), worker: worker.clone(), message: clip(message, MAX_TEXT) }),
            };
            before_settle();
            for_worker.settle(JobState::Finished, result);
        }),
    };
    (JobFuture { job, awaited: false }, item)
}

/// Runs `call` here, on the calling thread, as a program without an executor would
/// (the page cannot draw meanwhile). It still leaves a record: worker `Main`, executor
/// `no executor`.
pub fn run_here<T: Send + 'static>(call: Call<T>) -> Result<T, JobError> {
    let (future, item) = new_job(call, &Arc::from("no executor"));
    item.run(&Worker::Main, &|| ());
    future.take_result().expect("it ran here, to the end")
}

/// The submitter's handle on a job, like Python's `Future`. `.await` gives the result.
///
/// Dropping it after it has been polled cancels the job if no worker took it yet (the
/// usual meaning of dropping a Rust future); dropping it unpolled lets the job run.
pub struct JobFuture<T> {
    job: Arc<Job<T>>,
    awaited: bool,
}

impl<T: Send + 'static> JobFuture<T> {
    /// Cancels the job if it is still queued; true if it is (now) cancelled.
    pub fn cancel(&self) -> bool {
        self.job.cancel()
    }

    pub fn cancelled(&self) -> bool {
        self.state() == JobState::Cancelled
    }

    pub fn running(&self) -> bool {
        self.state() == JobState::Running
    }

    /// Finished or cancelled.
    pub fn done(&self) -> bool {
        matches!(self.state(), JobState::Finished | JobState::Cancelled)
    }

    pub fn state(&self) -> JobState {
        self.job.inner.lock().state
    }

    /// The name of the worker that took the job, once one did.
    pub fn worker(&self) -> Option<Worker> {
        self.job.inner.lock().worker.clone()
    }

    pub fn label(&self) -> &str {
        &self.job.label
    }

    pub fn id(&self) -> u64 {
        self.job.id
    }

    pub fn record(&self) -> JobRecord {
        self.job.record()
    }

    /// True if the job finished with an error (not counting cancellation), as
    /// `FIRST_EXCEPTION` counts it.
    pub fn failed(&self) -> bool {
        let inner = self.job.inner.lock();
        inner.state == JobState::Finished && inner.error_text.is_some()
    }

    /// The result of a settled job, without consuming it; `None` while it is not done
    /// (or after `.await` took it).
    pub fn result(&self) -> Option<Result<T, JobError>>
    where
        T: Clone,
    {
        self.job.inner.lock().result.clone()
    }

    /// Python's `add_done_callback(fn)`: `callback` gets a handle on the job once it is
    /// done (finished or cancelled), on the thread that settles it; at once, here, if it
    /// is done already. Callbacks run once each, in the order added.
    pub fn add_done_callback(&self, callback: impl FnOnce(&JobFuture<T>) + Send + 'static) {
        let handle = self.share();
        let mut inner = self.job.inner.lock();
        if inner.is_done() {
            drop(inner);
            call_back(&self.job.label, vec![Box::new(move || callback(&handle))]);
        } else {
            inner.callbacks.push(Box::new(move || callback(&handle)));
        }
    }

    /// Python's `exception(timeout)`: once the job is done, its error, or `None` if it
    /// returned a value. `Err(Cancelled)` if it was cancelled, `Err(WaitTimedOut)` if it
    /// is not done within `timeout` (the job goes on).
    pub async fn exception(&self, timeout: Option<Duration>) -> Result<Option<JobError>, JobError> {
        self.done_within(timeout).await?;
        let inner = self.job.inner.lock();
        match (&inner.result, inner.state) {
            (_, JobState::Cancelled) => Err(JobError::Cancelled),
            (Some(Err(error)), _) => Ok(Some(error.clone())),
            _ => Ok(None),
        }
    }

    /// Python's `result(timeout)`: the job's result once it is done, without taking it
    /// (each call gives a copy); `Err(WaitTimedOut)` if it is not done within `timeout`.
    pub async fn result_within(&self, timeout: Option<Duration>) -> Result<T, JobError>
    where
        T: Clone,
    {
        self.done_within(timeout).await?;
        self.result().unwrap_or_else(|| Err(self.result_taken()))
    }

    /// Ready when the job is done, or with `WaitTimedOut` when `timeout` passes first.
    async fn done_within(&self, timeout: Option<Duration>) -> Result<(), JobError> {
        let mut deadline = timeout.map(|timeout| (crate::runtime::time::sleep(timeout), timeout));
        std::future::poll_fn(|cx| self.poll_done_by(cx, deadline.as_mut())).await
    }

    /// Ready once the job is done, or with `WaitTimedOut` once `deadline`'s timer (set
    /// for its timeout) fires first; registers `cx` to be woken otherwise.
    pub(crate) fn poll_done_by(
        &self,
        cx: &mut Context<'_>,
        deadline: Option<&mut (crate::runtime::time::Sleep, Duration)>,
    ) -> Poll<Result<(), JobError>> {
        if self.poll_done(cx).is_ready() {
            return Poll::Ready(Ok(()));
        }
        match deadline {
            Some((timer, timeout)) => match Pin::new(timer).poll(cx) {
                Poll::Ready(_) => Poll::Ready(Err(JobError::WaitTimedOut { job: self.job.label.clone(), timeout: *timeout })),
                Poll::Pending => Poll::Pending,
            },
            None => Poll::Pending,
        }
    }

    /// The error of asking for a result that `.await` or a combinator already took.
    pub(crate) fn result_taken(&self) -> JobError {
        JobError::Failed { job: self.job.label.clone(), message: "its result was already taken".into() }
    }

    /// Resolves once a worker has taken the job (or it settled without running).
    pub fn started(&self) -> impl Future<Output = ()> + '_ {
        std::future::poll_fn(move |cx| {
            let mut inner = self.job.inner.lock();
            if inner.state == JobState::Pending {
                register(&mut inner.start_wakers, cx);
                Poll::Pending
            } else {
                Poll::Ready(())
            }
        })
    }

    /// Resolves once the job has settled, without taking its result.
    pub fn settled(&self) -> impl Future<Output = ()> + '_ {
        std::future::poll_fn(move |cx| self.poll_done(cx))
    }

    /// Another handle on the same job, which never cancels it when dropped.
    pub(crate) fn share(&self) -> JobFuture<T> {
        JobFuture { job: self.job.clone(), awaited: false }
    }

    /// Ready once the job has settled; registers `cx` to be woken otherwise.
    pub(crate) fn poll_done(&self, cx: &Context<'_>) -> Poll<()> {
        let mut inner = self.job.inner.lock();
        if inner.is_done() {
            Poll::Ready(())
        } else {
            register(&mut inner.wakers, cx);
            Poll::Pending
        }
    }

    /// Takes the result of a settled job.
    pub(crate) fn take_result(&self) -> Option<Result<T, JobError>> {
        self.job.inner.lock().result.take()
    }

    /// Takes the result if the job finished with a value; leaves anything else.
    pub(crate) fn take_value(&self) -> Option<T> {
        let mut inner = self.job.inner.lock();
        match inner.result {
            Some(Ok(_)) => inner.result.take()?.ok(),
            _ => None,
        }
    }

    /// When the job settled, for ordering what completed first.
    pub(crate) fn finished_at(&self) -> f64 {
        self.job.inner.lock().finished.unwrap_or(f64::INFINITY)
    }
}

impl<T: Send + 'static> Future for JobFuture<T> {
    type Output = Result<T, JobError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.awaited = true;
        match self.poll_done(cx) {
            Poll::Ready(()) => Poll::Ready(self.take_result().expect("a JobFuture was polled again after it completed")),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T> Drop for JobFuture<T> {
    fn drop(&mut self) {
        if self.awaited {
            let mut inner = self.job.inner.lock();
            if inner.state == JobState::Pending {
                // Mark it here rather than through `cancel()`, which needs `T: Send`.
                inner.state = JobState::Cancelled;
                inner.finished = Some(platform::now_ms());
                inner.error_text = Some(JobError::Cancelled.to_string());
                let wakers = inner.take_wakers();
                let callbacks = std::mem::take(&mut inner.callbacks);
                drop(inner);
                self.job.touched();
                wakers.into_iter().for_each(Waker::wake);
                call_back(&self.job.label, callbacks);
            }
        }
    }
}

impl<T> fmt::Debug for JobFuture<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.job.inner.lock().state;
        write!(f, "JobFuture({} {:?})", self.job.label, state)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;
    use std::task::Wake;

    use super::*;

    #[derive(Default)]
    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    #[test]
    fn a_start_wakes_who_waits_for_the_start_and_an_end_wakes_everyone() {
        let (future, item) = new_job(Call::labelled("job()", || 1), &Arc::from("test"));
        let (for_end, for_start) = (Arc::new(Count::default()), Arc::new(Count::default()));
        assert!(future.poll_done(&Context::from_waker(&Waker::from(for_end.clone()))).is_pending());
        let started = std::pin::pin!(future.started());
        assert!(started.poll(&mut Context::from_waker(&Waker::from(for_start.clone()))).is_pending());
        let woken = || (for_end.0.load(Ordering::Relaxed), for_start.0.load(Ordering::Relaxed));
        let worker = Worker::Main;
        assert!(item.job.set_running(&worker));
        assert_eq!(woken(), (0, 1), "a job's start does not wake a task waiting for its end");
        item.job.fail(JobError::Cancelled);
        assert_eq!(woken(), (1, 1));
    }
}
