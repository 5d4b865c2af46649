//! `cargo bench --bench native`: the references that run natively, for bench/run.mjs.
//! Prints one JSON object: the CPU loop on one core, and web-executors' own thread pool
//! on OS threads (round trip and burst of a no-op), sized by the same environment
//! variables as the browser run.

use std::time::Instant;

use web_executors::{Call, ThreadPoolExecutor, block_on, gather};
use web_executors_showcase::jobs;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

fn ms_since(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1000.0
}

fn main() {
    let (rounds, trips, burst) = (env("BENCH_ROUNDS", 5), env("BENCH_TRIPS", 300), env("BENCH_BURST", 100_000));
    let n = env("BENCH_CPU_N", 50_000_000) as u64;
    let cpu = (0..rounds)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(jobs::sum_sqrt(std::hint::black_box(n)));
            ms_since(start)
        })
        .collect();
    let pool = ThreadPoolExecutor::builder().max_workers(2).build().expect("a pool of 2");
    let noop = || Call::<()>::labelled("noop()", jobs::noop);
    block_on(gather((0..2).map(|_| pool.submit(noop()).unwrap()).collect())).expect("warm-up");
    let round_trip = (0..trips)
        .map(|_| {
            let start = Instant::now();
            block_on(pool.submit(noop()).unwrap()).expect("a no-op");
            ms_since(start)
        })
        .collect();
    let start = Instant::now();
    let futures = (0..burst).map(|_| pool.submit(noop()).unwrap()).collect();
    block_on(gather(futures)).expect("the burst");
    let burst_ms = ms_since(start);
    println!(
        "{{\"cpuLoopMs\": {:.3}, \"threads\": {{\"roundTripMs\": {:.5}, \"burstMs\": {:.3}}}}}",
        median(cpu),
        median(round_trip),
        burst_ms
    );
}
