//! CPython's own tests of `concurrent.futures` (Lib/test/test_concurrent_futures/),
//! ported to the host through the Rust API. Each test names the CPython test it comes
//! from; a test CPython runs on both pools runs here on both (`on_both_pools!` makes a
//! `threads` and a `processes` test of it). Python's callables become registered jobs
//! (`blocks_for(n, ms)` returns n² after blocking `ms`), or closures on threads; its
//! events become blocking jobs with wide gaps, or a gate on threads.
//!
//! Differences from CPython, each on purpose:
//! - A job cancelled here is done at once: there is no "cancelled, not yet noticed"
//!   state (`CANCELLED_FUTURE`), so the ports leave that future out.
//! - A process worker that dies fails the job it was running (and the ones handed to
//!   it); the pool goes on. CPython marks the whole pool broken.
//! - The Rust API cannot hold one job twice in a list (a `JobFuture` is not `Clone`),
//!   so the tests of duplicate futures are left to the JavaScript ports.
#![cfg(not(target_arch = "wasm32"))]

#[macro_use]
mod cpython_support;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cpython_support::*;
use serde_json::Value;
use web_executors::PythonException;
use web_executors::observe::log;
use web_executors::observe::record::Worker;
use web_executors::{
    Executor, JobError, JobFuture, JobState, ProcessPoolExecutor, ReturnWhen, ThreadPoolExecutor, as_completed, block_on, gather, job, wait,
};
use web_executors_showcase::jobs::{blocks_for, worker_value};

fn processes(max_workers: usize) -> ProcessPoolExecutor {
    web_executors_showcase::jobs::install();
    ProcessPoolExecutor::builder().max_workers(max_workers).build().unwrap()
}

fn retiring_processes(max_workers: usize, max_tasks_per_child: usize) -> ProcessPoolExecutor {
    web_executors_showcase::jobs::install();
    ProcessPoolExecutor::builder().max_workers(max_workers).max_tasks_per_child(max_tasks_per_child).build().unwrap()
}

// ---------------------------------------------------------------------------------
// executor.py: ExecutorTest, run by CPython on both pools

on_both_pools!(
    submit_gives_the_jobs_result,
    map_gives_results_in_input_order_with_or_without_chunks,
    map_raises_a_failed_call_at_its_place_and_goes_on,
    map_timeout_raises_at_the_late_call_and_then_ends,
    dropping_map_results_cancels_the_calls_not_yet_started,
    shutdown_returns_with_map_results_never_read,
    max_workers_zero_is_a_value_error,
);

// CPython: executor.py ExecutorTest.test_submit
fn submit_gives_the_jobs_result<P: Pool>() {
    let executor = P::with_workers(5);
    let future = executor.submit(job!(blocks_for(16, 0))).unwrap();
    assert_eq!(block_on(future), Ok(256));
}

// CPython: executor.py ExecutorTest.test_map
fn map_gives_results_in_input_order_with_or_without_chunks<P: Pool>() {
    let executor = P::with_workers(5);
    // Later items block for less, so they tend to finish first: the order is the input's.
    let items: Vec<(u64, u64)> = (0..10).map(|n| (n, (9 - n) * 10)).collect();
    let squares: Vec<u64> = (0..10).map(|n| n * n).collect();
    for chunksize in [1, 3] {
        let results = executor.map_blocks_for(items.clone(), chunksize);
        assert_eq!(block_on(results.collect()), Ok(squares.clone()), "chunksize {chunksize}");
    }
}

// CPython: executor.py ExecutorTest.test_map_exception
fn map_raises_a_failed_call_at_its_place_and_goes_on<P: Pool>() {
    let executor = P::with_workers(5);
    let is_the_overflow = |next: Option<Result<u64, JobError>>| {
        let error = next.expect("an item").expect_err("the call whose square overflows fails");
        assert_eq!(error.python_name(), "JobError");
        assert!(error.to_string().contains("4294967296"), "{error}");
    };
    let mut results = executor.map_blocks_for(vec![(2, 0), (3, 0), (TOO_BIG, 0), (5, 0)], 1);
    assert_eq!(block_on(results.next()), Some(Ok(4)));
    assert_eq!(block_on(results.next()), Some(Ok(9)));
    is_the_overflow(block_on(results.next()));
    assert_eq!(block_on(results.next()), Some(Ok(25)));
    assert_eq!(block_on(results.next()), None);
    assert_eq!(block_on(results.next()), None);

    // The same with chunks of three, the failure inside the first chunk.
    let mut results = executor.map_blocks_for(vec![(2, 0), (TOO_BIG, 0), (3, 0), (5, 0)], 3);
    assert_eq!(block_on(results.next()), Some(Ok(4)));
    is_the_overflow(block_on(results.next()));
    assert_eq!(block_on(results.next()), Some(Ok(9)));
    assert_eq!(block_on(results.next()), Some(Ok(25)));
    assert_eq!(block_on(results.next()), None);
    assert_eq!(block_on(results.next()), None);
}

// CPython: executor.py ExecutorTest.test_map_timeout
fn map_timeout_raises_at_the_late_call_and_then_ends<P: Pool>() {
    let executor = P::with_workers(5);
    let mut results = executor.map_blocks_for(vec![(1, 0), (2, 0), (3, 2_500)], 1).timeout(Duration::from_millis(500));
    assert_eq!(block_on(results.next()), Some(Ok(1)));
    assert_eq!(block_on(results.next()), Some(Ok(4)));
    let error = block_on(results.next()).expect("an item").expect_err("the third call is late");
    assert!(matches!(error, JobError::WaitTimedOut { .. }), "{error:?}");
    assert_eq!(error.python_name(), "TimeoutError");
    assert!(error.to_string().ends_with(" was not done within 0.5 s (it goes on)"), "{error}");
    assert_eq!(block_on(results.next()), None);
    assert_eq!(block_on(results.next()), None);
}

// CPython: executor.py ExecutorTest.test_map_close
fn dropping_map_results_cancels_the_calls_not_yet_started<P: Pool>() {
    let executor = P::with_workers(1);
    let mut results = executor.map_blocks_for(vec![(2, 50), (3, 400), (4, 0), (5, 0)], 1);
    assert_eq!(block_on(results.next()), Some(Ok(4)));
    // Closed while the second call runs and the last two wait behind it.
    wait_until("the second call starts", || executor.records()[1].started.is_some());
    drop(results);
    block_on(executor.shutdown(true, false));
    let records = executor.records();
    let states: Vec<JobState> = records.iter().map(|r| r.state).collect();
    assert_eq!(states, [JobState::Finished, JobState::Finished, JobState::Cancelled, JobState::Cancelled]);
    assert!(records[2..].iter().all(|r| r.started.is_none() && r.worker.is_none()), "{records:#?}");
}

// CPython: executor.py ExecutorTest.test_shutdown_race_issue12456
fn shutdown_returns_with_map_results_never_read<P: Pool>() {
    let executor = P::with_workers(5);
    // As in CPython, the map's results are dropped unread, one call more than workers.
    drop(executor.map_blocks_for((0..6).map(|n| (n, 20)).collect(), 1));
    assert!(within(LIMIT, executor.shutdown(true, false)).is_some(), "shutdown hung");
    let records = executor.records();
    assert_eq!(records.len(), 6);
    assert!(records.iter().all(|r| matches!(r.state, JobState::Finished | JobState::Cancelled)), "{records:#?}");
    assert_eq!(executor.workers().len(), 0);
}

