//! A program's own jobs on web-executors: `count_primes` (CPU-bound) and `nap`
//! (blocking), registered by name so that JavaScript can submit them to a thread pool
//! or a process pool. Built by `build.sh`, run by `main.js`.

use std::time::Duration;

use web_executors::Registry;
use web_executors::observe::log::log;
use web_executors::platform;

/// The largest `n` that `count_primes` takes: its sieve holds a byte per number, and
/// the threaded build's memory (shared by every thread) is at most 1 GiB.
pub const MAX_N: u64 = 100_000_000;

/// How many primes are below `n`, by the sieve of Eratosthenes: a job that keeps its
/// worker's CPU busy.
pub fn count_primes(n: u64) -> Result<u64, String> {
    if n > MAX_N {
        // Refused rather than left to fail allocating: the arguments come from JavaScript.
        return Err(format!("count_primes({n}): n must be at most {MAX_N}"));
    }
    let n = n as usize;
    let mut prime = vec![true; n];
    let mut count = 0;
    for i in 2..n {
        if prime[i] {
            count += 1;
            // Saturating: i² overflows wasm32's usize for i > 65535 (and is past n then).
            for multiple in (i.saturating_mul(i)..n).step_by(i) {
                prime[multiple] = false;
            }
        }
    }
    Ok(count)
}

/// Blocks its worker for `ms` milliseconds, as `time.sleep` would, and says how it
/// blocked: a thread sleeps, a process worker (no shared memory to wait on) spins.
pub fn nap(ms: u64) -> String {
    log("nap", format!("napping {ms} ms"));
    let how = platform::block_for(Duration::from_millis(ms));
    log("nap", "awake");
    format!("napped {ms} ms by {how}")
}

/// The jobs by name. The page and every process worker install the same registry, so
/// a name submitted in the page runs the same function wherever it lands.
pub fn registry() -> Registry {
    let mut jobs = Registry::new();
    jobs.add_fallible("count_primes", "n: integer", |(n,): (u64,)| count_primes(n));
    jobs.add("nap", "ms: integer", |(ms,): (u64,)| nap(ms));
    jobs
}

// The registry, in the page and in each process worker (a fresh instance of this same
// wasm): the loader and the workers call the function this exports once it starts.
#[cfg(target_arch = "wasm32")]
web_executors::register_jobs!(registry);

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn counts_the_primes_below_n() {
        let counts: Vec<u64> = [0, 2, 3, 10, 100, 1000, 1_000_000].map(|n| count_primes(n).unwrap()).into();
        assert_eq!(counts, [0, 0, 1, 4, 25, 168, 78_498]);
        assert_eq!(count_primes(MAX_N + 1), Err(format!("count_primes({}): n must be at most {MAX_N}", MAX_N + 1)));
    }

    #[test]
    fn the_registry_runs_the_jobs_by_name() {
        assert_eq!(registry().names(), ["count_primes", "nap"]);
        assert_eq!(registry().run("count_primes", vec![Value::from(100)]), Ok(Value::from(25)));
    }
}
