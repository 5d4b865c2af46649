//! The executor on the host, with OS threads as workers: the same scheduling code the
//! browser runs, checked for Python's semantics.
#![cfg(not(target_arch = "wasm32"))]

use std::collections::BTreeSet;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Context;
use std::thread;
use std::time::Duration;

use web_executors::observe::log;
use web_executors::observe::record::Worker;
use web_executors::{
    JobError, JobState, ReturnWhen, ThreadPoolExecutor, WaitError, as_completed, block_on, gather, gather_return_exceptions, job,
    run_in_executor, wait,
};
use web_executors_showcase::jobs::{blocks, blocks_for};

fn pool(name: &str, max_workers: usize) -> ThreadPoolExecutor {
    web_executors_showcase::jobs::install();
    ThreadPoolExecutor::builder().max_workers(max_workers).thread_name_prefix(name).build().unwrap()
}

#[test]
fn scenario_1_six_blocking_squares_on_three_workers_in_two_waves() {
    let executor = pool("scenario1", 3);
    let futures: Vec<_> = (0..6).map(|i| run_in_executor(Some(&executor), job!(blocks(i))).unwrap()).collect();
    let waited = block_on(wait(&futures, ReturnWhen::AllCompleted, None)).unwrap();
    assert_eq!(waited.done.len(), 6);
    let results: BTreeSet<u64> = waited.done.iter().map(|f| f.result().unwrap().unwrap()).collect();
    assert_eq!(results, BTreeSet::from([0, 1, 4, 9, 16, 25]));

    let records = executor.records();
    let workers: BTreeSet<_> = records.iter().map(|r| r.worker.clone().unwrap()).collect();
    assert_eq!(workers.len(), 3, "{workers:?}");
    assert!(workers.iter().all(|w| w.to_string().starts_with("scenario1_")));
    assert_eq!(records[0].note.as_deref(), Some("blocked 100 ms by sleeping"));
    let first_finish = records[..3].iter().map(|r| r.finished.unwrap()).fold(f64::INFINITY, f64::min);
    for late in &records[3..] {
        assert!(late.started.unwrap() >= first_finish, "{} started before any of 0-2 finished", late.label);
    }
    let start = records.iter().map(|r| r.started.unwrap()).fold(f64::INFINITY, f64::min);
    let end = records.iter().map(|r| r.finished.unwrap()).fold(0.0, f64::max);
    assert!(end - start < 500.0, "two waves of 100 ms, not six: took {} ms", end - start);

    let lines: Vec<String> = log::lines().iter().filter(|l| l.thread.starts_with("scenario1_")).map(|l| l.format()).collect();
    assert_eq!(lines.len(), 12, "running and done per job: {lines:#?}");
    assert!(lines.iter().any(|l| l.ends_with("         blocks(4): running")), "{lines:#?}");
}

#[test]
fn one_job_at_a_time_reuses_one_worker() {
    let executor = pool("reuse", 4);
    for i in 0..5 {
        assert_eq!(block_on(executor.submit(move || i * 2).unwrap()), Ok(i * 2));
    }
    let workers: BTreeSet<_> = executor.records().iter().map(|r| r.worker.clone().unwrap()).collect();
    assert_eq!(workers.into_iter().collect::<Vec<_>>(), vec![Worker::Thread(Arc::from("reuse_0"))]);
    assert_eq!(executor.workers_alive(), 1);
}

#[test]
fn max_workers_zero_is_refused_with_pythons_message() {
    let error = ThreadPoolExecutor::builder().max_workers(0).build().err().unwrap();
    assert_eq!(error.to_string(), "max_workers must be greater than 0");
}

#[test]
fn default_names_and_max_workers_follow_python() {
    let executor = ThreadPoolExecutor::new().unwrap();
    assert!(executor.name().starts_with("ThreadPoolExecutor-"), "{}", executor.name());
    let cores = thread::available_parallelism().unwrap().get();
    assert_eq!(executor.max_workers(), 32.min(cores + 4));
    let worker = block_on(async {
        let job = executor.submit(|| ()).unwrap();
        job.started().await;
        job.worker().unwrap()
    });
    assert_eq!(worker.to_string(), format!("{}_0", executor.name()));
}

