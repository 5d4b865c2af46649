//! The executor in real browsers (`wasm-pack test --headless --chrome` / `--firefox`):
//! Web Workers sharing the wasm memory, the main thread that must never wait.
#![cfg(target_arch = "wasm32")]

use std::collections::BTreeSet;

use serde_json::Value;
use wasm_bindgen_test::*;
use web_executors::observe::log::{self, LogLine};
use web_executors::process::registry;
use web_executors::{JobError, ThreadPoolExecutor, gather, job, run_in_executor, to_thread};
use web_executors_showcase::jobs::{blocks_for, panics, par_sum_sqrt, sum_sqrt};
use web_executors_showcase::scenarios;

wasm_bindgen_test_configure!(run_in_browser);

/// Sizes the default executor's pool, which starts on its first job.
async fn start() {
    // A test binary runs no `#[wasm_bindgen(start)]`: the showcase's jobs are installed here.
    web_executors_showcase::jobs::install();
    web_executors::executors::default_executor::set_default_workers(2);
}

fn pool(name: &str, max_workers: usize) -> ThreadPoolExecutor {
    ThreadPoolExecutor::builder().max_workers(max_workers).thread_name_prefix(name).build().unwrap()
}

fn messages(loggers: &[&str]) -> Vec<String> {
    log::lines().iter().filter(|l| loggers.contains(&l.logger.as_str())).map(|l| l.message.clone()).collect()
}

#[wasm_bindgen_test]
async fn scenario_1_three_workers_two_waves() {
    start().await;
    log::clear();
    let executor = pool("s1", 3);
    let results = scenarios::run_blocking_tasks(&executor, 6).await.unwrap();
    assert_eq!(results.iter().copied().collect::<BTreeSet<_>>(), BTreeSet::from([0, 1, 4, 9, 16, 25]));

    let records = executor.records();
    let workers: BTreeSet<_> = records.iter().map(|r| r.worker.clone().unwrap()).collect();
    assert_eq!(workers.len(), 3, "{workers:?}");
    let first_finish = records[..3].iter().map(|r| r.finished.unwrap()).fold(f64::INFINITY, f64::min);
    for late in &records[3..] {
        assert!(late.started.unwrap() >= first_finish, "{} started before any of jobs 0-2 finished", late.label);
    }
    let start = records.iter().map(|r| r.started.unwrap()).fold(f64::INFINITY, f64::min);
    let end = records.iter().map(|r| r.finished.unwrap()).fold(0.0, f64::max);
    assert!((190.0..400.0).contains(&(end - start)), "two waves of 100 ms: took {} ms", end - start);

    let main: Vec<String> = log::lines().iter().filter(|l| &*l.thread == "MainThread").map(LogLine::format).collect();
    assert_eq!(main[0], "MainThread run_blocking_tasks: starting");
    assert_eq!(main[3], format!("MainThread run_blocking_tasks: results: {results:?}"));
    executor.shutdown(true, false).await;
    assert_eq!(executor.workers_alive(), 0);
}

#[wasm_bindgen_test]
async fn scenario_3_to_thread_lets_main_go_on() {
    start().await;
    log::clear();
    scenarios::to_thread_task(300).await.unwrap();
    assert_eq!(
        messages(&["main", "blocking_task"]),
        ["Main running the blocking task", "Main doing other things", "Task starting", "Task done"]
    );
    let worker = log::lines().into_iter().find(|l| l.message == "Task starting").unwrap().thread;
    assert!(worker.starts_with("asyncio_"), "to_thread runs on the default executor: {worker}");
}

#[wasm_bindgen_test]
async fn scenario_4_run_in_executor_starts_at_once() {
    start().await;
    log::clear();
    scenarios::run_in_executor_task(300).await.unwrap();
    assert_eq!(
        messages(&["main", "blocking_task"]),
        ["Main running the blocking task", "Task starting", "Main doing other things", "Task done"]
    );
}

#[wasm_bindgen_test]
async fn thousands_of_tiny_jobs_from_the_main_thread_never_trap_it() {
    start().await;
    let executor = pool("burst", 2);
    let futures: Vec<_> = (0..5_000u64).map(|i| executor.submit(move || i * 3).unwrap()).collect();
    let results = gather(futures).await.unwrap();
    assert_eq!(results, (0..5_000).map(|i| i * 3).collect::<Vec<_>>());
    assert_eq!(executor.workers_alive(), 2, "no idle worker at submit: both were started");
    assert!(executor.records().iter().all(|r| r.state == web_executors::JobState::Finished));
}

