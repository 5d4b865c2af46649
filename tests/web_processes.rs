//! The process pool in real browsers (`wasm-pack test --headless --chrome` /
//! `--firefox`): Web Workers with wasm instances of their own, talking by messages.
//! Here they run the test's own module with memory of their own; the pages of
//! tests/e2e run them on the plain build.
#![cfg(target_arch = "wasm32")]

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::Value;
use wasm_bindgen_test::*;
use web_executors::observe::log;
use web_executors::observe::record::Worker;
use web_executors::process::registry;
use web_executors::runtime::time::sleep;
use web_executors::{JobError, JobState, ProcessPoolExecutor, gather, job};
use web_executors_showcase::jobs::{blocks, blocks_for, sum_sqrt};
use web_executors_showcase::scenarios;

wasm_bindgen_test_configure!(run_in_browser);

fn pool(max_workers: usize) -> ProcessPoolExecutor {
    // A test binary runs no `#[wasm_bindgen(start)]`: the showcase's jobs are installed here.
    web_executors_showcase::jobs::install();
    ProcessPoolExecutor::builder().max_workers(max_workers).build().unwrap()
}

#[wasm_bindgen_test]
async fn scenario_2_three_processes_two_waves() {
    let executor = pool(3);
    let results = scenarios::run_blocking_tasks(&executor, 6).await.unwrap();
    assert_eq!(results.iter().copied().collect::<BTreeSet<_>>(), BTreeSet::from([0, 1, 4, 9, 16, 25]));
    let records = executor.records();
    let pids: BTreeSet<_> = records.iter().map(|r| r.worker.clone().unwrap()).collect();
    assert_eq!(pids.len(), 3, "{pids:?}");
    assert!(!pids.contains(&Worker::Process(log::MAIN_PID)));
    let first_finish = records[..3].iter().map(|r| r.finished.unwrap()).fold(f64::INFINITY, f64::min);
    assert!(records[3..].iter().all(|r| r.started.unwrap() >= first_finish), "jobs 3-5 wait for a free worker");
    let start = records.iter().map(|r| r.started.unwrap()).fold(f64::INFINITY, f64::min);
    let end = records.iter().map(|r| r.finished.unwrap()).fold(0.0, f64::max);
    assert!((190.0..450.0).contains(&(end - start)), "two waves of 100 ms: {} ms", end - start);
    assert!(records[0].note.as_deref().is_some_and(|n| n.starts_with("blocked 100 ms by ")), "{:?}", records[0].note);
    executor.shutdown(true, false).await;
    assert_eq!(executor.workers_alive(), 0);
}

#[wasm_bindgen_test]
async fn scenario_5_the_main_loop_goes_on_while_a_process_computes() {
    log::clear();
    let executor = pool(4);
    let sum = scenarios::cpu_bound_task(&executor, 5_000_000).await.unwrap();
    assert_eq!(sum, sum_sqrt(5_000_000));
    let messages: Vec<String> =
        log::lines().into_iter().filter(|l| l.logger == "main" || l.logger == "cpu_task").map(|l| l.message).collect();
    assert_eq!(messages, ["Main doing other things", "Task starting", "Task done"]);
    assert_eq!(executor.workers_alive(), 0, "shut down at the end");
}

#[wasm_bindgen_test]
async fn a_worker_that_traps_fails_its_job_and_is_replaced() {
    let executor = pool(2);
    let trapped = executor.submit(registry::call("traps", vec![])).unwrap();
    match trapped.await {
        Err(JobError::WorkerDied { job, worker, reason, .. }) => {
            assert_eq!(job, "traps()");
            assert!(matches!(worker, Worker::Process(_)), "{worker}");
            assert!(reason.starts_with("trapped ("), "a trap, in any engine's words: {reason}");
        }
        other => panic!("expected the worker's death, got {other:?}"),
    }
    let next: Vec<_> = (0..5u64).map(|i| executor.submit(job!(blocks_for(i, 20))).unwrap()).collect();
    assert_eq!(gather(next).await, Ok(vec![0, 1, 4, 9, 16]));
    assert_eq!(executor.workers_alive(), 2, "the pool has its full size again");
    executor.shutdown(true, false).await;
}