// CPython: executor.py ExecutorTest.test_max_workers_negative
fn max_workers_zero_is_a_value_error<P: Pool>() {
    let error = P::try_with_workers(0).err().expect("max_workers 0 is refused");
    assert_eq!(error.python_name(), "ValueError");
    assert_eq!(error.to_string(), "max_workers must be greater than 0");
}

// ---------------------------------------------------------------------------------
// test_thread_pool.py: ThreadPoolExecutorTest's own tests (threads)

// CPython: test_thread_pool.py ThreadPoolExecutorTest.test_map_submits_without_iteration
#[test]
fn map_runs_every_call_though_its_results_are_never_read() {
    let executor = ThreadPoolExecutor::with_workers(5);
    let finished = Arc::new(Mutex::new(Vec::new()));
    let record = finished.clone();
    // As CPython's test does, the results are let go without being read.
    drop(executor.map(move |n: u64| record.lock().unwrap().push(n), 0..10).unwrap());
    block_on(executor.shutdown(true, false));
    let mut finished = finished.lock().unwrap().clone();
    finished.sort_unstable();
    assert_eq!(finished, (0..10).collect::<Vec<u64>>(), "every call of map runs");
}

// CPython: test_thread_pool.py ThreadPoolExecutorTest.test_default_workers
#[test]
fn default_max_workers_is_the_cores_plus_four_at_most_32() {
    let executor = ThreadPoolExecutor::new().unwrap();
    let cores = std::thread::available_parallelism().unwrap().get();
    assert_eq!(executor.max_workers(), 32.min(cores + 4));
}

// CPython: test_thread_pool.py ThreadPoolExecutorTest.test_saturation
#[test]
fn a_saturated_thread_pool_keeps_to_max_workers() {
    let executor = ThreadPoolExecutor::with_workers(4);
    let gate = Gate::default();
    let futures = gate.held_jobs(&executor, 0..60);
    wait_until("four jobs hold the four workers", || futures.iter().filter(|f| f.running()).count() == 4);
    assert_eq!(executor.workers().len(), 4);
    gate.open();
    assert_eq!(block_on(gather(futures)), Ok((0..60).collect()));
    let workers: BTreeSet<_> = executor.records().into_iter().map(|r| r.worker.unwrap()).collect();
    assert_eq!(workers.len(), 4, "{workers:?}");
    assert_eq!(executor.workers().len(), 4);
}

on_both_pools!(jobs_one_after_another_reuse_one_idle_worker);

// CPython: test_thread_pool.py ThreadPoolExecutorTest.test_idle_thread_reuse
// CPython: test_process_pool.py ProcessPoolExecutorTest.test_idle_process_reuse_one
fn jobs_one_after_another_reuse_one_idle_worker<P: Pool>() {
    let executor = P::with_workers(5);
    let mut workers = BTreeSet::new();
    for n in 1..=3 {
        let future = executor.submit(job!(blocks_for(n, 0))).unwrap();
        block_on(future.settled());
        assert_eq!(future.result(), Some(Ok(n * n)));
        workers.insert(future.worker().unwrap());
    }
    assert_eq!(workers.len(), 1, "{workers:?}");
    assert_eq!(executor.workers().len(), 1);
}

/// CPython's `log_n_wait`: notes its start, blocks, notes its end.
fn log_n_wait(events: &Mutex<Vec<String>>, ident: &str) {
    events.lock().unwrap().push(format!("ident='{ident}' started"));
    std::thread::sleep(Duration::from_millis(300));
    events.lock().unwrap().push(format!("ident='{ident}' stopped"));
}

// CPython: test_thread_pool.py ThreadPoolExecutorTest.test_executor_map_current_future_cancel
#[test]
fn a_map_timeout_cancels_the_late_call_and_the_ones_after_it() {
    let executor = ThreadPoolExecutor::with_workers(1);
    let events = Arc::new(Mutex::new(Vec::new()));
    let first = {
        let events = events.clone();
        executor.submit(move || log_n_wait(&events, "first")).unwrap()
    };
    let mapped = {
        let events = events.clone();
        move |ident: &'static str| log_n_wait(&events, ident)
    };
    let mut results = executor.map(mapped, ["second", "third"]).unwrap().timeout(Duration::ZERO);
    let error = block_on(results.next()).expect("an item").expect_err("no call of the map can be done at once");
    assert_eq!(error.python_name(), "TimeoutError");
    assert_eq!(block_on(first), Ok(()));
    block_on(executor.shutdown(true, false));
    assert_eq!(*events.lock().unwrap(), ["ident='first' started", "ident='first' stopped"]);
    let records = executor.records();
    assert!(records[1..].iter().all(|r| r.state == JobState::Cancelled && r.started.is_none()), "{records:#?}");
}

// ---------------------------------------------------------------------------------
// test_process_pool.py: ProcessPoolExecutorTest's own tests (processes)

// CPython: test_process_pool.py ProcessPoolExecutorTest.test_killed_child
// CPython's pool is broken after the kill; here only the killed worker's job fails.
#[test]
fn a_killed_worker_fails_its_job_and_the_pool_takes_more() {
    let executor = processes(5);
    let victim = executor.submit(job!(blocks_for(1, 2_000))).unwrap();
    block_on(victim.started());
    let Some(Worker::Process(pid)) = victim.worker() else { panic!("a process worker took it") };
    assert!(executor.kill_worker(pid));
    let error = block_on(victim).unwrap_err();
    assert_eq!(error.python_name(), "BrokenProcessPool");
    let expected = format!("{pid} died while running blocks_for(1, 2000): terminated by kill_worker");
    assert!(error.to_string().starts_with(&expected), "{error}");
    assert_eq!(block_on(executor.submit(job!(blocks_for(16, 0))).unwrap()), Ok(256));
}

// CPython: test_process_pool.py ProcessPoolExecutorTest.test_map_chunksize
#[test]
fn map_gives_every_result_in_order_whatever_the_chunk_size() {
    let executor = processes(5);
    let squares: Vec<u64> = (0..40).map(|n| n * n).collect();
    for chunksize in [6, 50, 40] {
        let results = executor.map(|n: u64| job!(blocks_for(n, 0)), 0..40, chunksize).unwrap();
        assert_eq!(block_on(results.collect()), Ok(squares.clone()), "chunksize {chunksize}");
    }
}

// CPython: test_process_pool.py ProcessPoolExecutorTest.test_map_chunksize (its chunksize=-1 case)
#[test]
fn map_with_a_chunk_size_below_one_is_a_value_error() {
    let executor = processes(2);
    let error = executor
        .map(|n: u64| job!(blocks_for(n, 0)), 0..4, 0)
        .err()
        .expect("chunksize 0 is refused, as CPython refuses a chunksize below 1");
    assert_eq!(error.python_name(), "ValueError");
    assert!(error.to_string().starts_with("chunksize must be >= 1"), "{error}");
}