#[wasm_bindgen_test]
async fn a_panicking_job_fails_alone_and_later_jobs_run() {
    start().await;
    let executor = pool("panic", 2);
    let error = executor.submit(job!(panics("boom".to_owned()))).unwrap().await.unwrap_err();
    match &error {
        JobError::Panicked { job, worker, message } => {
            assert_eq!(job, "panics(\"boom\")");
            assert!(worker.to_string().starts_with("panic_"), "{worker}");
            assert_eq!(message, "boom");
        }
        other => panic!("expected a panic error, got {other:?}"),
    }
    let later: Vec<_> = (0..5u64).map(|i| executor.submit(job!(blocks_for(i, 10))).unwrap()).collect();
    assert_eq!(gather(later).await, Ok(vec![0, 1, 4, 9, 16]));
    // The panic unwound: the worker that panicked lives on, no replacement was started.
    let workers: BTreeSet<_> = executor.records().into_iter().map(|r| r.worker.unwrap().to_string()).collect();
    assert!(workers.contains("panic_0"), "{workers:?}");
    assert!(workers.iter().all(|w| w == "panic_0" || w == "panic_1"), "{workers:?}");
    executor.shutdown(true, false).await;
    assert_eq!(executor.workers_alive(), 0);
}

#[wasm_bindgen_test]
async fn a_panic_on_the_default_executor_leaves_its_pool_whole() {
    start().await;
    // More panics than the pool has threads: without unwinding each would kill one.
    for _ in 0..3 {
        let error = to_thread(job!(panics("in rayon".to_owned()))).await.unwrap_err();
        assert!(error.to_string().ends_with(": in rayon"), "{error}");
    }
    let results = gather((0..4u64).map(|i| web_executors::run_in_executor(None, move || i + 1).unwrap()).collect()).await;
    assert_eq!(results, Ok(vec![1, 2, 3, 4]));
}

#[wasm_bindgen_test]
async fn cancel_while_pending_and_shutdown_ends_every_worker() {
    start().await;
    let executor = pool("cancel", 1);
    let running = executor.submit(job!(blocks_for(1, 200))).unwrap();
    let queued = executor.submit(|| 2u64).unwrap();
    running.started().await;
    assert!(!running.cancel());
    assert!(queued.cancel());
    assert_eq!(queued.await, Err(JobError::Cancelled));
    assert_eq!(running.await, Ok(1));
    assert_eq!(web_executors::live_workers().iter().filter(|w| w.starts_with("cancel_")).count(), 1);
    executor.shutdown(true, true).await;
    // The Web Worker object goes once its exit message arrives.
    for _ in 0..100 {
        if !web_executors::live_workers().iter().any(|w| w.starts_with("cancel_")) {
            return;
        }
        web_executors::runtime::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the worker outlived shutdown: {:?}", web_executors::live_workers());
}

#[wasm_bindgen_test]
async fn default_executor_jobs_and_rayon_inside_a_job() {
    start().await;
    assert_eq!(to_thread(|| 6 * 7).await, Ok(42));
    let executor = pool("cpu", 1);
    let n = 200_000;
    let parallel = run_in_executor(Some(&executor), job!(par_sum_sqrt(n))).unwrap().await.unwrap();
    let serial = sum_sqrt(n);
    assert!((parallel - serial).abs() / serial < 1e-9, "{parallel} vs {serial}");
}

#[wasm_bindgen_test]
async fn a_blocking_get_of_the_page_itself() {
    start().await;
    let executor = pool("get", 1);
    let fetched = executor.submit(registry::call("http_get", vec![Value::from("")])).unwrap().await.unwrap();
    assert_eq!(fetched["status"], 200, "{fetched}");
    assert!(fetched["length"].as_u64().unwrap() > 0, "{fetched}");
    let error = executor.submit(registry::call("http_get", vec![Value::from(3)])).unwrap().await.unwrap_err();
    assert!(error.to_string().contains("http_get takes (url: string)"), "{error}");
}

#[wasm_bindgen_test]
async fn a_worker_that_traps_fails_its_job_and_is_replaced() {
    start().await;
    let executor = pool("trap", 2);
    // Not a panic: a trap ends the Web Worker itself.
    let trapped = executor.submit(|| -> u64 { core::arch::wasm32::unreachable() }).unwrap();
    match trapped.await {
        Err(JobError::WorkerDied { job, worker, reason, .. }) => {
            assert_eq!(job, "<closure>()");
            assert!(worker.to_string().starts_with("trap_"), "{worker}");
            assert!(reason.starts_with("trapped ("), "a trap, in any engine's words: {reason}");
        }
        other => panic!("expected the worker's death, got {other:?}"),
    }
    let later: Vec<_> = (0..5u64).map(|i| executor.submit(job!(blocks_for(i, 20))).unwrap()).collect();
    assert_eq!(gather(later).await, Ok(vec![0, 1, 4, 9, 16]));
    assert_eq!(executor.workers_alive(), 2, "the pool is back to its full size");
    assert_eq!(web_executors::live_workers().iter().filter(|w| w.starts_with("trap_")).count(), 2);
    executor.shutdown(true, false).await;
}