#[wasm_bindgen_test]
async fn a_worker_killed_mid_job_fails_that_job_only() {
    let executor = pool(2);
    let victim = executor.submit(job!(blocks_for(3, 3_000))).unwrap();
    victim.started().await;
    sleep(Duration::from_millis(100)).await; // its own report of the start
    let Some(Worker::Process(pid)) = victim.worker() else { panic!("a process worker took it") };
    assert!(executor.kill_worker(pid));
    assert!(matches!(victim.await, Err(JobError::WorkerDied { reason, .. }) if reason == "terminated by kill_worker"));
    let next: Vec<_> = (0..5u64).map(|i| executor.submit(job!(blocks_for(i, 20))).unwrap()).collect();
    assert_eq!(gather(next).await, Ok(vec![0, 1, 4, 9, 16]));
    assert_eq!(executor.workers_alive(), 2);
    assert!(!web_executors::live_workers().contains(&pid.to_string()), "the Web Worker is gone");
    executor.shutdown(true, false).await;
}

#[wasm_bindgen_test]
async fn a_job_over_the_timeout_fails_and_its_worker_is_replaced() {
    let executor = ProcessPoolExecutor::builder().max_workers(1).job_timeout(Duration::from_millis(300)).build().unwrap();
    let slow = executor.submit(job!(blocks_for(1, 10_000))).unwrap();
    let next = executor.submit(job!(blocks(2))).unwrap();
    assert!(matches!(slow.await, Err(JobError::TimedOut { after_ms, .. }) if after_ms == 300.0));
    assert_eq!(next.await, Ok(4));
    let pids: BTreeSet<_> = executor.records().into_iter().map(|r| r.worker.unwrap()).collect();
    assert_eq!(pids.len(), 2, "{pids:?}");
    executor.shutdown(true, false).await;
}

#[wasm_bindgen_test]
async fn max_tasks_per_child_changes_the_worker_after_n_jobs() {
    let executor = ProcessPoolExecutor::builder().max_workers(1).max_tasks_per_child(2).build().unwrap();
    let futures: Vec<_> = (0..6u64).map(|i| executor.submit(job!(blocks_for(i, 1))).unwrap()).collect();
    gather(futures).await.unwrap();
    let workers: Vec<_> = executor.records().into_iter().map(|r| r.worker.unwrap()).collect();
    assert_eq!(workers[0], workers[1]);
    assert_ne!(workers[1], workers[2]);
    assert_eq!(workers.iter().collect::<BTreeSet<_>>().len(), 3, "{workers:?}");
    executor.shutdown(true, false).await;
}

#[wasm_bindgen_test]
async fn unknown_names_and_wrong_arguments_say_what_was_expected() {
    let executor = pool(1);
    let unknown = executor.submit(registry::call("nope", vec![])).unwrap().await.unwrap_err().to_string();
    assert!(unknown.starts_with("nope() failed: no job is registered as \"nope\"; registered jobs: "), "{unknown}");
    let wrong = executor.submit(registry::call("blocks", vec![Value::from(true)])).unwrap().await.unwrap_err().to_string();
    assert!(wrong.contains("blocks takes (n: integer), got [true]: invalid type: boolean `true`"), "{wrong}");
    assert_eq!(executor.submit(job!(blocks(5))).unwrap().await, Ok(25), "the pool is undisturbed");
    executor.shutdown(true, false).await;
}

#[wasm_bindgen_test]
async fn shutdown_with_jobs_queued_runs_or_cancels_them() {
    let executor = pool(1);
    let futures: Vec<_> = (0..4u64).map(|i| executor.submit(job!(blocks_for(i, 20))).unwrap()).collect();
    executor.shutdown(true, false).await;
    assert!(futures.iter().all(|f| f.result().is_some_and(|r| r.is_ok())));

    let executor = pool(1);
    let first = executor.submit(job!(blocks_for(1, 300))).unwrap();
    first.started().await;
    let queued: Vec<_> = (0..4u64).map(|i| executor.submit(job!(blocks_for(i, 20))).unwrap()).collect();
    executor.shutdown(true, true).await;
    assert_eq!(first.result(), Some(Ok(1)));
    assert!(queued.iter().all(|f| f.cancelled()));
    assert_eq!(executor.workers_alive(), 0);
}

#[wasm_bindgen_test]
async fn ten_thousand_tiny_jobs_on_two_workers_each_settle_once() {
    let executor = pool(2);
    let futures: Vec<_> = (0..10_000u64).map(|i| executor.submit(job!(sum_sqrt(i % 5))).unwrap()).collect();
    let results = gather(futures).await.unwrap();
    assert_eq!(results, (0..10_000u64).map(|i| sum_sqrt(i % 5)).collect::<Vec<_>>());
    let records = executor.records();
    assert_eq!(records.len(), 10_000);
    assert!(records.iter().all(|r| r.state == JobState::Finished && r.error.is_none()));
    executor.shutdown(true, false).await;
}
