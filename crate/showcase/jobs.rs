//! The jobs of the scenarios (docs/scenarios.md), as plain Rust functions.

use std::time::Duration;

use web_executors::Registry;
use web_executors::observe::log::log;
use web_executors::platform;
pub use web_executors::platform::Fetched;

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
    if n <= MAX_BLOCKS_ARG { Ok(n) } else { Err(format!("blocks({n}): n² does not fit in 64 bits; n must be at most {MAX_BLOCKS_ARG}")) }
}

/// `blocks(n)` with the block time in milliseconds. `n` must be at most
/// [`MAX_BLOCKS_ARG`] (see [`blocks_arg`]).
pub fn blocks_for(n: u64, ms: u64) -> u64 {
    let logger = format!("blocks({n})");
    log(&logger, "running");
    let how = platform::block_for(Duration::from_millis(ms));
    web_executors::executors::job::note(format!("blocked {ms} ms by {how}"));
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
    // From 0, as Python's `sum`: Rust's sum of no floats is -0.0.
    (start..end).map(|i| (i as f64).sqrt()).fold(0.0, |sum, x| sum + x)
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

/// Scenario 6's blocking GET: a synchronous request that blocks its worker, the
/// browser's `requests.get` in a thread. `url` may be relative to the page.
#[cfg(target_arch = "wasm32")]
pub fn http_get(url: &str) -> Result<Fetched, String> {
    let fetched = platform::blocking_get(url)?;
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

/// The demo's jobs by name, for JavaScript and for process workers; in name order.
pub fn registry() -> Registry {
    let mut r = Registry::new();
    r.add("blocking_task", "ms: integer", |(ms,): (u64,)| blocking_task(ms));
    r.add_fallible("blocks", "n: integer", |(n,): (u64,)| blocks_arg(n).map(blocks));
    r.add_fallible("blocks_for", "n: integer, ms: integer", |(n, ms): (u64, u64)| blocks_arg(n).map(|n| blocks_for(n, ms)));
    r.add("cpu_task", "n: integer", |(n,): (u64,)| cpu_task(n));
    #[cfg(target_arch = "wasm32")]
    r.add_fallible("http_get", "url: string", |(url,): (String,)| http_get(&url));
    r.add("noop", "", |[]: [u8; 0]| noop());
    r.add("panics", "message: string", |(message,): (String,)| panics(message));
    r.add("par_sum_sqrt", "n: integer", |(n,): (u64,)| par_sum_sqrt(n));
    r.add("set_worker_value", "value: string", |(value,): (String,)| set_worker_value(value));
    r.add("sum_sqrt", "n: integer", |(n,): (u64,)| sum_sqrt(n));
    r.add("sum_sqrt_range", "start: integer, end: integer", |(start, end): (u64, u64)| sum_sqrt_range(start, end));
    #[cfg(target_arch = "wasm32")]
    r.add("traps", "", |[]: [u8; 0]| traps());
    r.add("worker_value", "", |[]: [u8; 0]| worker_value());
    r
}

/// Installs [`registry`] as the program's jobs, once: what the showcase's wasm does as
/// it starts, and what a host test does before it runs jobs by name.
pub fn install() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        web_executors::process::registry::install(registry());
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn the_cpu_loop_over_nothing_is_zero_as_in_python() {
        assert!(sum_sqrt(0) == 0.0 && sum_sqrt(0).is_sign_positive(), "not -0.0, which JavaScript shows apart");
        assert_eq!(sum_sqrt(5), 1.0 + 2f64.sqrt() + 3f64.sqrt() + 2.0);
    }

    #[test]
    fn jobs_are_registered_in_name_order() {
        let names = registry().names();
        assert!(names.is_sorted(), "{names:?}");
        assert_eq!(names.len(), 11, "and http_get and traps in the browser");
    }

    #[test]
    fn blocks_refuses_an_n_whose_square_overflows() {
        let error = registry().run("blocks_for", vec![Value::from(1u64 << 32), Value::from(0)]).unwrap_err();
        assert_eq!(error, "blocks(4294967296): n² does not fit in 64 bits; n must be at most 4294967295");
        let largest = MAX_BLOCKS_ARG;
        assert_eq!(registry().run("blocks_for", vec![Value::from(largest), Value::from(0)]), Ok(Value::from(largest * largest)));
    }

    #[test]
    fn wrong_arguments_name_the_job_and_what_it_takes() {
        let error = registry().run("blocks", vec![Value::from("x")]).unwrap_err();
        assert!(error.starts_with("blocks takes (n: integer), got [\"x\"]: invalid type"), "{error}");
    }
}
