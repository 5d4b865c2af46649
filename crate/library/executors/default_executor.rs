//! The loop's default executor: what `run_in_executor(None, …)` and `to_thread` use.
//! With threads it is what Python's is, a `ThreadPoolExecutor` whose workers are named
//! `asyncio_0`, `asyncio_1`, ..., made on first use and kept for the page. (Its workers
//! are this library's own Web Workers, started from its own script: a page whose
//! Content-Security-Policy allows the library allows them.) On a page without threads
//! (not cross-origin isolated) it is a process pool, and only registered jobs can run
//! on it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Once};

use serde::de::DeserializeOwned;

use crate::executors::error::ExecutorError;
use crate::executors::job::{IntoJob, JobError, JobFuture};
use crate::executors::process_pool::ProcessPoolExecutor;
use crate::executors::thread_pool::ThreadPoolExecutor;
use crate::platform;
use crate::runtime::scope::{self, PerRun};

/// The default executor's name in records, and its threads' name prefix.
pub const DEFAULT_EXECUTOR: &str = "asyncio";

/// How many workers the default thread pool has at most; 0: one per core.
static WORKERS: AtomicUsize = AtomicUsize::new(0);

/// Sets how many workers the default executor's thread pool has at most (`load({
/// workers })`; one per core unless set). Only before its first job.
#[cfg_attr(all(target_arch = "wasm32", target_feature = "atomics"), wasm_bindgen::prelude::wasm_bindgen(js_name = setDefaultWorkers))]
pub fn set_default_workers(workers: usize) {
    WORKERS.store(workers, Ordering::Relaxed);
}

/// The default executor where there are threads: one thread pool for the page, made on
/// its first job. The plain build (no shared memory) has none.
#[cfg(any(not(target_arch = "wasm32"), target_feature = "atomics"))]
fn threads() -> &'static ThreadPoolExecutor {
    static POOL: std::sync::LazyLock<ThreadPoolExecutor> = std::sync::LazyLock::new(|| {
        let workers = match WORKERS.load(Ordering::Relaxed) {
            0 => platform::cpu_count(),
            n => n,
        };
        ThreadPoolExecutor::builder()
            .max_workers(workers)
            .thread_name_prefix(DEFAULT_EXECUTOR)
            .build()
            .expect("threads are available and 1 <= workers")
    });
    &POOL
}

/// The default executor where threads are unavailable: processes, one per core. Like
/// each asyncio loop's, each run has its own, made on first use.
static PROCESSES: PerRun<Arc<ProcessPoolExecutor>> = PerRun::new();

static NOTED: Once = Once::new();

fn processes() -> Arc<ProcessPoolExecutor> {
    PROCESSES.get_or_make(|| {
        NOTED.call_once(|| {
            platform::console_note(&format!(
                "web-executors: the default executor runs jobs on process workers, because {}",
                platform::threads_available().err().unwrap_or_default()
            ))
        });
        Arc::new(ProcessPoolExecutor::builder().name(DEFAULT_EXECUTOR).build().expect("cores > 0"))
    })
}

/// Python's `loop.shutdown_default_executor()`, which `asyncio.run` calls at the end:
/// the current run's default process workers finish their jobs and go. (With threads
/// the default executor is one thread pool, which the whole page shares and keeps.)
pub async fn shutdown_default_executor() {
    if let Some(executor) = PROCESSES.take(scope::current()) {
        executor.shutdown(true, false).await;
    }
}

/// Submits `job` to the default executor.
pub fn submit_default<T: Send + DeserializeOwned + 'static>(job: impl IntoJob<T>) -> JobFuture<T> {
    let call = job.into_call();
    #[cfg(any(not(target_arch = "wasm32"), target_feature = "atomics"))]
    if platform::threads_available().is_ok() {
        return threads().submit(call).expect("the default executor is never shut down");
    }
    processes().submit(call).expect("a run's default executor is shut down only as it ends")
}

/// Python's `loop.run_in_executor(executor, fn)`: `None` is the default executor. The
/// job is submitted now, whether or not the future is ever awaited.
pub fn run_in_executor<T: Send + DeserializeOwned + 'static>(
    executor: Option<&ThreadPoolExecutor>,
    job: impl IntoJob<T>,
) -> Result<JobFuture<T>, ExecutorError> {
    match executor {
        Some(executor) => executor.submit(job),
        None => Ok(submit_default(job)),
    }
}

/// Python's `asyncio.to_thread(fn)`: like a coroutine, it submits `job` to the default
/// executor when first polled, not when called.
pub async fn to_thread<T: Send + DeserializeOwned + 'static>(job: impl IntoJob<T>) -> Result<T, JobError> {
    submit_default(job).await
}
