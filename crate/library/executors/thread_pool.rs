//! `ThreadPoolExecutor`: a pool of workers that share the program's memory.
//!
//! The same code runs natively (workers are OS threads) and in the browser (workers are
//! Web Workers running the one shared wasm instance). It follows CPython's
//! `concurrent/futures/thread.py`: one FIFO queue; a worker is started on submit only
//! when no idle one exists, up to `max_workers`, and then reused; after `shutdown`
//! workers drain the queue and exit.
//!
//! Worker states (`Status`):
//!
//! ```text
//!   spawn ──► STARTING ──► BUSY ◄──► (next job)
//!                          │  ▲
//!            queue empty   ▼  │ submit
//!                      SPINNING ──────────────► BUSY   (a submit within SPIN_MS: no wake-up)
//!                          │ SPIN_MS         ▲
//!                          ▼                 │
//!                         IDLE ──► WAKING ───┘
//!   EXITED: left after shutdown, or died. A worker that dies after it started is
//!   replaced if work is queued; one that fails to start is not (it would fail again),
//!   and if no worker is left the queued jobs fail instead of waiting forever.
//! ```

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::task::Waker;
use std::thread::Thread;

use crate::executors::combinators::MapResults;
use crate::executors::error::{ExecutorError, check_max_workers};
use crate::executors::executor::{Executor, auto_chunksize};
use crate::executors::job::{Call, IntoJob, JobControl, JobError, JobFuture, PoolKind, WorkItem, catch_panic, new_job};
use crate::observe::log;
use crate::observe::record::{self, JobRecord, Worker};
use crate::platform;
use crate::runtime::scope::{self, Stop};
use crate::runtime::sync::SpinLock;
use serde::de::DeserializeOwned;

/// How long a worker out of work watches the queue before it parks: a burst's next
/// submit (one every 4-8 µs) then finds it awake, and costs no wake-up (on the main
/// thread of a page, a wake-up was a fifth of a submit's cost). Short, and one worker at
/// a time, because a spinner holds a core: at 50 µs it outlasted a round trip (20-30 µs)
/// and made Chromium's 35-115 µs instead of 15-25, on 2 cores.
const SPIN_MS: f64 = 0.01;

/// Why a thread pool whose initializer failed is broken (Python's wording).
const INITIALIZER_FAILED: &str = "A thread initializer failed, the thread pool is not usable anymore";

/// Numbers executors without a name prefix: `ThreadPoolExecutor-0`, `-1`, ...
static EXECUTOR_COUNT: AtomicUsize = AtomicUsize::new(0);

/// Python's `initializer` with its `initargs`: run once by each worker as it starts;
/// `Err(message)` (or a panic) breaks the pool.
pub type Initializer = Arc<dyn Fn() -> Result<(), String> + Send + Sync + std::panic::RefUnwindSafe>;

/// Configures a [`ThreadPoolExecutor`], like the Python constructor's arguments.
#[derive(Clone, Default)]
pub struct Builder {
    max_workers: Option<usize>,
    thread_name_prefix: Option<String>,
    initializer: Option<(String, Initializer)>,
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("max_workers", &self.max_workers)
            .field("thread_name_prefix", &self.thread_name_prefix)
            .field("initializer", &self.initializer.as_ref().map(|(label, _)| label))
            .finish()
    }
}

impl Builder {
    /// At most this many workers; default `min(32, cores + 4)` as in Python.
    pub fn max_workers(mut self, n: usize) -> Self {
        self.max_workers = Some(n);
        self
    }

