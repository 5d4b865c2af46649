//! The showcase of web-executors: the demo page and its widgets run on the library as
//! any program would.
//!
//! - `jobs`: the scenarios' jobs (`blocks(n)`, `cpu_task`, a blocking GET) and their
//!   registry, installed when the wasm starts.
//! - `scenarios`: the six programs of docs/scenarios.md, as async Rust.
//! - `runs`: a scenario and its parameters as the page and the widget give them, with
//!   their limits.
//! - `timeline`: the timeline's model (`model`: lanes, bars, ticks, zoom) and its
//!   canvas (`canvas`, wasm only).
//! - `budget`: how many workers a page's widgets may have alive at once.
//! - `bindings`: the showcase's JavaScript API (wasm only).

pub mod budget;
pub mod jobs;
pub mod runs;
pub mod scenarios;
pub mod timeline;

#[cfg(target_arch = "wasm32")]
mod bindings;

/// wasm-bindgen-rayon's pool starter: the benchmark's side-by-side floor, and
/// `par_sum_sqrt`. The library's pools start their own workers.
#[cfg(all(target_arch = "wasm32", target_feature = "atomics"))]
pub use wasm_bindgen_rayon::init_thread_pool;