// CPython: test_process_pool.py ProcessPoolExecutorTest.test_saturation
#[test]
fn a_saturated_process_pool_keeps_to_max_workers() {
    let executor = processes(5);
    let futures: Vec<_> = (0..75u64).map(|i| executor.submit(job!(blocks_for(i, 40))).unwrap()).collect();
    assert_eq!(executor.workers().len(), 5);
    assert_eq!(block_on(gather(futures)), Ok((0..75).map(|i| i * i).collect()));
    let workers: BTreeSet<_> = executor.records().into_iter().map(|r| r.worker.unwrap()).collect();
    assert_eq!(workers.len(), 5, "{workers:?}");
    assert_eq!(executor.workers().len(), 5);
}

// CPython: test_process_pool.py ProcessPoolExecutorTest.test_idle_process_reuse_multiple
#[test]
fn jobs_mostly_one_at_a_time_start_few_processes() {
    let executor = processes(5);
    let mut left_running = Vec::new();
    for n in 0..3u64 {
        let awaited = executor.submit(job!(blocks_for(2 * n, 0))).unwrap();
        block_on(awaited.settled());
        assert_eq!(awaited.result(), Some(Ok(4 * n * n)));
        left_running.push(executor.submit(job!(blocks_for(2 * n + 1, 0))).unwrap());
    }
    assert!(executor.workers().len() <= 3, "{} workers", executor.workers().len());
    block_on(executor.shutdown(true, false));
    let results: Vec<_> = left_running.iter().map(|f| f.result()).collect();
    assert_eq!(results, [Some(Ok(1)), Some(Ok(9)), Some(Ok(25))]);
}

// CPython: test_process_pool.py ProcessPoolExecutorTest.test_max_tasks_per_child
#[test]
fn a_worker_is_replaced_after_max_tasks_per_child_jobs() {
    let executor = retiring_processes(1, 3);
    let workers: Vec<Worker> = (1..=4u64)
        .map(|n| {
            let future = executor.submit(job!(blocks_for(n, 0))).unwrap();
            block_on(future.settled());
            assert_eq!(future.result(), Some(Ok(n * n)));
            future.worker().unwrap()
        })
        .collect();
    assert_eq!(workers[0], workers[1]);
    assert_eq!(workers[1], workers[2]);
    assert_ne!(workers[2], workers[3], "a new worker for the fourth job: {workers:?}");
    assert_eq!(executor.workers().len(), 1);
}

// CPython: test_process_pool.py ProcessPoolExecutorTest.test_max_tasks_per_child_pending_tasks_gh115634
#[test]
fn jobs_queued_while_workers_retire_all_run() {
    for (max_workers, max_tasks, n) in [(1, 2, 6u64), (2, 2, 8)] {
        let executor = retiring_processes(max_workers, max_tasks);
        let futures: Vec<_> = (0..n).map(|i| executor.submit(job!(blocks_for(i, 0))).unwrap()).collect();
        for (i, future) in (0..n).zip(&futures) {
            assert_eq!(block_on(future.result_within(Some(LIMIT))), Ok(i * i), "{max_workers} workers, job {i}");
        }
        block_on(executor.shutdown(true, true));
    }
}

// CPython: test_process_pool.py ProcessPoolExecutorTest.test_shutdown_no_wait_max_tasks_gh119592
// (its drop_reference=False case: the executor is kept)
#[test]
fn shutdown_without_waiting_still_replaces_retiring_workers_for_queued_jobs() {
    let executor = retiring_processes(1, 1);
    let futures: Vec<_> = [(0, 300), (1, 0), (2, 0)].into_iter().map(|(n, ms)| executor.submit(job!(blocks_for(n, ms))).unwrap()).collect();
    block_on(futures[0].started());
    drop(executor.shutdown(false, false));
    for (n, future) in (0..3u64).zip(&futures) {
        assert_eq!(block_on(future.result_within(Some(LIMIT))), Ok(n * n), "job {n}");
    }
    let workers: BTreeSet<_> = futures.iter().map(|f| f.worker().unwrap()).collect();
    assert_eq!(workers.len(), 3, "one worker per job: {workers:?}");
    assert!(within(LIMIT, executor.shutdown(true, false)).is_some(), "the last worker never left");
}

// CPython: test_process_pool.py ProcessPoolExecutorTest.test_max_tasks_early_shutdown
#[test]
fn jobs_queued_before_shutdown_run_though_each_worker_retires_after_one() {
    let executor = retiring_processes(3, 1);
    let futures: Vec<_> = (0..6u64).map(|i| executor.submit(job!(blocks_for(i, 0))).unwrap()).collect();
    assert!(within(LIMIT, executor.shutdown(true, false)).is_some(), "shutdown hung");
    let results: Vec<_> = futures.iter().map(|f| f.result()).collect();
    assert_eq!(results, (0..6u64).map(|i| Some(Ok(i * i))).collect::<Vec<_>>());
    let workers: BTreeSet<_> = futures.iter().map(|f| f.worker().unwrap()).collect();
    assert_eq!(workers.len(), 6, "{workers:?}");
}

// CPython: test_process_pool.py ProcessPoolExecutorTest.test_force_shutdown_workers
// (kill_worker(pid) in place of kill_workers() and terminate_workers())
#[test]
fn a_killed_workers_job_never_finishes_after_the_kill() {
    let executor = processes(1);
    let future = executor.submit(job!(blocks_for(1, 400))).unwrap();
    block_on(future.started());
    let Some(Worker::Process(pid)) = future.worker() else { panic!("a process worker took it") };
    assert!(executor.kill_worker(pid));
    assert!(future.failed(), "the kill fails the job at once");
    // Past the time the job would have ended: nothing it might still report counts.
    std::thread::sleep(Duration::from_millis(700));
    match future.result() {
        Some(Err(JobError::WorkerDied { worker, .. })) => assert_eq!(worker, Worker::Process(pid)),
        other => panic!("expected the worker's death, got {other:?}"),
    }
    assert_eq!(future.record().result, None);
    assert!(!executor.worker_pids().contains(&pid));
}

// CPython: test_process_pool.py ProcessPoolExecutorTest.test_force_shutdown_workers_dead_workers
// (a worker already gone, killed again)
#[test]
fn killing_a_worker_already_gone_is_refused_and_the_pool_goes_on() {
    let executor = processes(2);
    let future = executor.submit(job!(blocks_for(1, 2_000))).unwrap();
    block_on(future.started());
    let Some(Worker::Process(pid)) = future.worker() else { panic!("a process worker took it") };
    assert!(executor.kill_worker(pid));
    assert_eq!(block_on(future).unwrap_err().python_name(), "BrokenProcessPool");
    assert!(!executor.kill_worker(pid), "no such worker any more");
    assert_eq!(block_on(executor.submit(job!(blocks_for(2, 0))).unwrap()), Ok(4));
}

// ---------------------------------------------------------------------------------
// test_shutdown.py

on_both_pools!(
    submit_after_shutdown_is_a_runtime_error,
    shutdown_waits_for_fifty_queued_jobs,
    shutdown_with_cancel_futures_cancels_only_the_queued_jobs,
    shutdown_right_after_a_cancel_does_not_hang,
    map_then_shutdown_as_a_with_block_leaves_no_worker,
    dropping_the_executor_lets_its_map_finish_and_its_workers_exit,
    shutdown_without_waiting_lets_the_map_finish,
);

// CPython: test_shutdown.py ExecutorShutdownTest.test_run_after_shutdown
fn submit_after_shutdown_is_a_runtime_error<P: Pool>() {
    let executor = P::with_workers(5);
    block_on(executor.shutdown(true, false));
    let error = executor.submit(job!(blocks_for(2, 0))).unwrap_err();
    assert_eq!(error.python_name(), "RuntimeError");
    assert_eq!(error.to_string(), "cannot schedule new futures after shutdown");
}

