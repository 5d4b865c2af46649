//! `ProcessPoolExecutor`: workers that share no memory with the program.
//!
//! A process worker is a Web Worker with a wasm instance of its own (on the host, a
//! thread that shares nothing). Jobs cross as Python pickles them: a registered job's
//! name and JSON arguments go in a message, a JSON result comes back.
//!
//! The pool lives with the submitter and pushes work to its workers:
//!
//! ```text
//!   spawn ──► STARTING ──Ready──► READY, idle ──send──► READY, busy
//!                │                    ▲                     │
//!                │                    └──── Done (all) ─────┘
//!                ▼
//!   EXITED: retired (max_tasks_per_child, shutdown), terminated (job timeout,
//!   kill_worker) or died. Every job it had been sent fails, naming it: a job handed
//!   to a worker may have begun, and a job never runs twice. A replacement is started
//!   if work is left. A worker that never got ready breaks the pool (it would fail
//!   again), as Python's `BrokenProcessPool`: queued jobs fail, submits are refused.
//! ```
//!
//! One shared queue, as Python's: a job goes to an idle worker, and a worker started
//! for queued work has one of those jobs kept for it until it is up, so a cold pool's
//! first burst runs on all the workers it started. A worker gets more than one job at
//! a time only while no worker is starting and its calls have proved fast: then as
//! many as fill about 4 ms (its fair share of the queue at most), so a burst of tiny
//! jobs is not bound to one message round trip each, and no job waits long behind
//! another while a worker is idle. Every decision is a method of `State`, plain data
//! tested without workers.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::task::Waker;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::executors::combinators::MapResults;
use crate::executors::error::ExecutorError;
use crate::executors::executor::Executor;
use crate::executors::job::{Call, JobError, JobFuture, MAX_TEXT, PoolKind, RemoteJob, clip, new_remote_job};
use crate::observe::log;
use crate::observe::record::{self, JobRecord, Worker};
use crate::platform;
use crate::process::protocol::{ByName, Event, Outcome, ProcessHandle, Report, Sent, WorkerReport};
use crate::runtime::scope::{self, Stop};
use crate::runtime::sync::SpinLock;

/// Process ids for logs: the page is `log::MAIN_PID`, workers count up from it.
static NEXT_PID: AtomicU32 = AtomicU32::new(log::MAIN_PID + 1);

/// Numbers process pools in records: `ProcessPoolExecutor-0`, `-1`, ...
static EXECUTOR_COUNT: AtomicUsize = AtomicUsize::new(0);

/// Numbers `map`'s chunks: each call of `map` takes the next block of 2³² numbers.
static NEXT_CHUNK: AtomicU64 = AtomicU64::new(0);

/// Jobs sent to a worker in one message at most.
const MAX_BATCH: usize = 64;
/// A batch of fast calls holds about this much work.
const BATCH_MS: f64 = 4.0;

/// Configures a [`ProcessPoolExecutor`], like the Python constructor's arguments.
#[derive(Clone, Debug, Default)]
pub struct ProcessBuilder {
    max_workers: Option<usize>,
    max_tasks_per_child: Option<usize>,
    initializer: Option<ByName>,
    job_timeout: Option<Duration>,
    name: Option<String>,
    module: Option<String>,
}

impl ProcessBuilder {
    /// At most this many workers; default the number of cores, as in Python.
    pub fn max_workers(mut self, n: usize) -> Self {
        self.max_workers = Some(n);
        self
    }

    /// A worker is retired and replaced after this many jobs.
    pub fn max_tasks_per_child(mut self, n: usize) -> Self {
        self.max_tasks_per_child = Some(n);
        self
    }

    /// A registered job each worker runs once as it starts (`initializer`, `initargs`).
    pub fn initializer(mut self, name: &str, args: Vec<Value>) -> Self {
        self.initializer = Some(ByName { name: name.to_owned(), args });
        self
    }

    /// A job running longer than this has its worker terminated and fails as timed out.
    pub fn job_timeout(mut self, timeout: Duration) -> Self {
        self.job_timeout = Some(timeout);
        self
    }

    /// In the browser: the URL of a JavaScript module whose exported functions are
    /// this pool's jobs, by name, instead of the program's registry. Each worker
    /// imports it as it starts.
    #[cfg(target_arch = "wasm32")]
    pub fn module(mut self, url: impl Into<String>) -> Self {
        self.module = Some(url.into());
        self
    }

    /// The executor's name in records; default `ProcessPoolExecutor-{N}`.
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    pub fn build(self) -> Result<ProcessPoolExecutor, ExecutorError> {
        let max_workers = crate::executors::error::check_max_workers(self.max_workers.unwrap_or_else(platform::cpu_count))?;
        if self.max_tasks_per_child == Some(0) {
            return Err(ExecutorError::NoTasksPerChild);
        }
        let name = self.name.unwrap_or_else(|| format!("ProcessPoolExecutor-{}", EXECUTOR_COUNT.fetch_add(1, Ordering::Relaxed)));
        let pool = Arc::new(Pool {
            name: Arc::from(name),
            limits: Limits { max_workers, max_tasks_per_child: self.max_tasks_per_child, job_timeout: self.job_timeout },
            initializer: self.initializer,
            module: self.module,
            state: SpinLock::new(State::default()),
        });
        scope::adopt(Arc::downgrade(&pool) as Weak<dyn Stop>);
        Ok(ProcessPoolExecutor { pool })
    }
}