#[test]
fn cancel_succeeds_only_while_pending() {
    let executor = pool("cancel", 1);
    let running = executor.submit(job!(blocks_for(1, 200))).unwrap();
    let ran = Arc::new(AtomicUsize::new(0));
    let counter = ran.clone();
    let queued = executor.submit(move || counter.fetch_add(1, Ordering::SeqCst)).unwrap();
    block_on(running.started());
    assert!(!running.cancel(), "a running job cannot be cancelled");
    assert!(queued.cancel());
    assert!(queued.cancelled() && queued.done());
    assert_eq!(block_on(queued), Err(JobError::Cancelled));
    assert_eq!(block_on(running), Ok(1));
    block_on(executor.shutdown(true, false));
    assert_eq!(ran.load(Ordering::SeqCst), 0, "a cancelled job never runs");
}

#[test]
fn dropping_an_awaited_future_before_it_starts_cancels_it() {
    let executor = pool("drop", 1);
    let blocker = executor.submit(job!(blocks_for(1, 150))).unwrap();
    let queued = executor.submit(|| 7).unwrap();
    let id = queued.id();
    // Poll once (it stays pending behind the blocker), then drop it.
    let mut queued = Box::pin(queued);
    let waker = std::task::Waker::noop();
    assert!(queued.as_mut().poll(&mut Context::from_waker(waker)).is_pending());
    drop(queued);
    block_on(blocker).unwrap();
    block_on(executor.shutdown(true, false));
    let record = executor.records().into_iter().find(|r| r.id == id).unwrap();
    assert_eq!(record.state, JobState::Cancelled);
    assert_eq!(record.started, None);
}

#[test]
fn wait_first_completed_returns_with_the_rest_still_running() {
    let executor = pool("first", 2);
    let futures = vec![executor.submit(job!(blocks_for(1, 300))).unwrap(), executor.submit(job!(blocks_for(2, 20))).unwrap()];
    let waited = block_on(wait(&futures, ReturnWhen::FirstCompleted, None)).unwrap();
    assert_eq!(waited.done.len(), 1);
    assert_eq!(waited.done[0].result(), Some(Ok(4)));
    assert_eq!(waited.not_done.len(), 1);
    assert!(waited.not_done[0].running());
}

#[test]
fn wait_first_exception_returns_at_the_first_error() {
    let executor = pool("exception", 3);
    let futures = vec![
        executor.submit(job!(blocks_for(1, 400))).unwrap(),
        executor.submit(|| -> u64 { panic!("boom") }).unwrap(),
        executor.submit(job!(blocks_for(3, 400))).unwrap(),
    ];
    let waited = block_on(wait(&futures, ReturnWhen::FirstException, None)).unwrap();
    assert_eq!(waited.done.len(), 1);
    assert!(waited.done[0].failed());
    assert_eq!(waited.not_done.len(), 2);
    // Without any error it waits for all.
    let calm = vec![executor.submit(|| 1).unwrap(), executor.submit(|| 2).unwrap()];
    let waited = block_on(wait(&calm, ReturnWhen::FirstException, None)).unwrap();
    assert_eq!(waited.done.len(), 2);
}

#[test]
fn wait_with_a_timeout_returns_the_unfinished_without_cancelling_them() {
    let executor = pool("timeout", 2);
    let futures = vec![executor.submit(|| 1).unwrap(), executor.submit(job!(blocks_for(2, 400))).unwrap()];
    let waited = block_on(wait(&futures, ReturnWhen::AllCompleted, Some(Duration::from_millis(100)))).unwrap();
    assert_eq!(waited.done.len(), 1);
    assert_eq!(waited.not_done.len(), 1);
    assert!(!waited.not_done[0].cancelled());
    assert!(block_on(async {
        futures[1].started().await;
        futures[1].running()
    }));
    drop(waited);
    let [_, slow] = <[_; 2]>::try_from(futures).unwrap();
    assert_eq!(block_on(slow), Ok(4), "the job kept running after the timeout");
}

