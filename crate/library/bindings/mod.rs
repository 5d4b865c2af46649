//! The JavaScript API: camelCase names, Promises, jobs named by their registered name
//! with JSON arguments. `www/library/web-executors.js` loads the build and adds the
//! few conveniences a class cannot (`submit(name, ...args)`, async iterators).
//!
//! - `convert`: values to and from JavaScript, errors named as Python names them, the
//!   options reader; public, for a program's own bindings.
//! - `jobs`: the `Job` class, its Promise, and the one task that settles them all.
//! - `executor`: the `Executor` class behind both pools, and the default executor.
//! - `combinators`: `wait`, `asCompleted`, `map`'s results, `gather`.
//! - `records`: records, log lines and traces, of the page or of one run.

mod combinators;
pub mod convert;
mod executor;
mod jobs;
mod records;

pub use jobs::promise;

use crate::platform;
use crate::process::registry::{self, Registry};

/// What a program's `#[wasm_bindgen(start)]` calls, in the page and in each process
/// worker (an instance of the same wasm): readable panics in the console, the page's
/// URL for relative GETs, and `jobs` as the registry that runs jobs by name.
pub fn start(jobs: Registry) {
    console_error_panic_hook::set_once();
    platform::remember_base_url();
    registry::install(jobs);
}