/// Python's `concurrent.futures.ProcessPoolExecutor`, on workers that share nothing.
pub struct ProcessPoolExecutor {
    pool: Arc<Pool>,
}

struct Pool {
    name: Arc<str>,
    limits: Limits,
    initializer: Option<ByName>,
    /// The JavaScript module whose functions are the jobs, if not the registry.
    module: Option<String>,
    state: SpinLock<State>,
}

#[derive(Clone, Copy, Debug)]
struct Limits {
    max_workers: usize,
    max_tasks_per_child: Option<usize>,
    job_timeout: Option<Duration>,
}

/// A job waiting for, or sent to, a worker.
struct Queued {
    id: u64,
    job: Arc<dyn RemoteJob>,
    call: ByName,
    /// `map`'s chunk: jobs of one chunk travel in one message.
    chunk: Option<u64>,
}

impl Queued {
    fn sent(&self) -> Sent {
        Sent { id: self.id, run: self.job.run_id(), name: self.call.name.clone(), args: self.call.args.clone(), chunk: self.chunk }
    }
}

#[derive(Default)]
struct State {
    /// Jobs not yet sent to a worker, oldest first.
    queue: VecDeque<Queued>,
    /// Every worker started, by index.
    workers: Vec<Proc>,
    /// Set by `shutdown`: no new jobs; idle workers are let go once the queue is empty.
    shutdown: bool,
    /// Tasks waiting in `shutdown(wait = true)` for the last worker to go.
    exit_waiters: Vec<Waker>,
    /// Why the pool is broken (a worker never got ready): it takes no more jobs.
    broken: Option<String>,
}

/// Why a process pool whose worker could not start is broken.
const BROKEN: &str = "the process pool is broken, not usable anymore: a worker could not start";

struct Proc {
    pid: u32,
    name: Worker,
    status: Status,
    /// The platform's handle, once the worker was created.
    handle: Option<Arc<dyn ProcessHandle>>,
    /// Jobs sent and not yet reported done, in the order sent.
    in_flight: VecDeque<Queued>,
    /// The job the worker said it began, until it reports it done.
    running: Option<u64>,
    /// Jobs it has finished, for `max_tasks_per_child`.
    finished: usize,
    /// How long its jobs take, smoothed: sizes its batches.
    typical_ms: Option<f64>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Status {
    Starting,
    Ready,
    Exited,
}

/// Who ended a worker: itself (a trap, a panic, a failed start), or the pool (a job
/// timeout, `kill_worker`). Only a worker that fails to start by itself breaks the pool.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Cause {
    Itself,
    Pool,
}

/// What a state change leaves to do once the lock is released.
enum Action {
    Spawn(usize, u32),
    Send(Arc<dyn ProcessHandle>, Vec<Sent>),
    Terminate(Arc<dyn ProcessHandle>),
    /// Arm the job timeout for job `id` on worker `k` (whose pid is checked on firing).
    Timer {
        k: usize,
        pid: u32,
        id: u64,
    },
    Settle(Report, Arc<dyn RemoteJob>, Worker),
    MarkStarted(Arc<dyn RemoteJob>, f64),
    Fail(Arc<dyn RemoteJob>, JobError),
    Cancel(Arc<dyn RemoteJob>),
    Wake(Vec<Waker>),
    Log(log::LogLine),
}

impl State {
    fn alive(&self) -> usize {
        self.workers.iter().filter(|p| p.status != Status::Exited).count()
    }

    /// True if no worker is left; otherwise keeps `waker` to wake when the last goes.
    fn gone_or_wait(&mut self, waker: &Waker) -> bool {
        self.alive() == 0 || {
            self.exit_waiters.push(waker.clone());
            false
        }
    }

    /// Queues `calls` together: a map's chunk is queued whole, so that no worker that
    /// comes ready meanwhile takes part of it.
    fn submit(&mut self, calls: Vec<Queued>, limits: &Limits) -> Result<Vec<Action>, (Vec<Queued>, ExecutorError)> {
        if let Some(reason) = &self.broken {
            return Err((calls, ExecutorError::Broken { reason: reason.clone(), pool: PoolKind::Processes }));
        }
        if self.shutdown {
            return Err((calls, ExecutorError::Shutdown));
        }
        self.queue.extend(calls);
        Ok(self.dispatch(limits))
    }