    /// Workers are named `{prefix}_{k}`; default `ThreadPoolExecutor-{N}`.
    pub fn thread_name_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.thread_name_prefix = Some(prefix.into());
        self
    }

    /// Python's `initializer` and `initargs`: each worker calls `init` once as it starts,
    /// before any job. If it fails (an `Err` or a panic), the pool is broken, as in
    /// Python: queued jobs fail and later submits are refused, both as
    /// `BrokenThreadPool`. `label` names it in those errors: `init_db("x")`.
    pub fn initializer(
        mut self,
        label: impl Into<String>,
        init: impl Fn() -> Result<(), String> + Send + Sync + std::panic::RefUnwindSafe + 'static,
    ) -> Self {
        self.initializer = Some((label.into(), Arc::new(init)));
        self
    }

    pub fn build(self) -> Result<ThreadPoolExecutor, ExecutorError> {
        let max_workers = check_max_workers(self.max_workers.unwrap_or_else(|| 32.min(platform::cpu_count() + 4)))?;
        #[allow(clippy::let_unit_value, reason = "the browser's threads are a value (their shared memory); the host's are not")]
        let threads = platform::threads().map_err(ExecutorError::ThreadsUnavailable)?;
        let prefix =
            self.thread_name_prefix.unwrap_or_else(|| format!("ThreadPoolExecutor-{}", EXECUTOR_COUNT.fetch_add(1, Ordering::Relaxed)));
        let pool = Arc::new(Pool {
            name: Arc::from(prefix),
            max_workers,
            initializer: self.initializer,
            state: SpinLock::new(PoolState::default()),
            claims: AtomicU64::new(0),
        });
        scope::adopt(Arc::downgrade(&pool) as Weak<dyn Stop>);
        Ok(ThreadPoolExecutor { pool, _threads: threads })
    }
}

/// Python's `concurrent.futures.ThreadPoolExecutor`, on Web Workers that share memory.
pub struct ThreadPoolExecutor {
    pool: Arc<Pool>,
    /// Uninhabited in the plain build, which has no threads: there no executor can be
    /// made, and the compiler leaves out the code that would run one.
    _threads: platform::Threads,
}

struct Pool {
    /// The name prefix; also the executor's name in records.
    name: Arc<str>,
    max_workers: usize,
    initializer: Option<(String, Initializer)>,
    state: SpinLock<PoolState>,
    /// Counts submits that claimed a spinning worker, which watches it off the lock.
    claims: AtomicU64,
}

/// Everything that changes, behind one lock. Plain data: every decision about queue
/// and workers is a method here, tested without threads.
#[derive(Default)]
struct PoolState {
    /// Jobs submitted and not yet taken by a worker, oldest first. Cancelled jobs stay
    /// until a worker pops and skips them, as in Python.
    queue: VecDeque<WorkItem>,
    /// Every worker started, by index `k` (its name is `{prefix}_{k}`).
    workers: Vec<Status>,
    /// Set by `shutdown`: no new jobs; workers exit once the queue is empty.
    shutdown: bool,
    /// Tasks waiting in `shutdown(wait = true)` for the last worker to exit.
    exit_waiters: Vec<Waker>,
    /// Why the pool is broken (an initializer failed): it takes no more jobs.
    broken: Option<String>,
}

enum Status {
    /// STARTING: spawned, its thread not yet in the worker loop.
    Starting,
    /// WAKING: unparked or claimed by a submit, about to look at the queue. Not idle,
    /// so the next submit does not count on it.
    Waking,
    /// SPINNING: out of work, watching the queue for `SPIN_MS` before it parks. A submit
    /// claims it (WAKING) with no wake-up.
    Spinning,
    /// IDLE: parked on an empty queue, or done with a job and on its way back to the
    /// queue; unpark `Thread` to give it work.
    Idle(Thread),
    /// BUSY: running this job.
    Busy(Arc<dyn JobControl>),
    /// LEAVING: out of its loop (after shutdown, or a failed initializer); alive until
    /// the platform says its thread has ended (a Web Worker frees its stack first).
    Leaving,
    /// EXITED: its thread ended, or it died.
    Exited,
}