// CPython: test_shutdown.py ExecutorShutdownTest.test_hang_issue12364
fn shutdown_waits_for_fifty_queued_jobs<P: Pool>() {
    let executor = P::with_workers(5);
    let futures: Vec<_> = (0..50u64).map(|k| executor.submit(job!(blocks_for(k, 50))).unwrap()).collect();
    assert!(within(LIMIT, executor.shutdown(true, false)).is_some(), "shutdown hung");
    for (k, future) in (0..50u64).zip(&futures) {
        assert_eq!(future.result(), Some(Ok(k * k)), "job {k}");
    }
}

// CPython: test_shutdown.py ExecutorShutdownTest.test_cancel_futures
fn shutdown_with_cancel_futures_cancels_only_the_queued_jobs<P: Pool>() {
    let executor = P::with_workers(5);
    let futures: Vec<_> = (0..50u64).map(|k| executor.submit(job!(blocks_for(k, 100))).unwrap()).collect();
    // CPython's workers take jobs as they come. A cold process pool here keeps its first
    // jobs queued until its workers are up, so shut down once one job has started.
    block_on(futures[0].started());
    block_on(executor.shutdown(true, true));
    let cancelled = futures.iter().filter(|f| f.cancelled()).count();
    assert!(cancelled > 20, "only {cancelled} cancelled");
    assert!(cancelled < 50, "every job was cancelled, the running ones too");
    for future in futures.iter().filter(|f| !f.cancelled()) {
        assert!(future.done());
        assert_eq!(block_on(future.exception(Some(Duration::ZERO))), Ok(None), "{future:?}");
    }
}

// CPython: test_shutdown.py ExecutorShutdownTest.test_hang_gh94440
fn shutdown_right_after_a_cancel_does_not_hang<P: Pool>() {
    let executor = P::with_workers(1);
    assert_eq!(block_on(executor.submit(job!(blocks_for(1, 0))).unwrap()), Ok(1));
    let late = executor.submit(job!(blocks_for(2, 0))).unwrap();
    // The idle worker may take it first, as in CPython.
    late.cancel();
    assert!(within(LIMIT, executor.shutdown(true, false)).is_some(), "shutdown hung");
    assert!(late.cancelled() || late.result() == Some(Ok(4)), "{late:?}");
    assert_eq!(executor.workers().len(), 0);
}

// CPython: test_shutdown.py ThreadPoolShutdownTest.test_context_manager_shutdown
// CPython: test_shutdown.py ProcessPoolShutdownTest.test_context_manager_shutdown
fn map_then_shutdown_as_a_with_block_leaves_no_worker<P: Pool>() {
    let values: [u64; 10] = [5, 4, 3, 2, 1, 0, 1, 2, 3, 4];
    let threads = {
        let executor = P::with_workers(5);
        let results = executor.map_blocks_for(values.map(|v| (v, 0)).to_vec(), 1);
        assert_eq!(block_on(results.collect()), Ok(values.map(|v| v * v).to_vec()));
        let threads = executor.worker_threads();
        // The end of `with`: shutdown(wait=True).
        block_on(executor.shutdown(true, false));
        assert_eq!(executor.workers().len(), 0);
        threads
    };
    wait_for_threads_to_exit(&threads);
}

// CPython: test_shutdown.py ThreadPoolShutdownTest.test_del_shutdown
// CPython: test_shutdown.py ProcessPoolShutdownTest.test_del_shutdown
fn dropping_the_executor_lets_its_map_finish_and_its_workers_exit<P: Pool>() {
    let values: [u64; 10] = [5, 4, 3, 2, 1, 0, 1, 2, 3, 4];
    let executor = P::with_workers(5);
    let results = executor.map_blocks_for(values.map(|v| (v, 20)).to_vec(), 1);
    let threads = executor.worker_threads();
    assert!(!threads.is_empty());
    drop(executor);
    assert_eq!(block_on(results.collect()), Ok(values.map(|v| v * v).to_vec()));
    wait_for_threads_to_exit(&threads);
}

// CPython: test_shutdown.py ThreadPoolShutdownTest.test_shutdown_no_wait
// CPython: test_shutdown.py ProcessPoolShutdownTest.test_shutdown_no_wait
fn shutdown_without_waiting_lets_the_map_finish<P: Pool>() {
    let values: [u64; 10] = [5, 4, 3, 2, 1, 0, 1, 2, 3, 4];
    let executor = P::with_workers(5);
    let results = executor.map_blocks_for(values.map(|v| (v, 20)).to_vec(), 1);
    let threads = executor.worker_threads();
    drop(executor.shutdown(false, false));
    assert_eq!(block_on(results.collect()), Ok(values.map(|v| v * v).to_vec()));
    wait_for_threads_to_exit(&threads);
    assert_eq!(executor.workers().len(), 0);
}

// CPython: test_shutdown.py ThreadPoolShutdownTest.test_threads_terminate
#[test]
fn busy_thread_workers_finish_then_exit_at_shutdown() {
    let executor = ThreadPoolExecutor::with_workers(5);
    let gate = Gate::default();
    let futures = gate.held_jobs(&executor, 0..3);
    wait_until("three jobs hold three workers", || futures.iter().all(JobFuture::running));
    assert_eq!(executor.workers().len(), 3);
    let threads = executor.worker_threads();
    gate.open();
    assert!(within(LIMIT, executor.shutdown(true, false)).is_some(), "shutdown hung");
    assert_eq!(executor.workers().len(), 0);
    assert!(futures.iter().all(|f| f.result().is_some_and(|r| r.is_ok())));
    wait_for_threads_to_exit(&threads);
}

// CPython: test_shutdown.py ProcessPoolShutdownTest.test_processes_terminate
#[test]
fn busy_process_workers_finish_then_exit_at_shutdown() {
    let executor = processes(5);
    let futures: Vec<_> = (0..3u64).map(|i| executor.submit(job!(blocks_for(i, 300))).unwrap()).collect();
    // Workers start as jobs come (CPython's fork context starts all five at once).
    assert_eq!(executor.workers().len(), 3);
    let threads = executor.worker_threads();
    assert!(within(LIMIT, executor.shutdown(true, false)).is_some(), "shutdown hung");
    assert_eq!(executor.workers().len(), 0);
    let results: Vec<_> = futures.iter().map(|f| f.result()).collect();
    assert_eq!(results, [Some(Ok(0)), Some(Ok(1)), Some(Ok(4))]);
    wait_for_threads_to_exit(&threads);
}

/// The host thread names (and the log's thread names) of ten jobs on `executor`,
/// five of them held together so that five workers start.
fn thread_names_of_jobs(executor: &ThreadPoolExecutor) -> BTreeSet<String> {
    let gate = Gate::default();
    let futures: Vec<_> = (0..10)
        .map(|_| {
            let gate = gate.clone();
            executor
                .submit(move || {
                    gate.wait();
                    let os_name = std::thread::current().name().unwrap_or_default().to_owned();
                    assert_eq!(os_name, *log::current_thread_name(), "the log names the thread as the system does");
                    os_name
                })
                .unwrap()
        })
        .collect();
    wait_until("five jobs hold five workers", || futures.iter().filter(|f| f.running()).count() == 5);
    gate.open();
    block_on(gather(futures)).unwrap().into_iter().collect()
}