    /// Feeds idle workers from the queue, starts workers while jobs outnumber the ones
    /// starting (Python starts one when none is idle), and lets idle workers go after
    /// shutdown. Each worker still starting has one queued job kept for it.
    fn dispatch(&mut self, limits: &Limits) -> Vec<Action> {
        let mut actions = Vec::new();
        // A worker that is up but whose handle is not stored yet (on the host its Ready
        // can arrive before `spawn` stores it) cannot take work yet either: it still
        // counts as starting, or a submit would start a worker it does not need.
        let starting =
            self.workers.iter().filter(|p| p.status == Status::Starting || (p.status == Status::Ready && p.handle.is_none())).count();
        let mut idle: Vec<usize> = (0..self.workers.len()).filter(|&k| self.is_idle(k)).collect();
        // The least used first: a worker that has just come up takes the job kept for
        // it, rather than a worker that was idle already.
        idle.sort_by_key(|&k| self.workers[k].finished);
        for (i, &k) in idle.iter().enumerate() {
            let available = self.queue.len().saturating_sub(starting);
            if available == 0 {
                break;
            }
            // A fair share for each idle worker left, so one worker does not take all;
            // and one job at a time while a worker is starting, which may want them.
            let share = available.div_ceil(idle.len() - i);
            let size = if starting > 0 { 1 } else { self.batch_size(k, limits).min(share) };
            let proc = &mut self.workers[k];
            let mut batch = Vec::new();
            let mut chunk = None;
            while batch.len() < size || chunk.is_some_and(|c| self.queue.front().is_some_and(|q| q.chunk == Some(c))) {
                let Some(queued) = self.queue.pop_front() else { break };
                chunk = queued.chunk;
                if !queued.job.set_running(&proc.name) {
                    continue; // cancelled while queued
                }
                batch.push(queued.sent());
                proc.in_flight.push_back(queued);
            }
            if let (false, Some(handle)) = (batch.is_empty(), &proc.handle) {
                actions.push(Action::Send(handle.clone(), batch));
            }
        }
        let mut wanted = self.queue.len().saturating_sub(starting);
        while wanted > 0 && self.alive() < limits.max_workers {
            let pid = NEXT_PID.fetch_add(1, Ordering::Relaxed);
            self.workers.push(Proc {
                pid,
                name: Worker::Process(pid),
                status: Status::Starting,
                handle: None,
                in_flight: VecDeque::new(),
                running: None,
                finished: 0,
                typical_ms: None,
            });
            actions.push(Action::Spawn(self.workers.len() - 1, pid));
            wanted -= 1;
        }
        if self.shutdown && self.queue.is_empty() {
            for k in 0..self.workers.len() {
                if self.is_idle(k) {
                    actions.extend(self.let_go(k));
                }
            }
        }
        actions
    }

    fn is_idle(&self, k: usize) -> bool {
        let proc = &self.workers[k];
        proc.status == Status::Ready && proc.handle.is_some() && proc.in_flight.is_empty()
    }

    fn batch_size(&self, k: usize, limits: &Limits) -> usize {
        let proc = &self.workers[k];
        // With a job timeout every job is sent alone, so that its start is reported.
        let mut size = match (limits.job_timeout, proc.typical_ms) {
            (None, Some(ms)) => ((BATCH_MS / ms.max(0.001)) as usize).clamp(1, MAX_BATCH),
            _ => 1,
        };
        if let Some(max) = limits.max_tasks_per_child {
            size = size.min(max.saturating_sub(proc.finished).max(1));
        }
        size
    }

    /// Retires worker `k`: terminated, and shutdown waiters woken if it was the last.
    fn let_go(&mut self, k: usize) -> Vec<Action> {
        let proc = &mut self.workers[k];
        proc.status = Status::Exited;
        let mut actions: Vec<Action> = proc.handle.take().map(Action::Terminate).into_iter().collect();
        if self.alive() == 0 {
            actions.push(Action::Wake(std::mem::take(&mut self.exit_waiters)));
        }
        actions
    }

    /// Worker `k` (if still the one with `pid`) reported `report`.
    fn on_report(&mut self, k: usize, pid: u32, report: WorkerReport, limits: &Limits) -> Vec<Action> {
        let proc = &mut self.workers[k];
        if proc.pid != pid || proc.status == Status::Exited {
            return Vec::new(); // from a worker already let go
        }
        match report {
            Ok(Event::Ready) => {
                proc.status = Status::Ready;
                self.dispatch(limits)
            }
            Ok(Event::Failed(reason)) | Err(reason) => self.died(k, Cause::Itself, reason, None, limits),
            Ok(Event::Started(id, at)) => self.began(k, id, at, limits),
            Ok(Event::Done(reports)) => {
                let mut actions = Vec::new();
                for report in reports {
                    let next = report.next.map(|id| (id, report.finished));
                    let ms = report.finished - report.started;
                    let settled = self.finished(k, report);
                    let proc = &mut self.workers[k];
                    if settled.is_some() {
                        proc.typical_ms = Some(proc.typical_ms.map_or(ms, |t| 0.8 * t + 0.2 * ms));
                    }
                    actions.extend(settled);
                    if let Some((id, at)) = next {
                        actions.extend(self.began(k, id, at, limits));
                    }
                }
                let proc = &mut self.workers[k];
                let retire = limits.max_tasks_per_child.is_some_and(|max| proc.finished >= max);
                if retire && proc.in_flight.is_empty() {
                    actions.extend(self.let_go(k));
                }
                actions.extend(self.dispatch(limits));
                actions
            }
            Ok(Event::Log(line)) => vec![Action::Log(line)],
            Ok(Event::Aborting(report)) => {
                // Its panic aborts the worker (the plain build): the call fails with
                // the panic, as it would have had the panic unwound, and the worker is
                // gone. Calls it had been sent but not begun go to other workers.
                let mut actions: Vec<Action> = self.finished(k, report).into_iter().collect();
                actions.extend(self.died(k, Cause::Itself, "ended by a panic".into(), None, limits));
                actions
            }
        }
    }

    /// Worker `k` reported call `report.id` finished: settle it, unless the pool already
    /// let it go (a timeout, a kill).
    fn finished(&mut self, k: usize, report: Report) -> Option<Action> {
        let proc = &mut self.workers[k];
        let queued = proc.in_flight.remove(proc.in_flight.iter().position(|q| q.id == report.id)?)?;
        if proc.running == Some(report.id) {
            proc.running = None;
        }
        proc.finished += 1;
        Some(Action::Settle(report, queued.job, proc.name.clone()))
    }

