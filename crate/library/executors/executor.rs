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
/// The chunk size of a `map` whose caller names none (Python's default is 1): at least
/// 32 chunks per worker, so that a worker done early finds chunks left to take and a
/// short map goes item by item, and at most 256 items to a message, so that results
/// come back as chunks end.
pub fn auto_chunksize(items: usize, workers: usize) -> usize {
    (items / (32 * workers.max(1))).clamp(1, 256)
}

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

#[cfg(test)]
mod tests {
    use super::auto_chunksize;

    #[test]
    fn map_picks_at_least_32_chunks_a_worker_and_at_most_256_items_a_chunk() {
        assert_eq!(auto_chunksize(0, 2), 1);
        assert_eq!(auto_chunksize(60, 1), 1, "a short map goes item by item");
        assert_eq!(auto_chunksize(6_400, 2), 100);
        assert_eq!(auto_chunksize(100_000, 2), 256);
        assert_eq!(auto_chunksize(320, 0), 10, "no workers reads as one");
    }
}
