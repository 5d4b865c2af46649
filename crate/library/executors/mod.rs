//! The executor model: a job and its future, the thread pool and the process pool, the
//! default executor, the combinators, and the interface both pools share.

pub mod any;
pub mod combinators;
pub mod default_executor;
pub mod error;
pub mod executor;
pub mod job;
pub mod process_pool;
pub mod thread_pool;