/// What a submit asks of the caller once the lock is released.
enum Wake {
    /// Nothing: a worker is on its way, or all are busy and the job waits its turn.
    Nobody,
    /// Nothing either: a spinning worker was claimed, and will see the job.
    Claimed,
    Unpark(Thread),
    /// Start worker `k`.
    Spawn(usize),
}

/// What a worker does next.
enum Next {
    Run(WorkItem),
    /// Watch the queue a moment longer.
    Spin,
    Park,
    /// Leave the loop; the thread's end is reported by the platform (`Pool::left`).
    Exit,
}

impl PoolState {
    fn alive(&self) -> usize {
        self.workers.iter().filter(|s| !matches!(s, Status::Exited)).count()
    }

    /// True if no worker is left; otherwise keeps `waker` to wake when the last goes.
    fn gone_or_wait(&mut self, waker: &Waker) -> bool {
        self.alive() == 0 || {
            self.exit_waiters.push(waker.clone());
            false
        }
    }

    /// Queues `items` (a job, or a chunk of `map`'s) and decides who runs them:
    /// Python's `_adjust_thread_count`, once for the chunk. As many workers are woken or
    /// started as there are items, while any is idle or the pool may grow.
    fn submit(
        &mut self,
        items: impl IntoIterator<Item = WorkItem>,
        max_workers: usize,
    ) -> Result<Vec<Wake>, (Vec<WorkItem>, ExecutorError)> {
        if let Some(reason) = &self.broken {
            return Err((items.into_iter().collect(), ExecutorError::Broken { reason: reason.clone(), pool: PoolKind::Threads }));
        }
        if self.shutdown {
            return Err((items.into_iter().collect(), ExecutorError::Shutdown));
        }
        let queued = self.queue.len();
        self.queue.extend(items);
        let count = self.queue.len() - queued;
        let wakes = (0..count).map(|_| self.wake_for_queue(max_workers)).take_while(|wake| !matches!(wake, Wake::Nobody));
        Ok(wakes.collect())
    }

    /// A spinning worker if there is one, else an idle one, else a new worker if the
    /// pool may grow.
    fn wake_for_queue(&mut self, max_workers: usize) -> Wake {
        if let Some(status) = self.workers.iter_mut().find(|s| matches!(s, Status::Spinning)) {
            *status = Status::Waking;
            return Wake::Claimed;
        }
        if let Some(status) = self.workers.iter_mut().find(|s| matches!(s, Status::Idle(_))) {
            let Status::Idle(thread) = std::mem::replace(status, Status::Waking) else { unreachable!() };
            return Wake::Unpark(thread);
        }
        if self.alive() < max_workers {
            self.workers.push(Status::Starting);
            return Wake::Spawn(self.workers.len() - 1);
        }
        Wake::Nobody
    }

    /// Worker `k` is ready for work: the next queued job, a spin (while `may_spin` and
    /// no other worker spins), a park, or exit.
    fn next(&mut self, k: usize, thread: &Thread, may_spin: bool) -> Next {
        if let Some(item) = self.queue.pop_front() {
            self.workers[k] = Status::Busy(item.job.clone());
            Next::Run(item)
        } else if self.shutdown {
            self.workers[k] = Status::Leaving;
            Next::Exit
        } else if may_spin && self.workers.iter().enumerate().all(|(j, s)| j == k || !matches!(s, Status::Spinning)) {
            self.workers[k] = Status::Spinning;
            Next::Spin
        } else {
            self.workers[k] = Status::Idle(thread.clone());
            Next::Park
        }
    }

    /// Worker `k` has finished its job and is about to publish the result: from now on
    /// it counts as idle, so a submit woken by that result reuses it.
    fn finishing(&mut self, k: usize, thread: &Thread) {
        self.workers[k] = Status::Idle(thread.clone());
    }

