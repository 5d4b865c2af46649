//! Python's `asyncio` executor model for the browser: a main-thread async loop hands
//! blocking and CPU-bound jobs to a pool of Web Workers, and every job leaves a record
//! of which worker ran it and when.
//!
//! The scheduling model (job states, the queue, `wait`/`as_completed`/`gather`, records,
//! the log, the scenario programs) is plain Rust that runs and is tested on the host too; `platform` holds what
//! differs in the browser, and `js_api` the JavaScript exports.

// Workers sleep on contended locks with `memory.atomic.wait32` (see `sync`).
#![cfg_attr(all(target_arch = "wasm32", target_feature = "atomics"), feature(stdarch_wasm_atomic_wait))]

pub mod budget;
pub mod combinators;
pub mod default_executor;
pub mod executor;
pub mod job;
pub mod jobs;
pub mod log;
mod oneshot;
pub(crate) mod platform;
pub mod process_pool;
pub mod process_worker;
pub mod record;
pub mod registry;
pub mod runs;
pub mod scenarios;
pub mod scope;
mod sync;
pub mod thread_pool;
pub mod timeline;
pub mod time;
pub mod trace;

/// The wasm build's heap is counted (`heap::in_use`); a library leaves the host's
/// allocator to the program.
#[cfg(target_arch = "wasm32")]
mod heap;
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: heap::Counted = heap::Counted;
#[cfg(target_arch = "wasm32")]
mod js_api;
#[cfg(target_arch = "wasm32")]
mod timeline_canvas;

pub use combinators::{AsCompleted, MapResults, ReturnWhen, WaitError, Waited, as_completed, gather, gather_return_exceptions, wait};
pub use default_executor::{run_in_executor, to_thread};
pub use executor::Executor;
pub use job::{Call, IntoJob, JobError, JobFuture, PythonException};
pub use record::{JobRecord, JobState};
pub use process_pool::{ProcessBuilder, ProcessPoolExecutor};
pub use thread_pool::{Builder, ExecutorError, ThreadPoolExecutor};

/// Runs a future to completion on the calling thread (host only: tests, benchmarks).
#[cfg(not(target_arch = "wasm32"))]
pub use platform::block_on;

/// wasm-bindgen-rayon's pool starter, for the benchmark's side-by-side floor only: the
/// default executor starts its own pool on this library's workers (`default_executor`).
#[cfg(all(target_arch = "wasm32", target_feature = "atomics"))]
pub use wasm_bindgen_rayon::init_thread_pool;

/// The names of this library's live Web Workers (the default executor's among them).
#[cfg(target_arch = "wasm32")]
pub use platform::live_workers;
