//! The process pool on the host: workers are threads that share nothing with the pool
//! but JSON messages, so everything but the Web Worker itself is exercised here.
#![cfg(not(target_arch = "wasm32"))]

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::Value;
use web_executors::PythonException;
use web_executors::observe::log;
use web_executors::observe::record::Worker;
use web_executors::process::registry;
use web_executors::{Call, JobError, JobState, ProcessPoolExecutor, ReturnWhen, block_on, gather, job, wait};
use web_executors_showcase::jobs::{blocks, blocks_for, noop, sum_sqrt};
use web_executors_showcase::scenarios;

fn pool(max_workers: usize) -> ProcessPoolExecutor {
    web_executors_showcase::jobs::install();
    ProcessPoolExecutor::builder().max_workers(max_workers).build().unwrap()
}

#[test]
fn scenario_2_three_process_ids_two_waves() {
    let executor = pool(3);
    let results = block_on(scenarios::run_blocking_tasks(&executor, 6)).unwrap();
    assert_eq!(results.iter().copied().collect::<BTreeSet<_>>(), BTreeSet::from([0, 1, 4, 9, 16, 25]));
    let records = executor.records();
    let pids: BTreeSet<_> = records.iter().map(|r| r.worker.clone().unwrap()).collect();
    assert_eq!(pids.len(), 3, "{pids:?}");
    assert!(!pids.contains(&Worker::Process(log::MAIN_PID)), "workers are not the main process");
    let first_finish = records[..3].iter().map(|r| r.finished.unwrap()).fold(f64::INFINITY, f64::min);
    assert!(records[3..].iter().all(|r| r.started.unwrap() >= first_finish), "jobs 3-5 wait for a free worker");
    // The workers' lines carry their process ids.
    let lines = log::lines();
    let running: Vec<_> = lines.iter().filter(|l| l.logger == "blocks(4)" && pids.contains(&Worker::Process(l.process))).collect();
    assert_eq!(running.len(), 2);
    assert_eq!(Some(Worker::Process(running[0].process)), records[4].worker);
    assert!(running[0].format_process().starts_with(&format!("PID {}          blocks(4): running", running[0].process)));
    block_on(executor.shutdown(true, false));
    assert_eq!(executor.workers_alive(), 0);
}

#[test]
fn ten_thousand_tiny_jobs_on_two_workers_each_settle_once() {
    let executor = pool(2);
    let futures: Vec<_> = (0..10_000u64).map(|i| executor.submit(job!(sum_sqrt(i % 4))).unwrap()).collect();
    let results = block_on(gather(futures)).unwrap();
    let expected: Vec<f64> = (0..10_000u64).map(|i| sum_sqrt(i % 4)).collect();
    assert_eq!(results, expected);
    let records = executor.records();
    assert_eq!(records.len(), 10_000);
    assert!(records.iter().all(|r| r.state == JobState::Finished && r.error.is_none()));
    assert!(executor.workers_alive() <= 2);
}

#[test]
fn max_tasks_per_child_replaces_workers() {
    web_executors_showcase::jobs::install();
    let executor = ProcessPoolExecutor::builder().max_workers(1).max_tasks_per_child(2).build().unwrap();
    let futures: Vec<_> = (0..6u64).map(|i| executor.submit(job!(blocks_for(i, 1))).unwrap()).collect();
    block_on(gather(futures)).unwrap();
    let workers: Vec<_> = executor.records().into_iter().map(|r| r.worker.unwrap()).collect();
    assert_eq!(workers[0], workers[1]);
    assert_ne!(workers[1], workers[2], "a new worker after two jobs: {workers:?}");
    assert_eq!(workers.iter().collect::<BTreeSet<_>>().len(), 3, "{workers:?}");
}

#[test]
fn unknown_jobs_wrong_arguments_and_closures_fail_with_what_was_expected() {
    let executor = pool(1);
    let unknown = executor.submit(registry::call("no_such_job", vec![])).unwrap();
    let wrong = executor.submit(registry::call("blocks", vec![Value::from("three")])).unwrap();
    let closure = executor.submit(Call::new("<closure>()", || 1u64)).unwrap();
    let unknown = block_on(unknown).unwrap_err().to_string();
    assert!(unknown.starts_with("no_such_job() failed: no job is registered as \"no_such_job\""), "{unknown}");
    let wrong = block_on(wrong).unwrap_err().to_string();
    assert!(wrong.contains("blocks takes (n: integer), got [\"three\"]"), "{wrong}");
    assert!(matches!(block_on(closure), Err(JobError::NotByName { .. })));
    // Nothing else is disturbed.
    assert_eq!(block_on(executor.submit(job!(blocks(3))).unwrap()), Ok(9));
}