    /// Stops new jobs; with `cancel_futures`, cancels the queued ones. Returns the
    /// jobs to cancel and the idle workers to wake so they can exit.
    fn shutdown(&mut self, cancel_futures: bool) -> (Vec<WorkItem>, Vec<Thread>) {
        self.shutdown = true;
        let cancelled = if cancel_futures { self.queue.drain(..).collect() } else { Vec::new() };
        let idle = self
            .workers
            .iter_mut()
            .filter(|s| matches!(s, Status::Idle(_)))
            .map(|s| match std::mem::replace(s, Status::Waking) {
                Status::Idle(thread) => thread,
                _ => unreachable!(),
            })
            .collect();
        (cancelled, idle)
    }

    /// Worker `k`'s initializer failed with `message`: as Python's
    /// `_initializer_failed`, the pool is broken, the worker leaves, and every queued job
    /// is handed back to fail. Returns those jobs and the broken reason.
    fn initializer_failed(&mut self, k: usize, message: &str) -> (Vec<WorkItem>, String) {
        let reason = self.broken.get_or_insert_with(|| format!("{INITIALIZER_FAILED}: {message}")).clone();
        self.workers[k] = Status::Leaving;
        (self.queue.drain(..).collect(), reason)
    }

    /// Worker `k`'s thread has ended after leaving its loop: the shutdown waiters to
    /// wake if it was the last, so that `shutdown(wait=True)` returns with no thread of
    /// the pool left, as Python's joins them.
    fn left(&mut self, k: usize) -> Vec<Waker> {
        self.workers[k] = Status::Exited;
        if self.alive() == 0 { std::mem::take(&mut self.exit_waiters) } else { Vec::new() }
    }

    /// Worker `k` is gone without leaving its loop: a trap, a terminated worker, a
    /// failed start.
    fn died(&mut self, k: usize, max_workers: usize) -> Death {
        let status = std::mem::replace(&mut self.workers[k], Status::Exited);
        let failed_to_start = matches!(status, Status::Starting);
        let held = match status {
            Status::Busy(job) => Some(job),
            _ => None,
        };
        let mut death = Death { held, orphans: Vec::new(), wake: Wake::Nobody, waiters: Vec::new() };
        if failed_to_start {
            if self.alive() == 0 {
                death.orphans = self.queue.drain(..).collect();
            }
        } else if !self.queue.is_empty() {
            death.wake = self.wake_for_queue(max_workers);
        }
        if self.alive() == 0 && self.queue.is_empty() {
            death.waiters = std::mem::take(&mut self.exit_waiters);
        }
        death
    }
}

/// What a worker's death leaves to do once the lock is released.
struct Death {
    /// The job it was running: fails with `WorkerDied`.
    held: Option<Arc<dyn JobControl>>,
    /// Queued jobs no worker is left to run: fail with `NoWorker`.
    orphans: Vec<WorkItem>,
    /// A replacement, if work is queued.
    wake: Wake,
    /// Shutdown waiters, if it was the last worker.
    waiters: Vec<Waker>,
}

impl ThreadPoolExecutor {
    /// A pool with Python's defaults; see [`Builder`] for the options.
    pub fn new() -> Result<Self, ExecutorError> {
        Builder::default().build()
    }

    pub fn builder() -> Builder {
        Builder::default()
    }

    /// The name prefix, which names the executor in records: `ThreadPoolExecutor-0`.
    pub fn name(&self) -> &str {
        &self.pool.name
    }

    pub fn max_workers(&self) -> usize {
        self.pool.max_workers
    }

    /// Workers started and not exited.
    pub fn workers_alive(&self) -> usize {
        self.pool.state.lock().alive()
    }

    /// The names of the workers started and not exited.
    pub fn worker_names(&self) -> Vec<String> {
        let state = self.pool.state.lock();
        (0..state.workers.len())
            .filter(|&k| !matches!(state.workers[k], Status::Exited))
            .map(|k| format!("{}_{k}", self.pool.name))
            .collect()
    }

