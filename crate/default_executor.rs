//! The loop's default executor: what `run_in_executor(None, …)` and `to_thread` use.
//! With threads it is rayon's global pool (in the browser, the one wasm-bindgen-rayon
//! starts), so jobs share their workers with rayon's parallel iterators; its workers
//! are named as asyncio names its default pool's threads: `asyncio_0`, `asyncio_1`, ...
//! On a page without threads (not cross-origin isolated) it is a process pool, and
//! only registered jobs can run on it.

use std::sync::{Arc, Once};

use serde::de::DeserializeOwned;

use crate::job::{IntoJob, JobError, JobFuture};
use crate::platform;
use crate::scope::{self, PerRun};
use crate::process_pool::ProcessPoolExecutor;
use crate::thread_pool::{ExecutorError, ThreadPoolExecutor};

/// The default executor's name in records.
pub const DEFAULT_EXECUTOR: &str = "asyncio";

/// The default executor where there are threads: rayon's global pool. The plain build
/// (no shared memory) has no threads to run it on, so it leaves rayon out.
#[cfg(any(not(target_arch = "wasm32"), target_feature = "atomics"))]
mod rayon_pool {
    use std::sync::{Arc, LazyLock};

    use super::DEFAULT_EXECUTOR;
    use crate::job::{Call, JobFuture, new_job};
    use crate::log;

    static NAME: LazyLock<Arc<str>> = LazyLock::new(|| Arc::from(DEFAULT_EXECUTOR));

    thread_local! {
        static WORKER_NAME: Arc<str> = {
            let name: Arc<str> = Arc::from(format!(
                "{DEFAULT_EXECUTOR}_{}",
                rayon::current_thread_index().unwrap_or(0)
            ));
            log::set_thread_name(name.clone());
            name
        };
    }

    pub(super) fn submit<T: Send + 'static>(call: Call<T>) -> JobFuture<T> {
        let (future, item) = new_job(call, &NAME);
        rayon::spawn(move || WORKER_NAME.with(|name| item.run(name, &|| ())));
        future
    }
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
/// the default executor is rayon's pool, which the whole page shares and keeps.)
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
        return rayon_pool::submit(call);
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
