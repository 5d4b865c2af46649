//! What differs between the host (tests, benchmarks) and the browser: how a worker is
//! started, the clock, timers. Everything else is shared.

#[cfg(not(target_arch = "wasm32"))]
mod native;
#[cfg(not(target_arch = "wasm32"))]
pub use native::*;

#[cfg(target_arch = "wasm32")]
pub(crate) mod web;
#[cfg(target_arch = "wasm32")]
pub use web::*;