    /// Schedules `job` and returns its future at once; never blocks the caller.
    pub fn submit<T: Send + 'static>(&self, job: impl IntoJob<T>) -> Result<JobFuture<T>, ExecutorError> {
        let (future, item) = new_job(job.into_call(), &self.pool.name);
        self.enqueue(std::iter::once(item))?;
        Ok(future)
    }

    /// Schedules `calls` together: one turn of the lock and one wake-up decision for
    /// all of them, which is what makes `map` cheaper than a submit per item.
    fn submit_chunk<T: Send + 'static>(&self, calls: Vec<Call<T>>) -> Result<Vec<JobFuture<T>>, ExecutorError> {
        let (futures, items): (Vec<_>, Vec<_>) = calls.into_iter().map(|call| new_job(call, &self.pool.name)).unzip();
        self.enqueue(items)?;
        Ok(futures)
    }

    /// Queues `items` and wakes or starts whoever runs them; a refused item is cancelled.
    fn enqueue(&self, items: impl IntoIterator<Item = WorkItem>) -> Result<(), ExecutorError> {
        let wakes = self.pool.state.lock().submit(items, self.pool.max_workers);
        match wakes {
            Ok(wakes) => {
                wakes.into_iter().for_each(|wake| Pool::act(&self.pool, wake));
                Ok(())
            }
            Err((items, error)) => {
                items.iter().for_each(|item| {
                    item.job.cancel();
                });
                Err(error)
            }
        }
    }

    /// `map`'s calls, `chunksize` at a time (see [`Self::submit_chunk`]).
    fn submit_chunks<T: Send + 'static>(
        &self,
        calls: impl Iterator<Item = Call<T>>,
        chunksize: usize,
    ) -> Result<MapResults<T>, ExecutorError> {
        let mut futures = VecDeque::new();
        let mut calls = calls.peekable();
        while calls.peek().is_some() {
            // Python's thread pool takes any chunksize, and has no use for it.
            futures.extend(self.submit_chunk(calls.by_ref().take(chunksize.max(1)).collect())?);
        }
        Ok(MapResults::new(futures))
    }

    /// Python's `executor.map(fn, items)`: submits every call now; results come back
    /// in the order of `items`.
    pub fn map<A, T, F>(&self, f: F, items: impl IntoIterator<Item = A>) -> Result<MapResults<T>, ExecutorError>
    where
        A: fmt::Debug + Send + 'static,
        T: Send + 'static,
        F: Fn(A) -> T + Send + Sync + 'static,
    {
        let f = Arc::new(f);
        let name = crate::executors::job::function_name::<F>();
        let calls: Vec<_> = items
            .into_iter()
            .map(|item| {
                let f = f.clone();
                Call::<T>::labelled(format!("{name}({item:?})"), move || f(item))
            })
            .collect();
        let chunksize = auto_chunksize(calls.len(), self.pool.max_workers);
        self.submit_chunks(calls.into_iter(), chunksize)
    }

    /// Python's `shutdown(wait, cancel_futures)`. Takes effect at once; the returned
    /// future resolves when every worker has exited (at once if `wait` is false).
    pub fn shutdown(&self, wait: bool, cancel_futures: bool) -> impl Future<Output = ()> + 'static {
        self.pool.shut(cancel_futures);
        let pool = self.pool.clone();
        crate::executors::executor::workers_gone(wait, move |waker| pool.state.lock().gone_or_wait(waker))
    }

    /// This executor's job records, in submission order.
    pub fn records(&self) -> Vec<JobRecord> {
        record::records_of(&self.pool.name)
    }
}

