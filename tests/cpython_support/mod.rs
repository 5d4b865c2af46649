//! What the ports of CPython's executor tests share (tests/cpython_futures.rs and
//! tests/cpython_asyncio.rs): the pools behind one trait, so a test written once runs
//! on threads and on processes; stand-ins for CPython's ready-made futures; a gate for
//! thread jobs (Python's events and semaphores); and waits with a limit, so a hang
//! fails a test instead of stalling the run.
#![allow(dead_code)]

use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::task::Poll;
use std::time::{Duration, Instant};

use serde_json::Value;
use web_executors::executors::job::call_label;
use web_executors::process::registry;
use web_executors::{Call, Executor, ExecutorError, JobFuture, MapResults, ProcessPoolExecutor, ThreadPoolExecutor, block_on, job};
use web_executors_showcase::jobs::blocks_for;

/// An `n` whose square does not fit the `u64` that `blocks` returns: the job fails
/// (CPython's tests divide by zero for this).
pub const TOO_BIG: u64 = 1 << 32;

/// How long the "running" stand-in holds its worker: far longer than any check made
/// while it runs.
pub const HOLD_MS: u64 = 1_500;

/// One of the two pools, as the tests need it.
pub trait Pool: Executor + Sized {
    const KIND: &'static str;
    /// The name of the error of a broken pool of this kind.
    const BROKEN: &'static str;
    fn try_with_workers(n: usize) -> Result<Self, ExecutorError>;
    fn with_workers(n: usize) -> Self {
        Self::try_with_workers(n).unwrap()
    }
    /// A pool whose workers each run the registered job `name(args)` as they start
    /// (Python's `initializer` and `initargs`).
    fn with_initializer(n: usize, name: &'static str, args: Vec<Value>) -> Self;
    /// `map` of `blocks_for(n, ms)` over `(n, ms)` pairs. Threads run a closure and
    /// have no chunks; processes send `job!(blocks_for(n, ms))` in chunks.
    fn map_blocks_for(&self, items: Vec<(u64, u64)>, chunksize: usize) -> MapResults<u64>;
    /// The host threads that are this pool's live workers (a process worker on the
    /// host is a thread named after its pid).
    fn worker_threads(&self) -> Vec<String>;
}

/// Numbers the thread pools these tests make, so that each names its threads apart
/// (the kernel keeps only 15 bytes of a thread's name).
static THREAD_POOLS: AtomicUsize = AtomicUsize::new(0);

impl Pool for ThreadPoolExecutor {
    const KIND: &'static str = "threads";
    const BROKEN: &'static str = "BrokenThreadPool";
    fn try_with_workers(n: usize) -> Result<Self, ExecutorError> {
        web_executors_showcase::jobs::install();
        let prefix = format!("tp{}", THREAD_POOLS.fetch_add(1, Ordering::Relaxed));
        ThreadPoolExecutor::builder().max_workers(n).thread_name_prefix(prefix).build()
    }
    fn with_initializer(n: usize, name: &'static str, args: Vec<Value>) -> Self {
        web_executors_showcase::jobs::install();
        let label = call_label(name, &args);
        let init = move || registry::installed().run(name, args.clone()).map(drop);
        ThreadPoolExecutor::builder().max_workers(n).initializer(label, init).build().unwrap()
    }
    fn map_blocks_for(&self, items: Vec<(u64, u64)>, _chunksize: usize) -> MapResults<u64> {
        self.map(|(n, ms)| blocks_for(n, ms), items).unwrap()
    }
    fn worker_threads(&self) -> Vec<String> {
        self.worker_names()
    }
}

impl Pool for ProcessPoolExecutor {
    const KIND: &'static str = "processes";
    const BROKEN: &'static str = "BrokenProcessPool";
    fn try_with_workers(n: usize) -> Result<Self, ExecutorError> {
        web_executors_showcase::jobs::install();
        ProcessPoolExecutor::builder().max_workers(n).build()
    }
    fn with_initializer(n: usize, name: &'static str, args: Vec<Value>) -> Self {
        web_executors_showcase::jobs::install();
        ProcessPoolExecutor::builder().max_workers(n).initializer(name, args).build().unwrap()
    }
    fn map_blocks_for(&self, items: Vec<(u64, u64)>, chunksize: usize) -> MapResults<u64> {
        self.map(|(n, ms)| job!(blocks_for(n, ms)), items, chunksize).unwrap()
    }
    fn worker_threads(&self) -> Vec<String> {
        self.worker_pids().iter().map(|pid| format!("process-{pid}")).collect()
    }
}

/// Makes, for each generic test named, a module of the same name with the test on
/// each pool: `wait_all_completed::threads` and `wait_all_completed::processes`.
macro_rules! on_both_pools {
    ($($test:ident),* $(,)?) => {$(
        mod $test {
            #[test]
            fn threads() {
                super::$test::<web_executors::ThreadPoolExecutor>()
            }
            #[test]
            fn processes() {
                super::$test::<web_executors::ProcessPoolExecutor>()
            }
        }
    )*};
}

/// A registered job that panics with `message`, typed as the `blocks` jobs are so that
/// it can sit among them: the `panics` job by name on processes, the same panic here
/// on threads.
pub fn fails(message: &'static str) -> Call<u64> {
    Call::registered("panics", vec![Value::from(message)], move || -> u64 { panic!("{message}") })
}

/// CPython's ready-made futures (util.py), as jobs of a one-worker pool of the kind
/// under test: one finished with 36, one failed, one running (for [`HOLD_MS`]), one
/// cancelled while queued, and one queued behind the running one.
pub struct Fixtures<P> {
    pub pool: P,
    pub succeeded: JobFuture<u64>,
    pub failed: JobFuture<u64>,
    pub running: JobFuture<u64>,
    pub cancelled: JobFuture<u64>,
    pub pending: JobFuture<u64>,
}

pub const FIXTURE_ERROR: &str = "the failed fixture";

pub fn fixtures<P: Pool>() -> Fixtures<P> {
    let pool = P::with_workers(1);
    let succeeded = pool.submit(job!(blocks_for(6, 0))).unwrap();
    let failed = pool.submit(fails(FIXTURE_ERROR)).unwrap();
    block_on(failed.settled());
    block_on(succeeded.settled());
    let running = pool.submit(job!(blocks_for(1, HOLD_MS))).unwrap();
    block_on(running.started());
    let cancelled = pool.submit(job!(blocks_for(2, 0))).unwrap();
    assert!(cancelled.cancel(), "a job queued behind a running one can be cancelled");
    let pending = pool.submit(job!(blocks_for(3, 0))).unwrap();
    assert!(succeeded.result() == Some(Ok(36)) && failed.failed() && running.running() && !pending.done());
    Fixtures { pool, succeeded, failed, running, cancelled, pending }
}

/// Python's `threading.Event` for thread jobs: jobs wait until the test opens it.
#[derive(Clone, Default)]
pub struct Gate(Arc<(Mutex<bool>, Condvar)>);

impl Gate {
    pub fn wait(&self) {
        let (open, changed) = &*self.0;
        let mut open = open.lock().unwrap();
        while !*open {
            open = changed.wait(open).unwrap();
        }
    }

