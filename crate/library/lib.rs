//! Python's `asyncio` executor model for the browser: a main-thread async loop hands
//! blocking and CPU-bound jobs to a pool of Web Workers, and every job leaves a record
//! of which worker ran it and when.
//!
//! - `executors`: the job, the two pools, the default executor, `wait`/`as_completed`/
//!   `gather`, and the one [`Executor`] interface.
//! - `process`: what crosses to a process worker (its messages, the registry of jobs
//!   by name) and the worker's inside.
//! - `runtime`: locks, clocks and timers, oneshots, run scopes.
//! - `observe`: job records, the log, the trace.
//! - `platform`: what differs between the host and the browser.
//! - `bindings`: the JavaScript API (wasm only).
//!
//! All but `platform` and `bindings` is plain Rust that runs and is tested on the host.

// Workers sleep on contended locks with `memory.atomic.wait32` (see `runtime::sync`).
#![cfg_attr(all(target_arch = "wasm32", target_feature = "atomics"), feature(stdarch_wasm_atomic_wait))]

pub mod executors;
pub mod observe;
pub mod platform;
pub mod process;
pub mod runtime;

#[cfg(target_arch = "wasm32")]
pub mod bindings;

/// The wasm build's heap is counted (`runtime::heap::in_use`); a library leaves the
/// host's allocator to the program.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: runtime::heap::Counted = runtime::heap::Counted;

pub use executors::any::AnyExecutor;
pub use executors::combinators::{
    AsCompleted, MapResults, ReturnWhen, WaitError, Waited, as_completed, gather, gather_return_exceptions, wait,
};
pub use executors::default_executor::{run_in_executor, to_thread};
pub use executors::error::ExecutorError;
pub use executors::executor::Executor;
pub use executors::job::{Call, IntoJob, JobError, JobFuture, PythonException, run_here};
pub use executors::process_pool::{ProcessBuilder, ProcessPoolExecutor};
pub use executors::thread_pool::{Builder, ThreadPoolExecutor};
pub use observe::record::{JobRecord, JobState};
pub use process::registry::Registry;

/// Runs a future to completion on the calling thread (host only: tests, benchmarks).
#[cfg(not(target_arch = "wasm32"))]
pub use platform::block_on;

/// The names of this library's live Web Workers (the default executor's among them).
#[cfg(target_arch = "wasm32")]
pub use platform::live_workers;