impl Executor for ThreadPoolExecutor {
    fn submit<T: Send + DeserializeOwned + 'static>(&self, call: Call<T>) -> Result<JobFuture<T>, ExecutorError> {
        ThreadPoolExecutor::submit(self, call)
    }
    fn map<A, T: Send + DeserializeOwned + 'static>(
        &self,
        f: impl Fn(A) -> Call<T>,
        items: impl IntoIterator<Item = A>,
        chunksize: usize,
    ) -> Result<MapResults<T>, ExecutorError> {
        self.submit_chunks(items.into_iter().map(f), chunksize)
    }
    fn shutdown(&self, wait: bool, cancel_futures: bool) -> impl Future<Output = ()> + 'static {
        ThreadPoolExecutor::shutdown(self, wait, cancel_futures)
    }
    fn name(&self) -> &str {
        ThreadPoolExecutor::name(self)
    }
    fn max_workers(&self) -> usize {
        ThreadPoolExecutor::max_workers(self)
    }
    fn workers(&self) -> Vec<Worker> {
        self.worker_names().into_iter().map(|name| Worker::Thread(name.into())).collect()
    }
    fn records(&self) -> Vec<JobRecord> {
        ThreadPoolExecutor::records(self)
    }
}

impl Pool {
    /// The part of `shutdown` that takes effect at once.
    fn shut(&self, cancel_futures: bool) {
        let (cancelled, idle) = self.state.lock().shutdown(cancel_futures);
        cancelled.iter().for_each(|item| {
            item.job.cancel();
        });
        idle.iter().for_each(Thread::unpark);
    }
}

impl Stop for Pool {
    /// Threads cannot be killed: queued jobs are cancelled, running ones end on their
    /// own, and then the workers exit.
    fn stop(self: Arc<Self>) {
        self.shut(true);
    }
}

impl Drop for ThreadPoolExecutor {
    /// As Python's `shutdown(wait=False)`: queued jobs still run, then workers exit.
    fn drop(&mut self) {
        drop(self.shutdown(false, false));
    }
}

impl Pool {
    fn worker_name(&self, k: usize) -> Arc<str> {
        Arc::from(format!("{}_{k}", self.name))
    }

    fn act(pool: &Arc<Pool>, wake: Wake) {
        match wake {
            Wake::Nobody => {}
            Wake::Claimed => {
                pool.claims.fetch_add(1, Ordering::Release);
            }
            Wake::Unpark(thread) => thread.unpark(),
            Wake::Spawn(k) => Pool::spawn(pool, k),
        }
    }

    fn spawn(pool: &Arc<Pool>, k: usize) {
        let name = pool.worker_name(k);
        let for_worker = pool.clone();
        let for_exit = pool.clone();
        let worker_name = name.clone();
        let started = platform::spawn_worker(
            &name,
            Box::new(move || for_worker.work(k, worker_name)),
            Box::new(move |error| match error {
                Some(reason) => Pool::died(&for_exit, k, reason),
                None => for_exit.state.lock().left(k).into_iter().for_each(Waker::wake),
            }),
        );
        if let Err(reason) = started {
            Pool::died(pool, k, reason);
        }
    }