    /// Worker `k` began call `id` at `at`.
    fn began(&mut self, k: usize, id: u64, at: f64, limits: &Limits) -> Vec<Action> {
        let proc = &mut self.workers[k];
        proc.running = Some(id);
        let Some(queued) = proc.in_flight.iter().find(|q| q.id == id) else { return Vec::new() };
        let mut actions = vec![Action::MarkStarted(queued.job.clone(), at)];
        if limits.job_timeout.is_some() {
            actions.push(Action::Timer { k, pid: proc.pid, id });
        }
        actions
    }

    /// Worker `k` is gone. The job it had begun fails (`begun_error`, or as a death), and
    /// so does every other job it had been sent: it may have begun them (its reports may
    /// be unread), and a job must not run twice. A worker that never got ready breaks
    /// the pool.
    fn died(&mut self, k: usize, cause: Cause, reason: String, begun_error: Option<JobError>, limits: &Limits) -> Vec<Action> {
        let proc = &mut self.workers[k];
        let never_ready = proc.status == Status::Starting && cause == Cause::Itself;
        proc.status = Status::Exited;
        let mut actions: Vec<Action> = proc.handle.take().map(Action::Terminate).into_iter().collect();
        let running = proc.running.take();
        let worker = proc.name.clone();
        for queued in std::mem::take(&mut proc.in_flight) {
            let job = queued.job.label().to_owned();
            let error = match &begun_error {
                Some(error) if Some(queued.id) == running => error.clone(),
                _ if Some(queued.id) == running => {
                    JobError::WorkerDied { job, worker: worker.clone(), reason: reason.clone(), pool: PoolKind::Processes }
                }
                _ => JobError::WorkerDied {
                    job,
                    worker: worker.clone(),
                    reason: format!("{reason} (the job had been handed to it and may have begun, so it is not run again)"),
                    pool: PoolKind::Processes,
                },
            };
            actions.push(Action::Fail(queued.job, error));
        }
        if never_ready {
            let broken = self.broken.get_or_insert_with(|| format!("{BROKEN}: {reason}")).clone();
            actions.extend(self.terminate(&broken, limits));
        } else {
            actions.extend(self.dispatch(limits));
        }
        if self.alive() == 0 && self.queue.is_empty() {
            actions.push(Action::Wake(std::mem::take(&mut self.exit_waiters)));
        }
        actions
    }

    /// The job timeout of job `id` on worker `k` fired.
    fn timed_out(&mut self, k: usize, pid: u32, id: u64, limits: &Limits) -> Vec<Action> {
        let Some(after) = limits.job_timeout else { return Vec::new() };
        let proc = &self.workers[k];
        if proc.pid != pid || proc.status == Status::Exited || proc.running != Some(id) {
            return Vec::new(); // it finished in time
        }
        let Some(queued) = proc.in_flight.iter().find(|q| q.id == id) else { return Vec::new() };
        let error =
            JobError::TimedOut { job: queued.job.label().to_owned(), worker: proc.name.clone(), after_ms: after.as_secs_f64() * 1000.0 };
        self.died(k, Cause::Pool, format!("terminated: job {id} timed out"), Some(error), limits)
    }

    /// Shuts down and terminates every worker now: the queued jobs fail with `reason`
    /// (nothing will run them), and so do the jobs the workers had been sent.
    fn terminate(&mut self, reason: &str, limits: &Limits) -> Vec<Action> {
        let mut actions: Vec<Action> = self
            .queue
            .drain(..)
            .map(|queued| {
                let job = queued.job.label().to_owned();
                Action::Fail(queued.job, JobError::NoWorker { job, reason: reason.to_owned(), pool: PoolKind::Processes })
            })
            .collect();
        actions.extend(self.shutdown(false, limits));
        for k in 0..self.workers.len() {
            if self.workers[k].status != Status::Exited {
                actions.extend(self.died(k, Cause::Pool, reason.to_owned(), None, limits));
            }
        }
        actions
    }

    fn shutdown(&mut self, cancel_futures: bool, limits: &Limits) -> Vec<Action> {
        self.shutdown = true;
        // Python cancels the work not yet handed to a process.
        let mut actions: Vec<Action> = Vec::new();
        if cancel_futures {
            actions.extend(self.queue.drain(..).map(|q| Action::Cancel(q.job)));
        }
        actions.extend(self.dispatch(limits));
        if self.alive() == 0 {
            actions.push(Action::Wake(std::mem::take(&mut self.exit_waiters)));
        }
        actions
    }
}

impl ProcessPoolExecutor {
    /// A pool with Python's defaults; see [`ProcessBuilder`] for the options.
    pub fn new() -> Result<Self, ExecutorError> {
        ProcessBuilder::default().build()
    }

    pub fn builder() -> ProcessBuilder {
        ProcessBuilder::default()
    }

    pub fn name(&self) -> &str {
        &self.pool.name
    }

    pub fn max_workers(&self) -> usize {
        self.pool.limits.max_workers
    }

    /// Workers started and not yet gone.
    pub fn workers_alive(&self) -> usize {
        self.pool.state.lock().alive()
    }

    /// The process ids of the workers alive.
    pub fn worker_pids(&self) -> Vec<u32> {
        let state = self.pool.state.lock();
        state.workers.iter().filter(|p| p.status != Status::Exited).map(|p| p.pid).collect()
    }