#[test]
fn a_job_over_the_timeout_fails_and_its_worker_is_replaced() {
    web_executors_showcase::jobs::install();
    let executor = ProcessPoolExecutor::builder().max_workers(1).job_timeout(Duration::from_millis(200)).build().unwrap();
    let slow = executor.submit(job!(blocks_for(1, 5_000))).unwrap();
    let next = executor.submit(job!(blocks_for(2, 10))).unwrap();
    let error = block_on(slow).unwrap_err();
    match &error {
        JobError::TimedOut { job, after_ms, .. } => {
            assert_eq!(job, "blocks_for(1, 5000)");
            assert_eq!(*after_ms, 200.0);
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert_eq!(block_on(next), Ok(4), "the queued job runs on a replacement");
    let workers: BTreeSet<_> = executor.records().into_iter().map(|r| r.worker.unwrap()).collect();
    assert_eq!(workers.len(), 2, "{workers:?}");
}

#[test]
fn a_killed_worker_fails_its_job_and_the_pool_recovers() {
    let executor = pool(2);
    let victim = executor.submit(job!(blocks_for(7, 2_000))).unwrap();
    block_on(victim.started());
    // Wait for the worker's own report of the start.
    std::thread::sleep(Duration::from_millis(100));
    let Some(Worker::Process(pid)) = victim.worker() else { panic!("a process worker took it") };
    assert!(executor.kill_worker(pid));
    match block_on(victim) {
        Err(JobError::WorkerDied { job, worker, reason, .. }) => {
            assert_eq!(job, "blocks_for(7, 2000)");
            assert_eq!(worker.to_string(), pid.to_string());
            assert_eq!(reason, "terminated by kill_worker");
        }
        other => panic!("expected the worker's death, got {other:?}"),
    }
    let next: Vec<_> = (0..5u64).map(|i| executor.submit(job!(blocks_for(i, 20))).unwrap()).collect();
    assert_eq!(block_on(gather(next)), Ok(vec![0, 1, 4, 9, 16]));
    assert_eq!(executor.workers_alive(), 2, "back to full size");
    assert!(!executor.worker_pids().contains(&pid));
}

#[test]
fn shutdown_runs_or_cancels_the_queue() {
    let executor = pool(1);
    let futures: Vec<_> = (0..4u64).map(|i| executor.submit(job!(blocks_for(i, 30))).unwrap()).collect();
    block_on(executor.shutdown(true, false));
    assert!(futures.iter().all(|f| f.result().is_some_and(|r| r.is_ok())));
    assert_eq!(executor.workers_alive(), 0);
    assert_eq!(executor.submit(job!(noop())).unwrap_err().to_string(), "cannot schedule new futures after shutdown");

    let executor = pool(1);
    let first = executor.submit(job!(blocks_for(1, 200))).unwrap();
    block_on(first.started());
    let queued: Vec<_> = (0..4u64).map(|i| executor.submit(job!(blocks_for(i, 30))).unwrap()).collect();
    block_on(executor.shutdown(true, true));
    assert_eq!(first.result(), Some(Ok(1)));
    assert!(queued.iter().all(|f| f.cancelled()), "{queued:?}");
}

#[test]
fn an_initializer_runs_in_each_worker_and_a_failing_one_breaks_the_pool() {
    web_executors_showcase::jobs::install();
    let executor = ProcessPoolExecutor::builder().max_workers(1).initializer("noop", vec![]).build().unwrap();
    assert_eq!(block_on(executor.submit(job!(blocks(2))).unwrap()), Ok(4));

    let broken = ProcessPoolExecutor::builder().max_workers(2).initializer("panics", vec![Value::from("no database")]).build().unwrap();
    let error = block_on(broken.submit(job!(blocks(2))).unwrap()).unwrap_err();
    assert_eq!(error.python_name(), "BrokenProcessPool");
    assert!(error.to_string().ends_with("its initializer panics(\"no database\") failed: no database"), "{error}");
    // As Python's BrokenProcessPool: the pool takes no more jobs.
    let refused = broken.submit(job!(blocks(3))).unwrap_err();
    assert_eq!(refused.python_name(), "BrokenProcessPool");
    assert!(refused.to_string().starts_with("the process pool is broken"), "{refused}");
}

#[test]
fn map_keeps_input_order_with_chunks() {
    let executor = pool(2);
    let results = executor.map(|n: u64| job!(blocks_for(n, 5)), [5, 1, 4, 2, 3], 2).unwrap();
    assert_eq!(block_on(results.collect()), Ok(vec![25, 1, 16, 4, 9]));
    let records = executor.records();
    // Each chunk of two ran on one worker.
    assert_eq!(records[0].worker, records[1].worker);
    assert_eq!(records[2].worker, records[3].worker);
}

#[test]
fn wait_and_the_combinators_work_on_process_jobs() {
    let executor = pool(2);
    let futures = vec![executor.submit(job!(blocks_for(1, 300))).unwrap(), executor.submit(job!(blocks_for(2, 10))).unwrap()];
    let waited = block_on(wait(&futures, ReturnWhen::FirstCompleted, None)).unwrap();
    assert_eq!(waited.done.len(), 1);
    assert_eq!(waited.done[0].result(), Some(Ok(4)));
}

#[test]
fn float_results_cross_exactly() {
    // Python pickles floats bit for bit; a JSON reader that is off by a bit in the last
    // place is not good enough (sum_sqrt's sums need all 17 digits).
    let executor = pool(2);
    let ns: Vec<u64> = (0..200).map(|i| 1 + i * 997).collect();
    let futures: Vec<_> = ns.iter().map(|&n| executor.submit(job!(sum_sqrt(n))).unwrap()).collect();
    let results = block_on(gather(futures)).unwrap();
    let expected: Vec<f64> = ns.iter().map(|&n| sum_sqrt(n)).collect();
    assert_eq!(results, expected);
    block_on(executor.shutdown(true, false));
}