#[test]
fn wait_on_nothing_is_an_error() {
    let none: Vec<web_executors::JobFuture<u64>> = Vec::new();
    assert_eq!(block_on(wait(&none, ReturnWhen::AllCompleted, None)).err(), Some(WaitError::Empty));
}

#[test]
fn as_completed_gives_jobs_in_the_order_they_finish() {
    let executor = pool("ascompleted", 3);
    let futures: Vec<_> = [300, 50, 150].into_iter().map(|ms| executor.submit(job!(blocks_for(ms, ms))).unwrap()).collect();
    let order = block_on(async {
        let mut order = Vec::new();
        let mut completed = as_completed(&futures, None);
        while let Some(next) = completed.next().await {
            order.push(next.unwrap().result().unwrap().unwrap());
        }
        order
    });
    assert_eq!(order, vec![50 * 50, 150 * 150, 300 * 300]);
}

#[test]
fn as_completed_times_out_with_pythons_message() {
    let executor = pool("ascompleted-timeout", 2);
    let futures = vec![executor.submit(|| 1).unwrap(), executor.submit(job!(blocks_for(2, 500))).unwrap()];
    let (first, second) = block_on(async {
        let mut completed = as_completed(&futures, Some(Duration::from_millis(150)));
        let first = completed.next().await.unwrap().map(|f| f.result());
        let second = completed.next().await.unwrap().map(|f| f.result());
        (first, second)
    });
    assert_eq!(first, Ok(Some(Ok(1))));
    assert_eq!(second.unwrap_err().to_string(), "1 (of 2) futures unfinished");
}

#[test]
fn gather_keeps_argument_order_and_returns_the_first_error() {
    let executor = pool("gather", 3);
    let futures = vec![
        executor.submit(job!(blocks_for(3, 200))).unwrap(),
        executor.submit(job!(blocks_for(1, 10))).unwrap(),
        executor.submit(job!(blocks_for(2, 100))).unwrap(),
    ];
    assert_eq!(block_on(gather(futures)), Ok(vec![9, 1, 4]));

    let failing = vec![executor.submit(|| 1u64).unwrap(), executor.submit(|| -> u64 { panic!("bad input") }).unwrap()];
    match block_on(gather(failing)) {
        Err(JobError::Panicked { message, worker, .. }) => {
            assert_eq!(message, "bad input");
            assert!(worker.to_string().starts_with("gather_"));
        }
        other => panic!("expected the panic, got {other:?}"),
    }
    let failing = vec![executor.submit(|| 1u64).unwrap(), executor.submit(|| -> u64 { panic!("bad input") }).unwrap()];
    let outcomes = block_on(gather_return_exceptions(failing));
    assert_eq!(outcomes[0], Ok(1));
    assert!(matches!(&outcomes[1], Err(JobError::Panicked { message, .. }) if message == "bad input"));
}

#[test]
fn map_yields_in_input_order() {
    let executor = pool("map", 3);
    let results = executor.map(|ms: u64| blocks_for(ms, ms), [120, 10, 60, 0]).unwrap();
    assert_eq!(block_on(results.collect()), Ok(vec![14400, 100, 3600, 0]));
    let labels: Vec<_> = executor.records().into_iter().map(|r| r.label).collect();
    assert!(labels[0].ends_with("(120)"), "{labels:?}");
}

#[test]
fn a_panicking_job_fails_alone_and_the_pool_goes_on() {
    let executor = pool("panic", 2);
    let bad = executor.submit(|| -> u64 { panic!("job exploded") }).unwrap();
    let error = block_on(bad).unwrap_err();
    assert!(error.to_string().starts_with("<closure>() panicked on panic_"), "{error}");
    assert!(error.to_string().ends_with(": job exploded"), "{error}");
    let later: Vec<_> = (0..5).map(|i| executor.submit(move || i + 1).unwrap()).collect();
    assert_eq!(block_on(gather(later)), Ok(vec![1, 2, 3, 4, 5]));
}