    /// A worker's life: its initializer, then jobs until shutdown leaves the queue empty.
    fn work(self: Arc<Pool>, k: usize, name: Arc<str>) {
        let _named = log::name_thread(name.clone());
        let worker = Worker::Thread(name.clone());
        let me = std::thread::current();
        if let Some((label, init)) = &self.initializer {
            let failed = match catch_panic(|| init()) {
                Ok(Ok(())) => None,
                Ok(Err(message)) | Err(message) => Some(format!("its initializer {label} failed on {name}: {message}")),
            };
            if let Some(message) = failed {
                let (orphans, reason) = self.state.lock().initializer_failed(k, &message);
                for item in orphans {
                    let job = item.job.label().to_owned();
                    item.job.fail(JobError::NoWorker { job, reason: reason.clone(), pool: PoolKind::Threads });
                }
                return;
            }
        }
        let mut spin_until = None;
        loop {
            let may_spin = spin_until.is_none_or(|until| platform::now_ms() < until);
            let next = self.state.lock().next(k, &me, may_spin);
            if !matches!(next, Next::Spin) {
                spin_until = None;
            }
            match next {
                Next::Run(item) => item.run(&worker, &|| self.state.lock().finishing(k, &me)),
                Next::Spin => {
                    // Off the lock, which the submitter needs: until a submit claims a
                    // spinner (this one, as only one spins) or the time is up.
                    let until = *spin_until.get_or_insert_with(|| platform::now_ms() + SPIN_MS);
                    let claims = self.claims.load(Ordering::Acquire);
                    'watch: while platform::now_ms() < until {
                        for _ in 0..32 {
                            if self.claims.load(Ordering::Acquire) != claims {
                                break 'watch;
                            }
                            std::hint::spin_loop();
                        }
                    }
                }
                Next::Park => std::thread::park(),
                Next::Exit => return,
            }
        }
    }

    /// Worker `k` died: fail what it leaves behind, start a replacement if needed.
    fn died(pool: &Arc<Pool>, k: usize, reason: String) {
        let death = pool.state.lock().died(k, pool.max_workers);
        let worker = Worker::Thread(pool.worker_name(k));
        if let Some(job) = death.held {
            let label = job.label().to_owned();
            job.fail(JobError::WorkerDied { job: label, worker, reason: reason.clone(), pool: PoolKind::Threads });
        }
        for item in death.orphans {
            let label = item.job.label().to_owned();
            let reason = format!("no worker could be started ({reason})");
            item.job.fail(JobError::NoWorker { job: label, reason, pool: PoolKind::Threads });
        }
        Pool::act(pool, death.wake);
        death.waiters.into_iter().for_each(Waker::wake);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Call;

    fn state() -> PoolState {
        PoolState::default()
    }

    fn item() -> WorkItem {
        new_job(Call::labelled("job()", || ()), &Arc::from("test")).1
    }

    /// One job submitted: who is woken for it.
    fn submit(s: &mut PoolState, max_workers: usize) -> Result<Wake, ExecutorError> {
        let wakes = s.submit(vec![item()], max_workers).map_err(|(_, error)| error)?;
        assert!(wakes.len() <= 1, "one job wakes one worker at most");
        Ok(wakes.into_iter().next().unwrap_or(Wake::Nobody))
    }

    fn me() -> Thread {
        std::thread::current()
    }

    #[test]
    fn starts_a_worker_per_submit_only_while_none_is_idle_up_to_max() {
        let mut s = state();
        for k in 0..3 {
            assert!(matches!(submit(&mut s, 3), Ok(Wake::Spawn(n)) if n == k));
        }
        // At max_workers: the job waits in the queue.
        assert!(matches!(submit(&mut s, 3), Ok(Wake::Nobody)));
        assert_eq!(s.queue.len(), 4);
        assert_eq!(s.alive(), 3);
    }

    /// A pool whose one worker ran a job and parked.
    fn one_parked() -> PoolState {
        let mut s = state();
        assert!(matches!(submit(&mut s, 3), Ok(Wake::Spawn(0))));
        assert!(matches!(s.next(0, &me(), false), Next::Run(_)));
        assert!(matches!(s.next(0, &me(), false), Next::Park));
        s
    }

    #[test]
    fn reuses_an_idle_worker_instead_of_starting_one() {
        let mut s = one_parked();
        assert!(matches!(submit(&mut s, 3), Ok(Wake::Unpark(_))));
        // Unparked but not yet at the queue: not idle, so the next submit starts a worker.
        assert!(matches!(submit(&mut s, 3), Ok(Wake::Spawn(1))));
    }

    #[test]
    fn a_chunk_wakes_every_idle_worker_and_starts_more_up_to_max_at_one_go() {
        let mut s = one_parked();
        let wakes = s.submit((0..5).map(|_| item()), 3).ok().unwrap();
        assert!(matches!(wakes[..], [Wake::Unpark(_), Wake::Spawn(1), Wake::Spawn(2)]), "one idle, two new, for five jobs");
        assert_eq!(s.queue.len(), 5);
        let none = s.submit((0..2).map(|_| item()), 3).ok().unwrap();
        assert!(none.is_empty(), "every worker is busy or on its way: the chunk waits its turn");
        let two = s.submit((0..2).map(|_| item()), 5).ok().unwrap();
        assert!(matches!(two[..], [Wake::Spawn(3), Wake::Spawn(4)]), "no more wakes than jobs");
    }

    #[test]
    fn one_worker_out_of_work_spins_and_a_submit_claims_it_with_no_wake_up() {
        let mut s = state();
        for k in 0..3 {
            assert!(matches!(submit(&mut s, 3), Ok(Wake::Spawn(n)) if n == k));
            assert!(matches!(s.next(k, &me(), true), Next::Run(_)));
        }
        assert!(matches!(s.next(0, &me(), true), Next::Spin));
        assert!(matches!(s.next(1, &me(), true), Next::Park), "one spinner at a time");
        assert!(matches!(s.next(0, &me(), true), Next::Spin), "the spinner spins on");
        assert!(matches!(submit(&mut s, 3), Ok(Wake::Claimed)));
        assert!(matches!(submit(&mut s, 3), Ok(Wake::Unpark(_))), "a claimed spinner is not idle: the next job wakes another");
        assert!(matches!(submit(&mut s, 3), Ok(Wake::Nobody)), "worker 2 is busy");
        for _ in 0..3 {
            assert!(matches!(s.next(0, &me(), true), Next::Run(_)));
        }
        assert!(matches!(s.next(0, &me(), false), Next::Park), "its time up, a worker out of work parks");
        s.shutdown(false);
        assert!(matches!(s.next(2, &me(), true), Next::Exit), "after shutdown, no spin");
    }

    #[test]
    fn after_shutdown_workers_drain_the_queue_then_exit() {
        let mut s = state();
        submit(&mut s, 1).ok();
        submit(&mut s, 1).ok();
        let (cancelled, _) = s.shutdown(false);
        assert!(cancelled.is_empty());
        assert!(submit(&mut s, 1).is_err());
        assert!(matches!(s.next(0, &me(), false), Next::Run(_)));
        assert!(matches!(s.next(0, &me(), false), Next::Run(_)));
        assert!(matches!(s.next(0, &me(), false), Next::Exit));
        assert_eq!(s.alive(), 1, "alive until its thread has ended");
        let waiter = Waker::noop().clone();
        assert!(!s.gone_or_wait(&waiter));
        assert_eq!(s.left(0).len(), 1, "the thread's end wakes shutdown(wait)");
        assert_eq!(s.alive(), 0);
    }

    #[test]
    fn shutdown_with_cancel_futures_takes_the_queue() {
        let mut s = state();
        submit(&mut s, 1).ok();
        submit(&mut s, 1).ok();
        let (cancelled, _) = s.shutdown(true);
        assert_eq!(cancelled.len(), 2);
        assert!(matches!(s.next(0, &me(), false), Next::Exit));
    }

    #[test]
    fn a_worker_that_dies_busy_gives_back_its_job_and_is_replaced_if_work_is_queued() {
        let mut s = state();
        submit(&mut s, 1).ok();
        submit(&mut s, 1).ok();
        assert!(matches!(s.next(0, &me(), false), Next::Run(_)));
        let death = s.died(0, 1);
        assert!(death.held.is_some());
        assert!(matches!(death.wake, Wake::Spawn(1)));
        assert!(death.orphans.is_empty());
    }

    #[test]
    fn a_worker_that_fails_to_start_is_not_replaced_and_its_queue_fails_when_none_is_left() {
        let mut s = state();
        submit(&mut s, 2).ok();
        submit(&mut s, 2).ok();
        let first = s.died(0, 2);
        assert!(first.orphans.is_empty(), "worker 1 may still start");
        assert!(matches!(first.wake, Wake::Nobody));
        let last = s.died(1, 2);
        assert_eq!(last.orphans.len(), 2);
        assert_eq!(s.alive(), 0);
    }
}