/// `{prefix}_{k}` with k in 0..5.
fn is_worker_name(name: &str, prefix: &str) -> bool {
    name.strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('_'))
        .is_some_and(|k| k.len() == 1 && ('0'..='4').contains(&k.chars().next().unwrap()))
}

// CPython: test_shutdown.py ThreadPoolShutdownTest.test_thread_names_assigned
#[test]
fn worker_threads_are_named_after_the_given_prefix() {
    let executor = ThreadPoolExecutor::builder().max_workers(5).thread_name_prefix("SpecialPool").build().unwrap();
    let names = thread_names_of_jobs(&executor);
    assert_eq!(names.len(), 5, "{names:?}");
    assert!(names.iter().all(|name| is_worker_name(name, "SpecialPool")), "{names:?}");
}

// CPython: test_shutdown.py ThreadPoolShutdownTest.test_thread_names_default
#[test]
fn worker_threads_are_named_after_the_executor_by_default() {
    let executor = ThreadPoolExecutor::builder().max_workers(5).build().unwrap();
    let number = executor.name().strip_prefix("ThreadPoolExecutor-").expect("the default name");
    assert!(!number.is_empty() && number.chars().all(|c| c.is_ascii_digit()), "{}", executor.name());
    let names = thread_names_of_jobs(&executor);
    assert_eq!(names.len(), 5, "{names:?}");
    assert!(names.iter().all(|name| is_worker_name(name, executor.name())), "{names:?}");
}

/// CPython's gh-132969 cases: with one job per worker, the results are summed until
/// the first failure, and the pool shut down without waiting must neither crash nor
/// hang.
fn shutdown_without_waiting_after_a_failure(max_workers: usize) {
    let executor = retiring_processes(max_workers, 1);
    let futures = vec![
        executor.submit(job!(blocks_for(1, 100))).unwrap(),
        executor.submit(fails("failing task")).unwrap(),
        executor.submit(job!(blocks_for(3, 300))).unwrap(),
    ];
    let mut sum = 0;
    for future in &futures {
        match block_on(future.result_within(None)) {
            Ok(value) => sum += value,
            Err(error) => {
                assert_eq!(panic_message(&error), "failing task");
                break;
            }
        }
    }
    assert_eq!(sum, 1);
    drop(executor.shutdown(false, false));
    assert_eq!(block_on(futures[2].result_within(Some(LIMIT))), Ok(9));
    assert!(within(LIMIT, executor.shutdown(true, false)).is_some(), "the workers never left");
    assert_eq!(executor.workers().len(), 0);
}

// CPython: test_shutdown.py ProcessPoolShutdownTest.test_shutdown_gh_132969_case_1
#[test]
fn shutdown_without_waiting_after_a_failure_on_two_retiring_workers() {
    shutdown_without_waiting_after_a_failure(2);
}

// CPython: test_shutdown.py ProcessPoolShutdownTest.test_shutdown_gh_132969_case_2
#[test]
fn shutdown_without_waiting_after_a_failure_on_four_retiring_workers() {
    shutdown_without_waiting_after_a_failure(4);
}

// ---------------------------------------------------------------------------------
// test_wait.py: WaitTests, run by CPython on both pools

on_both_pools!(
    wait_first_completed_returns_the_first_job_to_finish,
    wait_first_completed_returns_at_once_with_the_jobs_already_done,
    wait_first_exception_returns_at_the_failure_with_what_finished_before,
    wait_first_exception_counts_the_jobs_already_done,
    wait_first_exception_returns_at_once_with_a_job_already_failed,
    wait_all_completed_returns_every_job_done,
    wait_timeout_returns_the_unfinished_without_cancelling_them,
);

// CPython: test_wait.py WaitTests.test_first_completed
fn wait_first_completed_returns_the_first_job_to_finish<P: Pool>() {
    let executor = P::with_workers(5);
    let futures = vec![executor.submit(job!(blocks_for(6, 0))).unwrap(), executor.submit(job!(blocks_for(1, HOLD_MS))).unwrap()];
    let waited = block_on(wait(&futures, ReturnWhen::FirstCompleted, None)).unwrap();
    assert_eq!(sets(&waited), (vec![futures[0].id()], vec![futures[1].id()]));
    assert_eq!(futures[0].result(), Some(Ok(36)));
}

// CPython: test_wait.py WaitTests.test_first_completed_some_already_completed
fn wait_first_completed_returns_at_once_with_the_jobs_already_done<P: Pool>() {
    let Fixtures { pool: _fixtures, cancelled, succeeded, .. } = fixtures::<P>();
    let executor = P::with_workers(5);
    let futures = vec![cancelled, succeeded, executor.submit(job!(blocks_for(1, HOLD_MS))).unwrap()];
    let waited = block_on(wait(&futures, ReturnWhen::FirstCompleted, None)).unwrap();
    assert_eq!(sets(&waited), (ids(&futures[..2]), vec![futures[2].id()]));
}

// CPython: test_wait.py WaitTests.test_first_exception
fn wait_first_exception_returns_at_the_failure_with_what_finished_before<P: Pool>() {
    // One worker runs them in order: the first finishes, the second fails, and the
    // third is still to come (CPython orders them with events).
    let executor = P::with_workers(1);
    let futures = vec![
        executor.submit(job!(blocks_for(6, 50))).unwrap(),
        executor.submit(fails("this is an exception")).unwrap(),
        executor.submit(job!(blocks_for(1, HOLD_MS))).unwrap(),
    ];
    let waited = block_on(wait(&futures, ReturnWhen::FirstException, None)).unwrap();
    assert_eq!(sets(&waited), (ids(&futures[..2]), vec![futures[2].id()]));
    assert_eq!(futures[0].result(), Some(Ok(36)));
    let error = futures[1].result().unwrap().unwrap_err();
    assert_eq!(panic_message(&error), "this is an exception");
}

// CPython: test_wait.py WaitTests.test_first_exception_some_already_complete
fn wait_first_exception_counts_the_jobs_already_done<P: Pool>() {
    let Fixtures { pool: _fixtures, succeeded, cancelled, .. } = fixtures::<P>();
    let executor = P::with_workers(5);
    let futures = vec![
        succeeded,
        cancelled,
        executor.submit(fails("divided by zero")).unwrap(),
        executor.submit(job!(blocks_for(1, HOLD_MS))).unwrap(),
    ];
    let waited = block_on(wait(&futures, ReturnWhen::FirstException, None)).unwrap();
    assert_eq!(sets(&waited), (ids(&futures[..3]), vec![futures[3].id()]));
}

// CPython: test_wait.py WaitTests.test_first_exception_one_already_failed
fn wait_first_exception_returns_at_once_with_a_job_already_failed<P: Pool>() {
    let Fixtures { pool: _fixtures, failed, .. } = fixtures::<P>();
    let executor = P::with_workers(5);
    let futures = vec![failed, executor.submit(job!(blocks_for(1, HOLD_MS))).unwrap()];
    let waited = block_on(wait(&futures, ReturnWhen::FirstException, None)).unwrap();
    assert_eq!(sets(&waited), (vec![futures[0].id()], vec![futures[1].id()]));
}