    /// Schedules a registered job; its result comes back as JSON and is read as `T`.
    pub fn submit<T: DeserializeOwned + Send + 'static>(&self, call: Call<T>) -> Result<JobFuture<T>, ExecutorError> {
        let (future, queued) = self.prepare(call, None);
        self.enqueue(queued.into_iter().collect())?;
        Ok(future)
    }

    /// Python's `executor.map(fn, items, chunksize)`: `f` makes each item's call, and
    /// every `chunksize` calls travel to a worker in one message. Results come back in
    /// the order of `items`.
    pub fn map<A, T: DeserializeOwned + Send + 'static>(
        &self,
        f: impl Fn(A) -> Call<T>,
        items: impl IntoIterator<Item = A>,
        chunksize: usize,
    ) -> Result<MapResults<T>, ExecutorError> {
        if chunksize == 0 {
            return Err(ExecutorError::NoChunkSize);
        }
        let base = NEXT_CHUNK.fetch_add(1 << 32, Ordering::Relaxed);
        let mut futures = VecDeque::new();
        let mut chunk = Vec::new();
        for (i, item) in items.into_iter().enumerate() {
            let (future, queued) = self.prepare(f(item), (chunksize > 1).then_some(base + (i / chunksize) as u64));
            futures.push_back(future);
            chunk.extend(queued);
            if (i + 1) % chunksize == 0 {
                self.enqueue(std::mem::take(&mut chunk))?;
            }
        }
        self.enqueue(chunk)?;
        Ok(MapResults::new(futures))
    }

    /// A job for `call`, and what queues it, unless the call cannot cross to a worker.
    fn prepare<T: DeserializeOwned + Send + 'static>(&self, call: Call<T>, chunk: Option<u64>) -> (JobFuture<T>, Option<Queued>) {
        let (future, job) = new_remote_job(&call, &self.pool.name);
        let Some(by_name) = call.by_name else {
            job.fail(JobError::NotByName { job: call.label });
            return (future, None);
        };
        let id = future.id();
        (future, Some(Queued { id, job, call: by_name, chunk }))
    }

    /// Queues `calls` together (see `State::submit`); after shutdown, cancels them.
    fn enqueue(&self, calls: Vec<Queued>) -> Result<(), ExecutorError> {
        if calls.is_empty() {
            return Ok(());
        }
        let submitted = self.pool.state.lock().submit(calls, &self.pool.limits);
        match submitted {
            Ok(actions) => {
                Pool::perform(&self.pool, actions);
                Ok(())
            }
            Err((calls, error)) => {
                calls.iter().for_each(|queued| {
                    queued.job.cancel();
                });
                Err(error)
            }
        }
    }

    /// Python's `shutdown(wait, cancel_futures)`: takes effect at once; the returned
    /// future resolves when every worker is gone (at once if `wait` is false).
    pub fn shutdown(&self, wait: bool, cancel_futures: bool) -> impl Future<Output = ()> + 'static {
        let actions = self.pool.state.lock().shutdown(cancel_futures, &self.pool.limits);
        Pool::perform(&self.pool, actions);
        let pool = self.pool.clone();
        crate::executors::executor::workers_gone(wait, move |waker| pool.state.lock().gone_or_wait(waker))
    }

    /// Terminates the worker `pid` as the system's `kill` would: the job it was
    /// running fails, the rest of its work goes to other workers. For fault drills.
    pub fn kill_worker(&self, pid: u32) -> bool {
        let mut state = self.pool.state.lock();
        let Some(k) = state.workers.iter().position(|p| p.pid == pid && p.status != Status::Exited) else {
            return false;
        };
        let actions = state.died(k, Cause::Pool, "terminated by kill_worker".into(), None, &self.pool.limits);
        drop(state);
        Pool::perform(&self.pool, actions);
        true
    }

    /// This executor's job records, in submission order.
    pub fn records(&self) -> Vec<JobRecord> {
        record::records_of(&self.pool.name)
    }
}

impl Executor for ProcessPoolExecutor {
    fn submit<T: Send + DeserializeOwned + 'static>(&self, call: Call<T>) -> Result<JobFuture<T>, ExecutorError> {
        ProcessPoolExecutor::submit(self, call)
    }
    fn map<A, T: Send + DeserializeOwned + 'static>(
        &self,
        f: impl Fn(A) -> Call<T>,
        items: impl IntoIterator<Item = A>,
        chunksize: usize,
    ) -> Result<MapResults<T>, ExecutorError> {
        ProcessPoolExecutor::map(self, f, items, chunksize)
    }
    fn shutdown(&self, wait: bool, cancel_futures: bool) -> impl Future<Output = ()> + 'static {
        ProcessPoolExecutor::shutdown(self, wait, cancel_futures)
    }
    fn name(&self) -> &str {
        ProcessPoolExecutor::name(self)
    }
    fn max_workers(&self) -> usize {
        ProcessPoolExecutor::max_workers(self)
    }
    fn workers(&self) -> Vec<Worker> {
        self.worker_pids().into_iter().map(Worker::Process).collect()
    }
    fn records(&self) -> Vec<JobRecord> {
        ProcessPoolExecutor::records(self)
    }
}

impl Stop for Pool {
    /// Processes can be killed, so a stopped run's workers go at once.
    fn stop(self: Arc<Self>) {
        let actions = {
            let mut state = self.state.lock();
            let mut actions = state.shutdown(true, &self.limits);
            actions.extend(state.terminate("terminated: its run was stopped", &self.limits));
            actions
        };
        Pool::perform(&self, actions);
    }
}

impl Drop for ProcessPoolExecutor {
    /// As Python's `shutdown(wait=False)`: queued jobs still run, then workers go.
    fn drop(&mut self) {
        drop(self.shutdown(false, false));
    }
}

