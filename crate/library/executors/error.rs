//! The errors of executor calls that both pools share, with Python's wording.

use std::fmt;

use crate::executors::job::{PoolKind, PythonException};

/// Errors of executor calls, with Python's wording where Python has one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExecutorError {
    /// `max_workers` was 0.
    NoWorkers,
    /// `max_workers` was above [`MAX_WORKERS`].
    TooManyWorkers(u64),
    /// `max_tasks_per_child` was 0.
    NoTasksPerChild,
    /// `map`'s `chunksize` was 0.
    NoChunkSize,
    /// `submit` after `shutdown`.
    Shutdown,
    /// Threads need a cross-origin isolated page; the reason names what is missing.
    ThreadsUnavailable(String),
    /// The pool cannot run jobs any more (Python's `BrokenThreadPool` and
    /// `BrokenProcessPool`): a worker's initializer failed.
    Broken { reason: String, pool: PoolKind },
}

impl PythonException for ExecutorError {
    /// `ValueError` for a bad argument, `RuntimeError` after shutdown,
    /// `BrokenThreadPool` or `BrokenProcessPool`.
    fn python_name(&self) -> &'static str {
        match self {
            ExecutorError::NoWorkers | ExecutorError::TooManyWorkers(_) | ExecutorError::NoTasksPerChild | ExecutorError::NoChunkSize => {
                "ValueError"
            }
            ExecutorError::Shutdown | ExecutorError::ThreadsUnavailable(_) => "RuntimeError",
            ExecutorError::Broken { pool, .. } => pool.broken_name(),
        }
    }
}

impl fmt::Display for ExecutorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExecutorError::NoWorkers => f.write_str("max_workers must be greater than 0"),
            ExecutorError::TooManyWorkers(n) => {
                write!(f, "max_workers must be at most {MAX_WORKERS} (got {n}): each worker is a Web Worker")
            }
            ExecutorError::NoTasksPerChild => f.write_str("max_tasks_per_child must be >= 1"),
            ExecutorError::NoChunkSize => f.write_str("chunksize must be >= 1"),
            ExecutorError::Shutdown => f.write_str("cannot schedule new futures after shutdown"),
            ExecutorError::ThreadsUnavailable(why) => {
                write!(f, "ThreadPoolExecutor needs wasm threads, which this page lacks: {why}")
            }
            ExecutorError::Broken { reason, .. } => f.write_str(reason),
        }
    }
}

impl std::error::Error for ExecutorError {}

/// The most workers one pool may have. Python sets no limit, but every worker here is
/// a Web Worker with its own JS engine; browsers slow to a crawl or refuse long before
/// thousands of them.
pub const MAX_WORKERS: usize = 256;

/// `max_workers` within 1..=[`MAX_WORKERS`], for both pools.
pub(crate) fn check_max_workers(n: usize) -> Result<usize, ExecutorError> {
    match n {
        0 => Err(ExecutorError::NoWorkers),
        n if n > MAX_WORKERS => Err(ExecutorError::TooManyWorkers(n as u64)),
        n => Ok(n),
    }
}
