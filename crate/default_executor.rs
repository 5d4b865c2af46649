//! The loop's default executor: what `run_in_executor(None, …)` and `to_thread` use.
//! It is rayon's global pool (in the browser, the one wasm-bindgen-rayon starts), so
//! jobs share their workers with rayon's parallel iterators. Workers are named as
//! asyncio names its default pool's threads: `asyncio_0`, `asyncio_1`, ...

use std::sync::{Arc, LazyLock};

use crate::job::{IntoJob, JobError, JobFuture, new_job};
use crate::log;
use crate::thread_pool::{ExecutorError, ThreadPoolExecutor};

/// The default executor's name in records.
pub const DEFAULT_EXECUTOR: &str = "asyncio";

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

/// Submits `job` to the default executor.
pub fn submit_default<T: Send + 'static>(job: impl IntoJob<T>) -> JobFuture<T> {
    let (future, item) = new_job(job.into_call(), &NAME);
    rayon::spawn(move || WORKER_NAME.with(|name| item.run(name, &|| ())));
    future
}

/// Python's `loop.run_in_executor(executor, fn)`: `None` is the default executor. The
/// job is submitted now, whether or not the future is ever awaited.
pub fn run_in_executor<T: Send + 'static>(
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
pub async fn to_thread<T: Send + 'static>(job: impl IntoJob<T>) -> Result<T, JobError> {
    submit_default(job).await
}