impl Pool {
    fn perform(pool: &Arc<Pool>, actions: Vec<Action>) {
        for action in actions {
            match action {
                Action::Spawn(k, pid) => Pool::spawn(pool, k, pid),
                Action::Send(handle, batch) => handle.send(batch),
                Action::Terminate(handle) => handle.terminate(),
                Action::Timer { k, pid, id } => {
                    let Some(after) = pool.limits.job_timeout else { continue };
                    let pool = pool.clone();
                    platform::start_timer(
                        after,
                        Box::new(move || {
                            let actions = pool.state.lock().timed_out(k, pid, id, &pool.limits);
                            Pool::perform(&pool, actions);
                        }),
                    );
                }
                Action::Settle(report, job, worker) => settle(report, &*job, &worker),
                Action::MarkStarted(job, at) => job.mark_started(at),
                Action::Fail(job, error) => job.fail(error),
                Action::Cancel(job) => {
                    job.cancel();
                }
                Action::Wake(waiters) => waiters.into_iter().for_each(Waker::wake),
                Action::Log(line) => log::append(line),
            }
        }
    }

    fn spawn(pool: &Arc<Pool>, k: usize, pid: u32) {
        let for_reports = pool.clone();
        let spawned = crate::process::spawn_process(
            pid,
            pool.initializer.clone(),
            pool.module.clone(),
            Box::new(move |report| {
                let actions = for_reports.state.lock().on_report(k, pid, report, &for_reports.limits);
                Pool::perform(&for_reports, actions);
            }),
        );
        let actions = {
            let mut state = pool.state.lock();
            match spawned {
                Ok(handle) if state.workers[k].status != Status::Exited => {
                    state.workers[k].handle = Some(handle);
                    state.dispatch(&pool.limits)
                }
                Ok(handle) => vec![Action::Terminate(handle)],
                Err(reason) => state.died(k, Cause::Itself, reason, None, &pool.limits),
            }
        };
        Pool::perform(pool, actions);
    }
}

