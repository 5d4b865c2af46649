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
/// For [`register_jobs!`](crate::register_jobs), which expands in the program's crate.
#[doc(hidden)]
pub use wasm_bindgen;

use wasm_bindgen::prelude::*;

use crate::platform;

/// The library's start in each instance of a build, called by www/library's loader and
/// by each process worker once the wasm is instantiated: readable panics in the
/// console, and the page's URL for relative GETs. (Not a `#[wasm_bindgen(start)]`: a
/// program may have its own, and test binaries run none.)
#[wasm_bindgen(js_name = wxStart)]
pub fn start() {
    console_error_panic_hook::set_once();
    platform::remember_base_url();
}

/// Makes `registry()` the program's jobs by name, in the page and in every process
/// worker (each an instance of the same wasm, as Python's worker imports the module of
/// a pickled function): it exports the function that the loader and the workers call
/// once the wasm is instantiated.
///
/// ```ignore
/// fn registry() -> web_executors::Registry { /* registry.add("nap", "ms: integer", ...) */ }
/// web_executors::register_jobs!(registry);
/// ```
#[macro_export]
macro_rules! register_jobs {
    ($registry:path) => {
        #[$crate::bindings::wasm_bindgen::prelude::wasm_bindgen(js_name = wxRegisterJobs, wasm_bindgen = $crate::bindings::wasm_bindgen)]
        pub fn __web_executors_register_jobs() {
            $crate::process::registry::install($registry());
        }
    };
}