    pub fn open(&self) {
        let (open, changed) = &*self.0;
        *open.lock().unwrap() = true;
        changed.notify_all();
    }

    /// Submits one job per value to `executor`; each waits at this gate, then returns
    /// its value: the stand-in for CPython's tests that block workers on an event.
    pub fn held_jobs(&self, executor: &ThreadPoolExecutor, values: std::ops::Range<u64>) -> Vec<JobFuture<u64>> {
        values
            .map(|i| {
                let gate = self.clone();
                executor
                    .submit(move || {
                        gate.wait();
                        i
                    })
                    .unwrap()
            })
            .collect()
    }
}

/// Runs `future` on this thread for at most `limit`: its output, or `None` if it was
/// still pending (a hang).
pub fn within<F: Future>(limit: Duration, future: F) -> Option<F::Output> {
    let mut timer = web_executors::runtime::time::sleep(limit);
    let mut future = pin!(future);
    block_on(poll_fn(|cx| {
        if let Poll::Ready(output) = future.as_mut().poll(cx) {
            return Poll::Ready(Some(output));
        }
        match Pin::new(&mut timer).poll(cx) {
            Poll::Ready(()) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }))
}

/// Generous: what must happen at all, not how fast.
pub const LIMIT: Duration = Duration::from_secs(30);

/// Polls `condition` until it holds; panics with `what` if it does not within [`LIMIT`].
pub fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let start = Instant::now();
    while !condition() {
        assert!(start.elapsed() < LIMIT, "never happened: {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The ids of some jobs, sorted: Python's sets of futures, compared.
pub fn ids<'a, T: Send + 'static>(futures: impl IntoIterator<Item = &'a JobFuture<T>>) -> Vec<u64> {
    let mut ids: Vec<u64> = futures.into_iter().map(JobFuture::id).collect();
    ids.sort_unstable();
    ids
}

/// The names of this process's live threads (Linux: `/proc/self/task/*/comm`, cut
/// to 15 bytes as the kernel keeps them).
#[cfg(target_os = "linux")]
pub fn live_thread_names() -> Vec<String> {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
        .map(|name| name.trim_end().to_owned())
        .collect()
}

/// Waits until none of `threads` is alive (names cut as the kernel cuts them).
#[cfg(target_os = "linux")]
pub fn wait_for_threads_to_exit(threads: &[String]) {
    let cut: Vec<String> = threads.iter().map(|t| t.chars().take(15).collect()).collect();
    wait_until(&format!("the workers {threads:?} exit"), || {
        let live = live_thread_names();
        !cut.iter().any(|t| live.contains(t))
    });
}

#[cfg(not(target_os = "linux"))]
pub fn wait_for_threads_to_exit(_threads: &[String]) {}

/// Polls every future on this thread until all are ready; their outputs in order
/// (asyncio's `gather` of coroutines, for futures that are not jobs).
pub fn join_all<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut futures: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    block_on(poll_fn(|cx| {
        for (future, output) in futures.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none()
                && let Poll::Ready(value) = future.as_mut().poll(cx)
            {
                *output = Some(value);
            }
        }
        if outputs.iter().all(Option::is_some) { Poll::Ready(()) } else { Poll::Pending }
    }));
    outputs.into_iter().map(Option::unwrap).collect()
}

/// The ids of `wait`'s two sets.
pub fn sets<T: Send + 'static>(waited: &web_executors::Waited<'_, T>) -> (Vec<u64>, Vec<u64>) {
    (ids(waited.done.iter().copied()), ids(waited.not_done.iter().copied()))
}

/// The message of a job's panic, or a failure that says what the error was instead.
pub fn panic_message(error: &web_executors::JobError) -> &str {
    match error {
        web_executors::JobError::Panicked { message, .. } => message,
        other => panic!("expected a panic, got {other:?}"),
    }
}