/// Settles a job from a worker's report.
fn settle(report: Report, job: &dyn RemoteJob, worker: &Worker) {
    let label = || job.label().to_owned();
    let outcome = match report.outcome {
        Outcome::Ok(value) => Ok(value),
        Outcome::Failed(message) => Err(JobError::Failed { job: label(), message: clip(message, MAX_TEXT) }),
        Outcome::Panicked(message) => Err(JobError::Panicked { job: label(), worker: worker.clone(), message: clip(message, MAX_TEXT) }),
    };
    job.settle_report(outcome, report.started, report.finished, report.note);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::executors::job::PythonException;
    use crate::process::registry;

    struct Handle;
    impl ProcessHandle for Handle {
        fn send(&self, _batch: Vec<Sent>) {}
        fn terminate(&self) {}
    }

    /// Applies what the pool's decisions say to the jobs, without workers.
    fn settle_jobs(actions: Vec<Action>) -> (Vec<Vec<Sent>>, usize, usize) {
        let (mut sent, mut spawned, mut terminated) = (Vec::new(), 0, 0);
        for action in actions {
            match action {
                Action::Send(_, batch) => sent.push(batch),
                Action::Spawn(..) => spawned += 1,
                Action::Terminate(_) => terminated += 1,
                Action::Settle(report, job, worker) => settle(report, &*job, &worker),
                Action::Fail(job, error) => job.fail(error),
                _ => {}
            }
        }
        (sent, spawned, terminated)
    }

    /// A registered job's future, and what queues it.
    fn queued(job: &str, args: Vec<Value>, chunk: Option<u64>) -> (JobFuture<Value>, Queued) {
        let call = registry::call(job, args);
        let (future, remote) = new_remote_job(&call, &Arc::from("pool"));
        let id = future.id();
        (future, Queued { id, job: remote, call: call.by_name.unwrap(), chunk })
    }

    /// A pool of one worker, ready and known to be fast, that has been sent `calls`
    /// (name, arguments) in one batch; their futures, and the worker's pid.
    fn one_batch(calls: &[(&str, Vec<Value>)], limits: &Limits) -> (State, Vec<JobFuture<Value>>, u32) {
        let mut state = State::default();
        let mut futures = Vec::new();
        let mut spawned = 0;
        for (job, args) in calls {
            let (future, queued) = queued(job, args.clone(), None);
            spawned += settle_jobs(state.submit(vec![queued], limits).ok().unwrap()).1;
            futures.push(future);
        }
        assert_eq!(spawned, 1);
        let pid = state.workers[0].pid;
        state.workers[0].handle = Some(Arc::new(Handle));
        state.workers[0].typical_ms = Some(0.01);
        let (sent, ..) = settle_jobs(state.on_report(0, pid, Ok(Event::Ready), limits));
        assert_eq!(sent.concat().len(), calls.len(), "fast calls go in one batch");
        (state, futures, pid)
    }

    #[test]
    fn a_result_and_the_next_start_in_one_message_settle_one_call_and_begin_the_next() {
        let limits = Limits { max_workers: 1, max_tasks_per_child: None, job_timeout: None };
        let (mut state, futures, pid) = one_batch(&[("noop", vec![]), ("noop", vec![])], &limits);
        let (a, b) = (futures[0].id(), futures[1].id());
        settle_jobs(state.on_report(0, pid, Ok(Event::Started(a, 1.0)), &limits));
        let report = Report { id: a, outcome: Outcome::Ok(Value::Null), started: 1.0, finished: 2.0, note: None, next: Some(b) };
        let actions = state.on_report(0, pid, Ok(Event::Done(vec![report])), &limits);
        assert!(actions.iter().any(|a| matches!(a, Action::MarkStarted(_, at) if *at == 2.0)), "b began when a finished");
        settle_jobs(actions);
        assert_eq!(futures[0].result(), Some(Ok(Value::Null)));
        assert_eq!((state.workers[0].running, state.workers[0].in_flight.len()), (Some(b), 1));
        // A clock that read the end a millisecond before the start (Firefox's can).
        let report = Report { id: b, outcome: Outcome::Ok(Value::Null), started: 2.0, finished: 1.0, note: None, next: None };
        settle_jobs(state.on_report(0, pid, Ok(Event::Done(vec![report])), &limits));
        assert_eq!(futures[1].result(), Some(Ok(Value::Null)));
        let record = futures[1].record();
        assert_eq!((record.started, record.finished), (Some(2.0), Some(2.0)), "times in order");
        assert_eq!((state.workers[0].running, state.workers[0].in_flight.len()), (None, 0));
    }

    #[test]
    fn a_job_failed_on_the_pages_clock_does_not_end_before_its_start_on_the_workers() {
        let (future, queued) = queued("noop", vec![], None);
        queued.job.mark_started(1e15); // the worker's clock, ahead of the page's
        queued.job.fail(JobError::NoWorker { job: "noop()".into(), reason: "gone".into(), pool: PoolKind::Processes });
        assert_eq!(future.record().finished, Some(1e15));
    }

    #[test]
    fn a_chunk_queued_while_a_worker_waits_goes_to_it_whole() {
        let limits = Limits { max_workers: 2, max_tasks_per_child: None, job_timeout: None };
        let (mut state, futures, pid) = one_batch(&[("noop", vec![])], &limits);
        let id = futures[0].id();
        let report = Report { id, outcome: Outcome::Ok(Value::Null), started: 1.0, finished: 2.0, note: None, next: None };
        settle_jobs(state.on_report(0, pid, Ok(Event::Done(vec![report])), &limits));
        // The worker waits; its calls took 1 ms, so alone it would get four at most.
        state.workers[0].typical_ms = Some(1.0);
        let chunk: Vec<_> = (0..6).map(|_| queued("noop", vec![], Some(7)).1).collect();
        let (sent, spawned, _) = settle_jobs(state.submit(chunk, &limits).ok().unwrap());
        assert_eq!((sent.len(), sent[0].len(), spawned), (1, 6, 0), "one batch of six to the waiting worker");
    }

    #[test]
    fn a_panic_that_aborts_its_worker_fails_its_call_and_never_reruns_the_calls_handed_to_it() {
        let limits = Limits { max_workers: 1, max_tasks_per_child: None, job_timeout: None };
        let calls = [("panics", vec![Value::from("boom")]), ("noop", vec![]), ("noop", vec![])];
        let (mut state, futures, pid) = one_batch(&calls, &limits);
        let id = futures[0].id();
        settle_jobs(state.on_report(0, pid, Ok(Event::Started(id, 1.0)), &limits));
        let report = Report { id, outcome: Outcome::Panicked("boom".into()), started: 1.0, finished: 2.0, note: None, next: None };
        let (sent, spawned, terminated) = settle_jobs(state.on_report(0, pid, Ok(Event::Aborting(report)), &limits));
        let worker = state.workers[0].name.clone();
        assert_eq!(futures[0].result(), Some(Err(JobError::Panicked { job: "panics(\"boom\")".into(), worker, message: "boom".into() })));
        // The worker is gone. The two calls it had been sent may have begun (their
        // reports could be unread): they fail, naming it, and are not sent again.
        assert_eq!((sent.len(), spawned, terminated), (0, 0, 1));
        assert_eq!(state.workers[0].status, Status::Exited);
        assert!(state.queue.is_empty());
        for future in &futures[1..] {
            let Some(Err(JobError::WorkerDied { worker, reason, pool, .. })) = future.result() else { panic!("{:?}", future.result()) };
            assert_eq!((worker, pool), (Worker::Process(pid), PoolKind::Processes));
            assert!(reason.contains("may have begun, so it is not run again"), "{reason}");
        }
        // Its death, reported after, changes nothing.
        assert!(state.on_report(0, pid, Err("RuntimeError: unreachable".into()), &limits).is_empty());
    }

    #[test]
    fn a_job_handed_to_a_worker_that_dies_is_failed_once_even_if_its_report_comes_later() {
        // The page was busy: the worker finished the call and reported it, but the pool
        // hears of the death first. The call fails (it may have begun) and its late
        // report changes nothing: it ran once, and its future settled once.
        let limits = Limits { max_workers: 2, max_tasks_per_child: None, job_timeout: None };
        let (mut state, futures, pid) = one_batch(&[("noop", vec![])], &limits);
        let id = futures[0].id();
        let (sent, spawned, _) = settle_jobs(state.died(0, Cause::Pool, "terminated by kill_worker".into(), None, &limits));
        assert_eq!((sent.len(), spawned), (0, 0), "nothing is sent again");
        assert!(matches!(futures[0].result(), Some(Err(JobError::WorkerDied { .. }))));
        let report = Report { id, outcome: Outcome::Ok(Value::Null), started: 1.0, finished: 2.0, note: None, next: None };
        assert!(state.on_report(0, pid, Ok(Event::Done(vec![report])), &limits).is_empty());
        assert!(matches!(futures[0].result(), Some(Err(JobError::WorkerDied { .. }))));
    }

    #[test]
    fn a_cold_pool_keeps_a_job_for_each_worker_it_is_starting() {
        // Python's workers share one queue; a worker started for queued work takes one
        // of those jobs when it is up, however long it takes to start.
        let limits = Limits { max_workers: 3, max_tasks_per_child: None, job_timeout: None };
        let mut state = State::default();
        let futures: Vec<_> = (0..6)
            .map(|_| {
                let (future, queued) = queued("blocks", vec![Value::from(1)], None);
                settle_jobs(state.submit(vec![queued], &limits).ok().unwrap());
                future
            })
            .collect();
        assert_eq!(state.workers.len(), 3, "three workers start for six jobs");
        let ready = |state: &mut State, k: usize| {
            let pid = state.workers[k].pid;
            state.workers[k].handle = Some(Arc::new(Handle));
            settle_jobs(state.on_report(k, pid, Ok(Event::Ready), &limits)).0.concat()
        };
        let done = |state: &mut State, k: usize, id: u64| {
            let pid = state.workers[k].pid;
            let report = Report { id, outcome: Outcome::Ok(Value::from(1)), started: 1.0, finished: 2.0, note: None, next: None };
            settle_jobs(state.on_report(k, pid, Ok(Event::Done(vec![report])), &limits)).0.concat()
        };
        let mut ran = vec![Vec::new(); 3];
        let first = ready(&mut state, 0);
        assert_eq!(first.len(), 1, "one job at a time while others start");
        ran[0].push(first[0].id);
        let second = ready(&mut state, 1);
        ran[1].push(second[0].id);
        // Workers 0 and 1 finish job after job while worker 2 is still starting: they
        // take all but the one job kept for it.
        loop {
            let (a, b) = (ran[0].last().copied(), ran[1].last().copied());
            let next0 = a.map(|id| done(&mut state, 0, id)).unwrap_or_default();
            let next1 = b.map(|id| done(&mut state, 1, id)).unwrap_or_default();
            if next0.is_empty() && next1.is_empty() {
                break;
            }
            ran[0].extend(next0.iter().map(|s| s.id));
            ran[1].extend(next1.iter().map(|s| s.id));
        }
        assert_eq!(state.queue.len(), 1, "one job waits for the worker still starting");
        // Workers 0 and 1 are idle when worker 2 comes up: the job kept for it is its.
        assert!(state.is_idle(0) && state.is_idle(1));
        let third = ready(&mut state, 2);
        assert_eq!(third.len(), 1);
        ran[2].push(third[0].id);
        let mut all: Vec<u64> = ran.concat();
        all.sort_unstable();
        assert_eq!(all, futures.iter().map(|f| f.id()).collect::<Vec<_>>(), "each job ran once");
    }

    #[test]
    fn killing_a_worker_that_is_starting_does_not_break_the_pool() {
        // Found by the random-kill test: a kill is the pool's doing, not a failed start.
        let limits = Limits { max_workers: 1, max_tasks_per_child: None, job_timeout: None };
        let mut state = State::default();
        let (future, first) = queued("noop", vec![], None);
        settle_jobs(state.submit(vec![first], &limits).ok().unwrap());
        let (_, spawned, _) = settle_jobs(state.died(0, Cause::Pool, "terminated by kill_worker".into(), None, &limits));
        assert_eq!(spawned, 1, "a replacement starts for the queued job");
        assert!(state.broken.is_none());
        assert!(future.result().is_none(), "the job was never handed over: it waits for the replacement");
    }

    #[test]
    fn a_worker_ready_before_its_handle_is_stored_is_not_doubled() {
        // Found by the port of CPython's test_processes_terminate: on the host a worker's
        // Ready can come before `spawn` stores its handle, and the pool, counting it
        // neither starting nor idle, started a worker more than the jobs needed.
        let limits = Limits { max_workers: 5, max_tasks_per_child: None, job_timeout: None };
        let mut state = State::default();
        let (_first, queued1) = queued("noop", vec![], None);
        assert_eq!(settle_jobs(state.submit(vec![queued1], &limits).ok().unwrap()).1, 1);
        let pid = state.workers[0].pid;
        settle_jobs(state.on_report(0, pid, Ok(Event::Ready), &limits));
        assert_eq!(state.workers.len(), 1, "its Ready alone starts no other worker");
        let (_second, queued2) = queued("noop", vec![], None);
        assert_eq!(settle_jobs(state.submit(vec![queued2], &limits).ok().unwrap()).1, 1, "one worker for the second job");
        assert_eq!(state.workers.len(), 2);
    }

    #[test]
    fn a_worker_that_never_gets_ready_breaks_the_pool() {
        let limits = Limits { max_workers: 2, max_tasks_per_child: None, job_timeout: None };
        let mut state = State::default();
        let (future, first) = queued("noop", vec![], None);
        settle_jobs(state.submit(vec![first], &limits).ok().unwrap());
        let pid = state.workers[0].pid;
        settle_jobs(state.on_report(0, pid, Ok(Event::Failed("its initializer init() failed: no".into())), &limits));
        let Some(Err(error @ JobError::NoWorker { .. })) = future.result() else { panic!("{:?}", future.result()) };
        assert_eq!(error.python_name(), "BrokenProcessPool");
        assert!(error.to_string().contains("its initializer init() failed: no"), "{error}");
        let (_, again) = queued("noop", vec![], None);
        let Err((_, refused)) = state.submit(vec![again], &limits) else { panic!("a broken pool takes no jobs") };
        assert_eq!(refused.python_name(), "BrokenProcessPool");
    }
}
