//! What both pools offer, for code that takes either: Python's executor interface.

use std::future::Future;
use std::task::{Poll, Waker};

use serde::de::DeserializeOwned;

use crate::job::{Call, JobFuture};
use crate::record::JobRecord;
use crate::thread_pool::ExecutorError;
use crate::{ProcessPoolExecutor, ThreadPoolExecutor};

/// `concurrent.futures.Executor`. `loop.run_in_executor(executor, blocks, i)` is
/// `executor.submit(job!(blocks(i)))`: a future the main loop awaits.
pub trait Executor {
    fn submit<T: Send + DeserializeOwned + 'static>(&self, call: Call<T>) -> Result<JobFuture<T>, ExecutorError>;
    fn name(&self) -> &str;
    fn records(&self) -> Vec<JobRecord>;
    fn workers_alive(&self) -> usize;
    fn shutdown(&self, wait: bool, cancel_futures: bool) -> impl Future<Output = ()> + 'static;
}

impl Executor for ThreadPoolExecutor {
    fn submit<T: Send + DeserializeOwned + 'static>(&self, call: Call<T>) -> Result<JobFuture<T>, ExecutorError> {
        ThreadPoolExecutor::submit(self, call)
    }
    fn name(&self) -> &str {
        ThreadPoolExecutor::name(self)
    }
    fn records(&self) -> Vec<JobRecord> {
        ThreadPoolExecutor::records(self)
    }
    fn workers_alive(&self) -> usize {
        ThreadPoolExecutor::workers_alive(self)
    }
    fn shutdown(&self, wait: bool, cancel_futures: bool) -> impl Future<Output = ()> + 'static {
        ThreadPoolExecutor::shutdown(self, wait, cancel_futures)
    }
}

impl Executor for ProcessPoolExecutor {
    fn submit<T: Send + DeserializeOwned + 'static>(&self, call: Call<T>) -> Result<JobFuture<T>, ExecutorError> {
        ProcessPoolExecutor::submit(self, call)
    }
    fn name(&self) -> &str {
        ProcessPoolExecutor::name(self)
    }
    fn records(&self) -> Vec<JobRecord> {
        ProcessPoolExecutor::records(self)
    }
    fn workers_alive(&self) -> usize {
        ProcessPoolExecutor::workers_alive(self)
    }
    fn shutdown(&self, wait: bool, cancel_futures: bool) -> impl Future<Output = ()> + 'static {
        ProcessPoolExecutor::shutdown(self, wait, cancel_futures)
    }
}

/// The future both pools' `shutdown` returns: ready at once unless `wait`, else once
/// `gone(waker)` reports no worker left (keeping `waker` to be woken when the last goes).
pub(crate) fn workers_gone(wait: bool, mut gone: impl FnMut(&Waker) -> bool + 'static) -> impl Future<Output = ()> + 'static {
    std::future::poll_fn(move |cx| if !wait || gone(cx.waker()) { Poll::Ready(()) } else { Poll::Pending })
}
