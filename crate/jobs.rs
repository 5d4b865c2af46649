//! The jobs of the scenarios (docs/scenarios.md), as plain Rust functions.

use std::time::Duration;

use serde::Serialize;

use crate::log::log;
use crate::platform;

/// Scenario 1's `blocks(n)`: logs `running`, blocks its worker 0.1 s, logs `done`,
/// returns n². Each call logs as its own logger, `blocks(n)`.
pub fn blocks(n: u64) -> u64 {
    blocks_for(n, 100)
}

/// The largest `n` whose square fits the `u64` that `blocks` returns (Python's ints
/// have no such limit, so a larger `n` is refused rather than wrapped).
pub const MAX_BLOCKS_ARG: u64 = u32::MAX as u64;

/// `n` if `blocks(n)` can return n², else the error that says why not: the check for
/// arguments that come from outside (JavaScript, a process worker's batch).
pub fn blocks_arg(n: u64) -> Result<u64, String> {
    if n <= MAX_BLOCKS_ARG {
        Ok(n)
    } else {
        Err(format!("blocks({n}): n² does not fit in 64 bits; n must be at most {MAX_BLOCKS_ARG}"))
    }
}

/// `blocks(n)` with the block time in milliseconds. `n` must be at most
/// [`MAX_BLOCKS_ARG`] (see [`blocks_arg`]).
pub fn blocks_for(n: u64, ms: u64) -> u64 {
    let logger = format!("blocks({n})");
    log(&logger, "running");
    let how = platform::block_for(Duration::from_millis(ms));
    crate::job::note(format!("blocked {ms} ms by {how}"));
    log(&logger, "done");
    n.checked_mul(n).expect("blocks: n is at most MAX_BLOCKS_ARG")
}

/// Scenarios 3 and 4's `blocking_task`: `Task starting`, blocks `ms`, `Task done`.
pub fn blocking_task(ms: u64) {
    log("blocking_task", "Task starting");
    platform::block_for(Duration::from_millis(ms));
    log("blocking_task", "Task done");
}

/// The CPU loop: the sum of sqrt(i) for i < n, on one worker.
pub fn sum_sqrt(n: u64) -> f64 {
    sum_sqrt_range(0, n)
}

/// The CPU loop over `start..end`: a share of it, for splitting it across workers.
pub fn sum_sqrt_range(start: u64, end: u64) -> f64 {
    (start..end).map(|i| (i as f64).sqrt()).sum()
}

/// The same sum split across rayon's pool (in the browser, wasm-bindgen-rayon's).
#[cfg(any(not(target_arch = "wasm32"), target_feature = "atomics"))]
pub fn par_sum_sqrt(n: u64) -> f64 {
    use rayon::prelude::*;
    (0..n).into_par_iter().map(|i| (i as f64).sqrt()).sum()
}

/// The plain build (no shared memory, so no rayon) sums on the one worker, as rayon
/// would with a single thread.
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
pub fn par_sum_sqrt(n: u64) -> f64 {
    sum_sqrt(n)
}

/// Scenario 5's task: `Task starting`, the CPU loop, `Task done`.
pub fn cpu_task(n: u64) -> f64 {
    log("cpu_task", "Task starting");
    let sum = sum_sqrt(n);
    log("cpu_task", "Task done");
    sum
}

/// What a blocking GET brought back.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Fetched {
    pub status: u16,
    /// Length of the body in bytes.
    pub length: usize,
    /// How long the request blocked its worker, in milliseconds.
    pub ms: f64,
}

/// Scenario 6's blocking GET: a synchronous request that blocks its worker, the
/// browser's `requests.get` in a thread. `url` may be relative to the page.
#[cfg(target_arch = "wasm32")]
pub fn http_get(url: &str) -> Result<Fetched, String> {
    let fetched = platform::web::blocking_get(url)?;
    log("http_get", format!("GET {url}: {} bytes in {:.1} ms", fetched.length, fetched.ms));
    Ok(fetched)
}

/// A job that does nothing: for measuring the executor itself.
pub fn noop() {}

thread_local! {
    /// A value the worker keeps for its later jobs: what an initializer sets up.
    static WORKER_VALUE: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Stores `value` in the worker that runs it (an initializer, as Python's `init(x)`).
pub fn set_worker_value(value: String) {
    WORKER_VALUE.with(|v| *v.borrow_mut() = Some(value));
}

/// The value `set_worker_value` left in this worker, or None.
pub fn worker_value() -> Option<String> {
    WORKER_VALUE.with(|v| v.borrow().clone())
}

/// A job that panics with `message`: for showing what a failed job looks like.
pub fn panics(message: String) {
    panic!("{message}")
}

/// A job that traps (not a panic: the wasm instance stops), which ends its worker:
/// for fault drills.
#[cfg(target_arch = "wasm32")]
pub fn traps() {
    core::arch::wasm32::unreachable()
}