// CPython: test_wait.py WaitTests.test_all_completed
fn wait_all_completed_returns_every_job_done<P: Pool>() {
    let Fixtures { pool: _fixtures, succeeded, cancelled, failed, .. } = fixtures::<P>();
    let executor = P::with_workers(5);
    let futures = vec![
        succeeded,
        cancelled,
        failed,
        executor.submit(fails("divided by zero")).unwrap(),
        executor.submit(job!(blocks_for(7, 0))).unwrap(),
    ];
    let waited = block_on(wait(&futures, ReturnWhen::AllCompleted, None)).unwrap();
    assert_eq!(sets(&waited), (ids(&futures), vec![]));
}

// CPython: test_wait.py WaitTests.test_timeout
fn wait_timeout_returns_the_unfinished_without_cancelling_them<P: Pool>() {
    let Fixtures { pool: _fixtures, cancelled, failed, succeeded, .. } = fixtures::<P>();
    let executor = P::with_workers(5);
    let futures = vec![cancelled, failed, succeeded, executor.submit(job!(blocks_for(1, 600))).unwrap()];
    let waited = block_on(wait(&futures, ReturnWhen::AllCompleted, Some(Duration::from_millis(50)))).unwrap();
    assert_eq!(sets(&waited), (ids(&futures[..3]), vec![futures[3].id()]));
    assert!(!futures[3].cancelled());
    assert_eq!(block_on(futures[3].result_within(Some(LIMIT))), Ok(1), "the job went on after the timeout");
}

// CPython: test_wait.py ThreadPoolWaitTests.test_pending_calls_race
#[test]
fn wait_all_completed_sees_a_hundred_jobs_released_at_once() {
    let executor = ThreadPoolExecutor::with_workers(5);
    let gate = Gate::default();
    let futures = gate.held_jobs(&executor, 0..100);
    gate.open();
    let waited = block_on(wait(&futures, ReturnWhen::AllCompleted, None)).unwrap();
    assert_eq!(sets(&waited), (ids(&futures), vec![]));
    let values: BTreeSet<u64> = waited.done.iter().map(|f| f.result().unwrap().unwrap()).collect();
    assert_eq!(values, (0..100).collect());
}

// ---------------------------------------------------------------------------------
// test_as_completed.py: AsCompletedTests, run by CPython on both pools

on_both_pools!(
    as_completed_gives_each_job_once,
    as_completed_gives_the_jobs_already_done_then_times_out,
    as_completed_timeout_counts_the_unfinished_jobs,
);

/// Every job `as_completed` gives until it ends or times out: their ids, and the
/// timeout error if there was one.
fn drain<T: Send + 'static>(futures: &[JobFuture<T>], timeout: Option<Duration>) -> (Vec<u64>, Option<web_executors::WaitError>) {
    let mut completed = as_completed(futures, timeout);
    let mut given = Vec::new();
    let error = loop {
        match block_on(completed.next()) {
            Some(Ok(future)) => given.push(future.id()),
            Some(Err(error)) => break Some(error),
            None => break None,
        }
    };
    assert!(block_on(completed.next()).is_none(), "nothing after the end or the timeout");
    (given, error)
}

// CPython: test_as_completed.py AsCompletedTests.test_no_timeout
fn as_completed_gives_each_job_once<P: Pool>() {
    let Fixtures { pool: _fixtures, cancelled, failed, succeeded, .. } = fixtures::<P>();
    let executor = P::with_workers(5);
    let futures = vec![
        cancelled,
        failed,
        succeeded,
        executor.submit(job!(blocks_for(7, 0))).unwrap(),
        executor.submit(job!(blocks_for(8, 0))).unwrap(),
    ];
    let (mut given, error) = drain(&futures, None);
    assert_eq!(error, None);
    given.sort_unstable();
    assert_eq!(given, ids(&futures));
}

// CPython: test_as_completed.py AsCompletedTests.test_future_times_out
fn as_completed_gives_the_jobs_already_done_then_times_out<P: Pool>() {
    for timeout in [Duration::ZERO, Duration::from_millis(100)] {
        let Fixtures { pool: _fixtures, cancelled, failed, succeeded, .. } = fixtures::<P>();
        let executor = P::with_workers(5);
        let futures = vec![cancelled, failed, succeeded, executor.submit(job!(blocks_for(1, HOLD_MS))).unwrap()];
        let (mut given, error) = drain(&futures, Some(timeout));
        given.sort_unstable();
        assert_eq!(given, ids(&futures[..3]), "timeout {timeout:?}");
        let error = error.expect("the slow job times out");
        assert_eq!(error.python_name(), "TimeoutError");
        assert_eq!(error.to_string(), "1 (of 4) futures unfinished");
    }
}

// CPython: test_as_completed.py AsCompletedTests.test_correct_timeout_exception_msg
fn as_completed_timeout_counts_the_unfinished_jobs<P: Pool>() {
    let Fixtures { pool: _fixtures, cancelled, pending, running, succeeded, .. } = fixtures::<P>();
    let futures = vec![cancelled, pending, running, succeeded];
    let (mut given, error) = drain(&futures, Some(Duration::ZERO));
    given.sort_unstable();
    assert_eq!(given, ids([&futures[0], &futures[3]]));
    let error = error.expect("two jobs are not done");
    assert_eq!(error.python_name(), "TimeoutError");
    assert_eq!(error.to_string(), "2 (of 4) futures unfinished");
}

// ---------------------------------------------------------------------------------
// test_future.py: FutureTests, on bare futures in CPython; here on jobs of each pool

on_both_pools!(
    a_done_callback_added_before_the_end_gets_the_job_and_its_result,
    a_done_callback_added_before_a_failure_gets_the_error,
    cancel_calls_the_done_callback_before_it_returns,
    a_panicking_done_callback_does_not_stop_the_next_one,
    a_done_callback_on_a_finished_job_runs_at_once,
    a_done_callback_on_a_failed_job_runs_at_once,
    a_done_callback_on_a_cancelled_job_runs_at_once,
    a_panicking_done_callback_on_a_finished_job_is_caught,
    cancel_succeeds_only_before_a_worker_takes_the_job,
    cancelled_is_true_only_for_a_cancelled_job,
    done_is_true_once_a_job_finished_or_was_cancelled,
    running_is_true_only_while_a_worker_runs_the_job,
    result_with_a_zero_timeout_in_every_state,
    result_waits_for_a_job_that_finishes_in_time,
    result_is_cancelled_when_the_job_is_cancelled_during_the_wait,
    exception_with_a_zero_timeout_in_every_state,
    exception_waits_for_a_job_that_fails_in_time,
);

/// A one-worker pool busy for `ms` with a first job, and `call` queued behind it.
fn queued_behind<P: Pool>(ms: u64, call: web_executors::Call<u64>) -> (P, JobFuture<u64>) {
    let pool = P::with_workers(1);
    pool.submit(job!(blocks_for(0, ms))).unwrap();
    let queued = pool.submit(call).unwrap();
    (pool, queued)
}

/// What a done callback saw: the job it was given, and that job's outcome.
type Seen = Arc<Mutex<Option<(u64, Option<Result<u64, JobError>>, bool)>>>;

/// A callback that notes what it is given in `seen`.
fn noting(seen: &Seen) -> impl FnOnce(&JobFuture<u64>) + Send + 'static {
    let seen = seen.clone();
    move |future| *seen.lock().unwrap() = Some((future.id(), future.result(), future.cancelled()))
}

