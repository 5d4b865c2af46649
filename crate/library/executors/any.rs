//! `AnyExecutor`: either pool, behind the one [`Executor`] interface.

use std::future::Future;

use serde::de::DeserializeOwned;

use crate::executors::combinators::MapResults;
use crate::executors::error::ExecutorError;
use crate::executors::executor::Executor;
use crate::executors::job::{Call, JobFuture};
use crate::executors::process_pool::ProcessPoolExecutor;
use crate::executors::thread_pool::ThreadPoolExecutor;
use crate::observe::record::{JobRecord, Worker};

/// Either pool, for code that picks one at run time (a page's "threads or processes").
pub enum AnyExecutor {
    Threads(ThreadPoolExecutor),
    Processes(ProcessPoolExecutor),
}

/// Calls `$method` on whichever pool `$any` holds.
macro_rules! either {
    ($any:expr, $e:ident => $call:expr) => {
        match $any {
            AnyExecutor::Threads($e) => $call,
            AnyExecutor::Processes($e) => $call,
        }
    };
}

impl Executor for AnyExecutor {
    fn submit<T: Send + DeserializeOwned + 'static>(&self, call: Call<T>) -> Result<JobFuture<T>, ExecutorError> {
        either!(self, e => e.submit(call))
    }
    fn map<A, T: Send + DeserializeOwned + 'static>(
        &self,
        f: impl Fn(A) -> Call<T>,
        items: impl IntoIterator<Item = A>,
        chunksize: usize,
    ) -> Result<MapResults<T>, ExecutorError> {
        either!(self, e => Executor::map(e, f, items, chunksize))
    }
    fn shutdown(&self, wait: bool, cancel_futures: bool) -> impl Future<Output = ()> + 'static {
        // Two future types: box them to one.
        let done: std::pin::Pin<Box<dyn Future<Output = ()>>> = either!(self, e => Box::pin(e.shutdown(wait, cancel_futures)));
        done
    }
    fn name(&self) -> &str {
        either!(self, e => e.name())
    }
    fn max_workers(&self) -> usize {
        either!(self, e => e.max_workers())
    }
    fn workers(&self) -> Vec<Worker> {
        either!(self, e => Executor::workers(e))
    }
    fn records(&self) -> Vec<JobRecord> {
        either!(self, e => e.records())
    }
}

impl From<ThreadPoolExecutor> for AnyExecutor {
    fn from(pool: ThreadPoolExecutor) -> AnyExecutor {
        AnyExecutor::Threads(pool)
    }
}

impl From<ProcessPoolExecutor> for AnyExecutor {
    fn from(pool: ProcessPoolExecutor) -> AnyExecutor {
        AnyExecutor::Processes(pool)
    }
}
