//! What differs between the host (tests, benchmarks) and the browser: how a worker is
//! started, the clock, timers. Everything else is shared.

#[cfg(not(target_arch = "wasm32"))]
mod native;
#[cfg(not(target_arch = "wasm32"))]
pub use native::*;

#[cfg(target_arch = "wasm32")]
mod web;
#[cfg(target_arch = "wasm32")]
pub use web::*;

/// Whether this build has threads, or why not. (In the browser they need the threaded
/// build, which only instantiates on a cross-origin isolated page: its memory is a
/// SharedArrayBuffer.)
pub fn threads_available() -> Result<(), String> {
    threads().map(|_| ())
}

/// What a blocking GET (`blocking_get`, in the browser) brought back.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Fetched {
    pub status: u16,
    /// Length of the body in bytes.
    pub length: usize,
    /// How long the request blocked its worker, in milliseconds.
    pub ms: f64,
}

/// A panic's message, as a job error shows it: from the payload `catch_unwind` gives, or
/// a panic hook's (where panics abort).
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic with a non-text payload".to_owned())
}
