//! What both pools offer, for code that takes either: Python's executor interface.

use std::future::Future;
use std::task::{Poll, Waker};

use serde::de::DeserializeOwned;

use crate::executors::combinators::MapResults;
use crate::executors::error::ExecutorError;
use crate::executors::job::{Call, JobFuture};
use crate::observe::record::{JobRecord, Worker};

/// `concurrent.futures.Executor`. `loop.run_in_executor(executor, blocks, i)` is
/// `executor.submit(job!(blocks(i)))`: a future the main loop awaits.
pub trait Executor {
    /// Schedules `call` and returns its future at once.
    fn submit<T: Send + DeserializeOwned + 'static>(&self, call: Call<T>) -> Result<JobFuture<T>, ExecutorError>;

    /// Python's `executor.map(fn, items, chunksize)`: `f` makes each item's call;
    /// results come back in the order of `items`. A process pool sends `chunksize`
    /// calls to a worker in one message; threads share memory and take items one by
    /// one (Python's thread pool ignores `chunksize` too).
    fn map<A, T: Send + DeserializeOwned + 'static>(
        &self,
        f: impl Fn(A) -> Call<T>,
        items: impl IntoIterator<Item = A>,
        chunksize: usize,
    ) -> Result<MapResults<T>, ExecutorError>;

    /// Python's `shutdown(wait, cancel_futures)`: takes effect at once; the future
    /// resolves when every worker is gone (at once if `wait` is false).
    fn shutdown(&self, wait: bool, cancel_futures: bool) -> impl Future<Output = ()> + 'static;

    /// The name records show: `ThreadPoolExecutor-0`, `ProcessPoolExecutor-1`.
    fn name(&self) -> &str;

    fn max_workers(&self) -> usize;

    /// The workers started and not yet gone.
    fn workers(&self) -> Vec<Worker>;

    /// This executor's job records, in submission order.
    fn records(&self) -> Vec<JobRecord>;
}

/// The future both pools' `shutdown` returns: ready at once unless `wait`, else once
/// `gone(waker)` reports no worker left (keeping `waker` to be woken when the last goes).
pub(crate) fn workers_gone(wait: bool, mut gone: impl FnMut(&Waker) -> bool + 'static) -> impl Future<Output = ()> + 'static {
    std::future::poll_fn(move |cx| if !wait || gone(cx.waker()) { Poll::Ready(()) } else { Poll::Pending })
}