#[test]
fn shutdown_without_cancel_runs_the_queue_and_waits_for_workers() {
    let executor = pool("shutdown", 1);
    let futures: Vec<_> = (0..3).map(|i| executor.submit(job!(blocks_for(i, 30))).unwrap()).collect();
    block_on(executor.shutdown(true, false));
    assert!(futures.iter().all(|f| f.result().is_some_and(|r| r.is_ok())));
    assert_eq!(executor.workers_alive(), 0);
    let error = executor.submit(|| 1).unwrap_err();
    assert_eq!(error.to_string(), "cannot schedule new futures after shutdown");
}

#[test]
fn shutdown_with_cancel_futures_cancels_the_queued_jobs_only() {
    let executor = pool("shutdown-cancel", 1);
    let running = executor.submit(job!(blocks_for(1, 100))).unwrap();
    block_on(running.started());
    let queued: Vec<_> = (0..3).map(|i| executor.submit(move || i).unwrap()).collect();
    block_on(executor.shutdown(true, true));
    assert_eq!(running.result(), Some(Ok(1)));
    assert!(queued.iter().all(|f| f.cancelled()));
    assert_eq!(executor.workers_alive(), 0);
}

#[test]
fn dropping_the_executor_lets_queued_jobs_finish() {
    let executor = pool("dropped", 1);
    let futures: Vec<_> = (0..3).map(|i| executor.submit(job!(blocks_for(i, 20))).unwrap()).collect();
    drop(executor);
    assert_eq!(block_on(gather(futures)), Ok(vec![0, 1, 4]));
}

#[test]
fn default_executor_runs_on_named_workers() {
    let futures: Vec<_> = (0..4).map(|i| run_in_executor(None, move || i * i).unwrap()).collect();
    for f in &futures {
        block_on(f.started());
        assert!(f.worker().unwrap().to_string().starts_with("asyncio_"), "{:?}", f.worker());
    }
    assert_eq!(block_on(gather(futures)), Ok(vec![0, 1, 4, 9]));
    let value = block_on(web_executors::to_thread(|| 5));
    assert_eq!(value, Ok(5));
}

#[test]
fn many_tiny_jobs_each_settle_exactly_once() {
    let executor = pool("burst", 2);
    let count = Arc::new(Mutex::new(0u64));
    let futures: Vec<_> = (0..5_000u64)
        .map(|i| {
            let count = count.clone();
            executor
                .submit(move || {
                    *count.lock().unwrap() += 1;
                    i
                })
                .unwrap()
        })
        .collect();
    let results = block_on(gather(futures)).unwrap();
    assert_eq!(results, (0..5_000).collect::<Vec<_>>());
    assert_eq!(*count.lock().unwrap(), 5_000);
}

#[test]
fn max_workers_above_the_cap_is_refused_by_both_pools() {
    let cap = web_executors::executors::error::MAX_WORKERS;
    let threads = ThreadPoolExecutor::builder().max_workers(cap + 1).build().err().unwrap();
    assert_eq!(threads.to_string(), format!("max_workers must be at most {cap} (got {}): each worker is a Web Worker", cap + 1));
    let processes = web_executors::ProcessPoolExecutor::builder().max_workers(cap + 1).build().err().unwrap();
    assert_eq!(processes, threads);
    assert!(ThreadPoolExecutor::builder().max_workers(cap).build().is_ok());
}

#[test]
fn a_huge_label_and_panic_message_are_clipped_in_the_job_and_its_record() {
    use web_executors::executors::job::{MAX_LABEL, MAX_TEXT};
    let executor = pool("huge", 1);
    let big = "x".repeat(1 << 20);
    let message = big.clone();
    let label = format!("panics({big:?})");
    let future = executor.submit(web_executors::Call::labelled(label, move || -> u64 { panic!("{message}") })).unwrap();
    let error = block_on(future).unwrap_err();
    let JobError::Panicked { message, job, .. } = &error else { panic!("{error:?}") };
    assert!(
        message.starts_with("xxx") && message.ends_with(&format!("… ({} more characters)", (1 << 20) - MAX_TEXT)),
        "{}",
        &message[message.len() - 40..]
    );
    assert!(job.chars().count() < MAX_LABEL + 40, "{} characters", job.len());
    let record = &executor.records()[0];
    assert!(record.label.chars().count() < MAX_LABEL + 40);
    assert!(record.error.as_ref().unwrap().chars().count() < MAX_TEXT + 40);
}