// CPython: test_future.py FutureTests.test_done_callback_with_result
fn a_done_callback_added_before_the_end_gets_the_job_and_its_result<P: Pool>() {
    let (_pool, future) = queued_behind::<P>(300, job!(blocks_for(5, 0)));
    let seen = Seen::default();
    future.add_done_callback(noting(&seen));
    assert!(seen.lock().unwrap().is_none(), "not called before the job is done");
    block_on(future.settled());
    // Waiters are woken as the job settles, then its callbacks run (CPython's order).
    wait_until("the callback runs", || seen.lock().unwrap().is_some());
    assert_eq!(*seen.lock().unwrap(), Some((future.id(), Some(Ok(25)), false)));
}

// CPython: test_future.py FutureTests.test_done_callback_with_exception
fn a_done_callback_added_before_a_failure_gets_the_error<P: Pool>() {
    let (_pool, future) = queued_behind::<P>(300, fails("test"));
    let seen = Seen::default();
    future.add_done_callback(noting(&seen));
    block_on(future.settled());
    wait_until("the callback runs", || seen.lock().unwrap().is_some());
    let (id, outcome, _) = seen.lock().unwrap().clone().expect("the callback ran");
    assert_eq!(id, future.id());
    assert_eq!(panic_message(&outcome.unwrap().unwrap_err()), "test");
}

// CPython: test_future.py FutureTests.test_done_callback_with_cancel
fn cancel_calls_the_done_callback_before_it_returns<P: Pool>() {
    let (_pool, future) = queued_behind::<P>(HOLD_MS, job!(blocks_for(5, 0)));
    let seen = Seen::default();
    future.add_done_callback(noting(&seen));
    assert!(future.cancel());
    assert_eq!(*seen.lock().unwrap(), Some((future.id(), Some(Err(JobError::Cancelled)), true)));
}

// CPython: test_future.py FutureTests.test_done_callback_raises
fn a_panicking_done_callback_does_not_stop_the_next_one<P: Pool>() {
    let (pool, future) = queued_behind::<P>(300, job!(blocks_for(5, 0)));
    let (raising_called, fn_called) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicBool::new(false)));
    let raising = raising_called.clone();
    future.add_done_callback(move |_| {
        raising.store(true, Ordering::SeqCst);
        panic!("doh!")
    });
    let called = fn_called.clone();
    future.add_done_callback(move |_| called.store(true, Ordering::SeqCst));
    block_on(future.settled());
    wait_until("the second callback runs", || fn_called.load(Ordering::SeqCst));
    assert!(raising_called.load(Ordering::SeqCst));
    assert_eq!(future.result(), Some(Ok(25)));
    // The callbacks ran where the job settled; that place goes on working.
    assert_eq!(block_on(pool.submit(job!(blocks_for(3, 0))).unwrap()), Ok(9));
}

// CPython: test_future.py FutureTests.test_done_callback_already_successful
fn a_done_callback_on_a_finished_job_runs_at_once<P: Pool>() {
    let fx = fixtures::<P>();
    let seen = Seen::default();
    fx.succeeded.add_done_callback(noting(&seen));
    assert_eq!(*seen.lock().unwrap(), Some((fx.succeeded.id(), Some(Ok(36)), false)));
}

// CPython: test_future.py FutureTests.test_done_callback_already_failed
fn a_done_callback_on_a_failed_job_runs_at_once<P: Pool>() {
    let fx = fixtures::<P>();
    let seen = Seen::default();
    fx.failed.add_done_callback(noting(&seen));
    let (id, outcome, _) = seen.lock().unwrap().clone().expect("called at once");
    assert_eq!(id, fx.failed.id());
    assert_eq!(panic_message(&outcome.unwrap().unwrap_err()), FIXTURE_ERROR);
}

// CPython: test_future.py FutureTests.test_done_callback_already_cancelled
fn a_done_callback_on_a_cancelled_job_runs_at_once<P: Pool>() {
    let fx = fixtures::<P>();
    let seen = Seen::default();
    fx.cancelled.add_done_callback(noting(&seen));
    assert_eq!(*seen.lock().unwrap(), Some((fx.cancelled.id(), Some(Err(JobError::Cancelled)), true)));
}

// CPython: test_future.py FutureTests.test_done_callback_raises_already_succeeded
// (CPython reads the logged traceback; here: the panic stays in the callback)
fn a_panicking_done_callback_on_a_finished_job_is_caught<P: Pool>() {
    let fx = fixtures::<P>();
    fx.succeeded.add_done_callback(|_| panic!("doh!"));
    let seen = Seen::default();
    fx.succeeded.add_done_callback(noting(&seen));
    assert_eq!(*seen.lock().unwrap(), Some((fx.succeeded.id(), Some(Ok(36)), false)));
}

// CPython: test_future.py FutureTests.test_cancel
fn cancel_succeeds_only_before_a_worker_takes_the_job<P: Pool>() {
    let fx = fixtures::<P>();
    assert!(fx.pending.cancel());
    assert_eq!(fx.pending.state(), JobState::Cancelled);
    assert!(!fx.running.cancel());
    assert_eq!(fx.running.state(), JobState::Running);
    assert!(fx.cancelled.cancel(), "cancelling a cancelled job again succeeds");
    assert_eq!(fx.cancelled.state(), JobState::Cancelled);
    assert!(!fx.failed.cancel());
    assert_eq!(fx.failed.state(), JobState::Finished);
    assert!(!fx.succeeded.cancel());
    assert_eq!(fx.succeeded.state(), JobState::Finished);
    assert_eq!(fx.succeeded.result(), Some(Ok(36)));
}

/// `check` of each fixture, in the order pending, running, cancelled, failed, succeeded.
fn of_each_fixture<P: Pool>(check: impl Fn(&JobFuture<u64>) -> bool) -> [bool; 5] {
    let fx = fixtures::<P>();
    [&fx.pending, &fx.running, &fx.cancelled, &fx.failed, &fx.succeeded].map(check)
}

// CPython: test_future.py FutureTests.test_cancelled
fn cancelled_is_true_only_for_a_cancelled_job<P: Pool>() {
    assert_eq!(of_each_fixture::<P>(JobFuture::cancelled), [false, false, true, false, false]);
}

// CPython: test_future.py FutureTests.test_done
fn done_is_true_once_a_job_finished_or_was_cancelled<P: Pool>() {
    assert_eq!(of_each_fixture::<P>(JobFuture::done), [false, false, true, true, true]);
}

// CPython: test_future.py FutureTests.test_running
fn running_is_true_only_while_a_worker_runs_the_job<P: Pool>() {
    assert_eq!(of_each_fixture::<P>(JobFuture::running), [false, true, false, false, false]);
}

/// Asserts that `error` is the timeout of a wait for a job's result.
fn is_a_wait_timeout(error: &JobError) {
    assert!(matches!(error, JobError::WaitTimedOut { timeout, .. } if timeout.is_zero()), "{error:?}");
    assert_eq!(error.python_name(), "TimeoutError");
}

