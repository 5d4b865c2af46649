//! A process worker: a worker that shares nothing with the page (a wasm instance of its
//! own), sent calls by registered name, as Python pickles a function by name.

#[cfg(target_arch = "wasm32")]
mod browser;
#[cfg(not(target_arch = "wasm32"))]
mod host;
pub mod protocol;
pub mod registry;
pub mod worker;

/// Starts a process worker: a Web Worker with a wasm instance of its own in the
/// browser, a thread that shares nothing on the host.
#[cfg(target_arch = "wasm32")]
pub(crate) use browser::spawn_process;
#[cfg(not(target_arch = "wasm32"))]
pub(crate) use host::spawn_process;