// CPython: test_future.py FutureTests.test_result_with_timeout
fn result_with_a_zero_timeout_in_every_state<P: Pool>() {
    let fx = fixtures::<P>();
    let result = |future: &JobFuture<u64>| block_on(future.result_within(Some(Duration::ZERO)));
    is_a_wait_timeout(&result(&fx.pending).unwrap_err());
    is_a_wait_timeout(&result(&fx.running).unwrap_err());
    let cancelled = result(&fx.cancelled).unwrap_err();
    assert_eq!(cancelled, JobError::Cancelled);
    assert_eq!(cancelled.python_name(), "CancelledError");
    assert_eq!(panic_message(&result(&fx.failed).unwrap_err()), FIXTURE_ERROR);
    assert_eq!(result(&fx.succeeded), Ok(36));
    // A wait that timed out leaves the job as it was.
    assert_eq!((fx.pending.state(), fx.running.state()), (JobState::Pending, JobState::Running));
}

// CPython: test_future.py FutureTests.test_result_with_success
fn result_waits_for_a_job_that_finishes_in_time<P: Pool>() {
    let executor = P::with_workers(1);
    let future = executor.submit(job!(blocks_for(6, 300))).unwrap();
    assert_eq!(block_on(future.result_within(Some(LIMIT))), Ok(36));
}

// CPython: test_future.py FutureTests.test_result_with_cancel
fn result_is_cancelled_when_the_job_is_cancelled_during_the_wait<P: Pool>() {
    let (_pool, future) = queued_behind::<P>(HOLD_MS, job!(blocks_for(5, 0)));
    let outcome = std::thread::scope(|scope| {
        scope.spawn(|| {
            std::thread::sleep(Duration::from_millis(200));
            assert!(future.cancel(), "still queued behind the first job");
        });
        block_on(future.result_within(Some(LIMIT)))
    });
    assert_eq!(outcome, Err(JobError::Cancelled));
}

// CPython: test_future.py FutureTests.test_exception_with_timeout
fn exception_with_a_zero_timeout_in_every_state<P: Pool>() {
    let fx = fixtures::<P>();
    let exception = |future: &JobFuture<u64>| block_on(future.exception(Some(Duration::ZERO)));
    is_a_wait_timeout(&exception(&fx.pending).unwrap_err());
    is_a_wait_timeout(&exception(&fx.running).unwrap_err());
    assert_eq!(exception(&fx.cancelled), Err(JobError::Cancelled));
    let failure = exception(&fx.failed).expect("a failed job's error is returned, not raised");
    assert_eq!(panic_message(&failure.expect("an error")), FIXTURE_ERROR);
    assert_eq!(exception(&fx.succeeded), Ok(None));
}

// CPython: test_future.py FutureTests.test_exception_with_success
fn exception_waits_for_a_job_that_fails_in_time<P: Pool>() {
    let (_pool, future) = queued_behind::<P>(300, fails("late failure"));
    let error = block_on(future.exception(Some(LIMIT))).unwrap().expect("the job failed");
    assert_eq!(panic_message(&error), "late failure");
    assert_eq!(error.python_name(), "JobError");
}

// ---------------------------------------------------------------------------------
// test_init.py, run by CPython on both pools

on_both_pools!(an_initializer_runs_in_each_worker_before_its_jobs, a_failing_initializer_breaks_the_pool);

// CPython: test_init.py InitializerMixin.test_initializer
fn an_initializer_runs_in_each_worker_before_its_jobs<P: Pool>() {
    // CPython's `init(x)` sets a global that `get_init_status()` reads; here the
    // registered `set_worker_value(x)` keeps x in the worker, and `worker_value()` reads it.
    let executor = P::with_initializer(2, "set_worker_value", vec![Value::from("initialized")]);
    let futures: Vec<_> = (0..2).map(|_| executor.submit(job!(worker_value())).unwrap()).collect();
    let initialized = Some("initialized".to_owned());
    assert_eq!(block_on(gather(futures)), Ok(vec![initialized.clone(), initialized]));
    assert_eq!(worker_value(), None, "set in the workers only");
}

// CPython: test_init.py FailingInitializerMixin.test_initializer
fn a_failing_initializer_breaks_the_pool<P: Pool>() {
    let executor = P::with_initializer(2, "panics", vec![Value::from("error in initializer")]);
    // The submit may come before or after the pool is found broken, as in CPython.
    match executor.submit(job!(worker_value())) {
        Ok(future) => {
            let error = block_on(future).unwrap_err();
            assert_eq!(error.python_name(), P::BROKEN);
            assert!(error.to_string().ends_with("error in initializer"), "{error}");
        }
        Err(error) => assert_eq!(error.python_name(), P::BROKEN),
    }
    let refused = executor.submit(job!(worker_value())).unwrap_err();
    assert_eq!(refused.python_name(), P::BROKEN);
    assert!(refused.to_string().ends_with("error in initializer"), "{refused}");
}

// CPython: test_init.py FailingInitializerMixin.test_initializer (threads: CPython's
// init_fail, which waits 0.1 s before it raises, so the job is queued first)
#[test]
fn a_thread_initializer_that_fails_late_fails_the_queued_job_with_pythons_words() {
    let executor = ThreadPoolExecutor::builder()
        .max_workers(2)
        .initializer("init_fail()", || {
            std::thread::sleep(Duration::from_millis(100));
            Err("ValueError: error in initializer".into())
        })
        .build()
        .unwrap();
    let broken = "A thread initializer failed, the thread pool is not usable anymore";
    let error = block_on(executor.submit(worker_value).unwrap()).unwrap_err();
    assert_eq!(error.python_name(), "BrokenThreadPool");
    let expected = format!(
        "worker_value() could not run: {broken}: its initializer init_fail() failed on {}_0: ValueError: error in initializer",
        executor.name()
    );
    assert_eq!(error.to_string(), expected);
    let refused = executor.submit(worker_value).unwrap_err();
    assert_eq!(refused.python_name(), "BrokenThreadPool");
    assert!(refused.to_string().starts_with(broken), "{refused}");
}

// ---------------------------------------------------------------------------------
// test_deadlock.py (processes)

// CPython: test_deadlock.py ExecutorDeadlockTest.test_error_during_func_exec_on_worker
#[test]
fn a_job_that_panics_on_a_process_worker_fails_with_its_message() {
    let executor = processes(2);
    let future = executor.submit(fails("error during the job")).unwrap();
    let error = block_on(future.result_within(Some(LIMIT))).unwrap_err();
    assert_eq!(error.python_name(), "JobError");
    assert_eq!(panic_message(&error), "error during the job");
    let JobError::Panicked { worker, .. } = &error else { unreachable!() };
    assert!(executor.records()[0].worker.as_ref() == Some(worker), "{error}");
    assert!(within(LIMIT, executor.shutdown(true, false)).is_some(), "shutdown hung");
}

// CPython: test_deadlock.py ExecutorDeadlockTest.test_shutdown_deadlock
// (a worker killed once shutdown has begun, in place of one that crashes)
#[test]
fn a_worker_that_dies_during_shutdown_does_not_hang_it() {
    let executor = processes(2);
    let doomed = executor.submit(job!(blocks_for(1, 2_000))).unwrap();
    block_on(doomed.started());
    let Some(Worker::Process(pid)) = doomed.worker() else { panic!("a process worker took it") };
    let shutdown = executor.shutdown(true, false);
    assert!(executor.kill_worker(pid));
    assert!(within(LIMIT, shutdown).is_some(), "shutdown hung");
    assert_eq!(block_on(doomed).unwrap_err().python_name(), "BrokenProcessPool");
    assert_eq!(executor.workers().len(), 0);
}
