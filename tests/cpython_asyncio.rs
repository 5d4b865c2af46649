//! CPython's asyncio tests of `wait`, `as_completed` and `gather`
//! (Lib/test/test_asyncio/test_tasks.py) and of `to_thread` (test_threads.py), ported
//! to the host through the Rust API. CPython's coroutines and `asyncio.sleep` become
//! jobs of either pool (`blocks_for(n, ms)`: n² after `ms`), so each test runs on both
//! pools; `to_thread` runs on the default executor (threads). CPython's virtual clock
//! becomes real time with wide gaps: the tests check sets, orders and outcomes, not
//! how long things took.
//!
//! Not ported here: the tests that give one coroutine or task twice (a `JobFuture`
//! cannot be held twice in a list), and the ones about event loops, shields, reprs or
//! cancelling the task that awaits.
#![cfg(not(target_arch = "wasm32"))]

#[macro_use]
mod cpython_support;

use std::collections::BTreeSet;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Context;
use std::time::Duration;

use cpython_support::*;
use web_executors::PythonException;
use web_executors::{
    JobError, JobFuture, JobState, ReturnWhen, as_completed, block_on, gather, gather_return_exceptions, job, to_thread, wait,
};
use web_executors_showcase::jobs::blocks_for;

// ---------------------------------------------------------------------------------
// wait

on_both_pools!(
    wait_returns_when_all_are_done_and_again_at_once,
    wait_first_completed_leaves_the_slow_job_running,
    wait_first_completed_reports_every_job_already_done,
    wait_first_exception_returns_at_a_failure_with_the_slow_job_running,
    wait_first_exception_returns_at_a_failure_that_comes_while_waiting,
    wait_all_completed_includes_a_failed_job,
    wait_timeout_returns_what_finished_in_time,
    dropping_a_pending_wait_leaves_its_jobs_running,
);

// CPython: test_tasks.py BaseTaskTests.test_wait
fn wait_returns_when_all_are_done_and_again_at_once<P: Pool>() {
    let executor = P::with_workers(5);
    let a = executor.submit(job!(blocks_for(1, 100))).unwrap();
    let b = executor.submit(job!(blocks_for(2, 150))).unwrap();
    let futures = vec![b, a];
    for round in ["first", "second"] {
        let waited = block_on(wait(&futures, ReturnWhen::AllCompleted, None)).unwrap();
        assert_eq!(sets(&waited), (ids(&futures), vec![]), "{round} wait");
        let results: BTreeSet<u64> = waited.done.iter().map(|f| f.result().unwrap().unwrap()).collect();
        assert_eq!(results, BTreeSet::from([1, 4]));
    }
}

// CPython: test_tasks.py BaseTaskTests.test_wait_errors
// CPython: test_tasks.py BaseTaskTests.test_wait_invalid_args
// (their empty-set case: a bad return_when or a lone future does not type-check here)
#[test]
fn wait_on_no_jobs_is_a_value_error() {
    let none: Vec<JobFuture<u64>> = Vec::new();
    let error = block_on(wait(&none, ReturnWhen::AllCompleted, None)).err().expect("an error");
    assert_eq!(error.python_name(), "ValueError");
    assert_eq!(error.to_string(), "Set of Tasks/Futures is empty.");
}

// CPython: test_tasks.py BaseTaskTests.test_wait_first_completed
fn wait_first_completed_leaves_the_slow_job_running<P: Pool>() {
    let executor = P::with_workers(5);
    let a = executor.submit(job!(blocks_for(1, HOLD_MS))).unwrap();
    let b = executor.submit(job!(blocks_for(2, 50))).unwrap();
    let futures = vec![b, a];
    let waited = block_on(wait(&futures, ReturnWhen::FirstCompleted, None)).unwrap();
    assert_eq!(sets(&waited), (vec![futures[0].id()], vec![futures[1].id()]));
    assert!(!futures[1].done());
    assert_eq!(futures[0].result(), Some(Ok(4)));
}

// CPython: test_tasks.py BaseTaskTests.test_wait_really_done
// (both jobs done before the wait: FIRST_COMPLETED gives every job done, not one)
fn wait_first_completed_reports_every_job_already_done<P: Pool>() {
    let executor = P::with_workers(5);
    let futures = vec![executor.submit(job!(blocks_for(2, 0))).unwrap(), executor.submit(job!(blocks_for(1, 0))).unwrap()];
    futures.iter().for_each(|f| block_on(f.settled()));
    let waited = block_on(wait(&futures, ReturnWhen::FirstCompleted, None)).unwrap();
    assert_eq!(sets(&waited), (ids(&futures), vec![]));
}

// CPython: test_tasks.py BaseTaskTests.test_wait_first_exception
fn wait_first_exception_returns_at_a_failure_with_the_slow_job_running<P: Pool>() {
    let executor = P::with_workers(5);
    let a = executor.submit(job!(blocks_for(1, HOLD_MS))).unwrap();
    let b = executor.submit(fails("err")).unwrap();
    let futures = vec![b, a];
    let waited = block_on(wait(&futures, ReturnWhen::FirstException, None)).unwrap();
    assert_eq!(sets(&waited), (vec![futures[0].id()], vec![futures[1].id()]));
    assert_eq!(panic_message(&futures[0].result().unwrap().unwrap_err()), "err");
}

// CPython: test_tasks.py BaseTaskTests.test_wait_first_exception_in_wait
fn wait_first_exception_returns_at_a_failure_that_comes_while_waiting<P: Pool>() {
    // Two workers: one blocks 150 ms, then takes the failing job; the other runs `a`.
    let executor = P::with_workers(2);
    executor.submit(job!(blocks_for(0, 150))).unwrap();
    let a = executor.submit(job!(blocks_for(1, HOLD_MS))).unwrap();
    let b = executor.submit(fails("err")).unwrap();
    let futures = vec![b, a];
    let waited = block_on(wait(&futures, ReturnWhen::FirstException, None)).unwrap();
    assert_eq!(sets(&waited), (vec![futures[0].id()], vec![futures[1].id()]));
}

// CPython: test_tasks.py BaseTaskTests.test_wait_with_exception
fn wait_all_completed_includes_a_failed_job<P: Pool>() {
    // Two workers, held by `a` and a 150 ms job: `b` fails once one of them is free.
    let executor = P::with_workers(2);
    let a = executor.submit(job!(blocks_for(1, 100))).unwrap();
    executor.submit(job!(blocks_for(0, 150))).unwrap();
    let b = executor.submit(fails("really")).unwrap();
    let futures = vec![b, a];
    for round in ["first", "second"] {
        let waited = block_on(wait(&futures, ReturnWhen::AllCompleted, None)).unwrap();
        assert_eq!(sets(&waited), (ids(&futures), vec![]), "{round} wait");
        let failed: Vec<u64> = waited.done.iter().filter(|f| f.failed()).map(|f| f.id()).collect();
        assert_eq!(failed, vec![futures[0].id()], "{round} wait");
    }
}

// CPython: test_tasks.py BaseTaskTests.test_wait_with_timeout
fn wait_timeout_returns_what_finished_in_time<P: Pool>() {
    let executor = P::with_workers(5);
    let a = executor.submit(job!(blocks_for(1, 50))).unwrap();
    let b = executor.submit(job!(blocks_for(2, HOLD_MS))).unwrap();
    let futures = vec![b, a];
    let waited = block_on(wait(&futures, ReturnWhen::AllCompleted, Some(Duration::from_millis(500)))).unwrap();
    assert_eq!(sets(&waited), (vec![futures[1].id()], vec![futures[0].id()]));
    assert!(!futures[0].cancelled(), "a timeout cancels nothing");
}

// CPython: test_tasks.py BaseTaskTests.test_yield_wait_does_not_shield_cancel
// (the awaiting task cancelled = the wait's future dropped before it is ready)
fn dropping_a_pending_wait_leaves_its_jobs_running<P: Pool>() {
    let executor = P::with_workers(1);
    executor.submit(job!(blocks_for(0, 200))).unwrap();
    let futures = vec![executor.submit(job!(blocks_for(3, 0))).unwrap()];
    {
        let mut waiting = pin!(wait(&futures, ReturnWhen::AllCompleted, None));
        let pending = waiting.as_mut().poll(&mut Context::from_waker(std::task::Waker::noop())).is_pending();
        assert!(pending, "the job waits behind the first one");
    }
    assert_eq!(block_on(futures[0].result_within(Some(LIMIT))), Ok(9));
}

// ---------------------------------------------------------------------------------
// as_completed

on_both_pools!(
    as_completed_gives_jobs_in_the_order_they_finish,
    as_completed_gives_back_the_very_jobs_it_was_given,
    as_completed_gives_the_early_job_then_times_out,
    as_completed_with_a_timeout_never_reached_ends_without_error,
    as_completed_goes_on_where_it_stopped,
    as_completed_gives_jobs_whose_results_can_then_be_read,
);

// CPython: test_tasks.py BaseTaskTests.test_as_completed
fn as_completed_gives_jobs_in_the_order_they_finish<P: Pool>() {
    let executor = P::with_workers(3);
    let a = executor.submit(job!(blocks_for(1, 10))).unwrap();
    let b = executor.submit(job!(blocks_for(2, 10))).unwrap();
    let c = executor.submit(job!(blocks_for(3, 400))).unwrap();
    let futures = vec![b, c, a];
    let mut completed = as_completed(&futures, None);
    let mut results = Vec::new();
    while let Some(next) = block_on(completed.next()) {
        results.push(next.unwrap().result().unwrap().unwrap());
    }
    assert_eq!(results.len(), 3);
    assert_eq!(results[..2].iter().copied().collect::<BTreeSet<_>>(), BTreeSet::from([1, 4]));
    assert_eq!(results[2], 9);
}

// CPython: test_tasks.py BaseTaskTests.test_as_completed_same_tasks_in_as_out
fn as_completed_gives_back_the_very_jobs_it_was_given<P: Pool>() {
    let executor = P::with_workers(4);
    let futures: Vec<_> = (0..4u64).map(|n| executor.submit(job!(blocks_for(n, 10 * n))).unwrap()).collect();
    let mut completed = as_completed(&futures, None);
    let mut places = Vec::new();
    while let Some(next) = block_on(completed.next()) {
        let given = next.unwrap();
        let place = futures.iter().position(|f| std::ptr::eq(f, given)).expect("one of the jobs given, not a copy");
        places.push(place);
    }
    places.sort_unstable();
    assert_eq!(places, [0, 1, 2, 3]);
}

// CPython: test_tasks.py BaseTaskTests.test_as_completed_with_timeout
fn as_completed_gives_the_early_job_then_times_out<P: Pool>() {
    let executor = P::with_workers(5);
    let futures = vec![executor.submit(job!(blocks_for(1, 50))).unwrap(), executor.submit(job!(blocks_for(2, HOLD_MS))).unwrap()];
    let mut completed = as_completed(&futures, Some(Duration::from_millis(500)));
    let first = block_on(completed.next()).expect("an item").expect("the early job");
    assert_eq!(first.result(), Some(Ok(1)));
    let error = block_on(completed.next()).expect("an item").expect_err("the late job times out");
    assert_eq!(error.python_name(), "TimeoutError");
    assert_eq!(error.to_string(), "1 (of 2) futures unfinished");
    assert!(block_on(completed.next()).is_none());
    assert!(!futures[1].cancelled() && !futures[1].done(), "the late job goes on");
}

// CPython: test_tasks.py BaseTaskTests.test_as_completed_with_unused_timeout
fn as_completed_with_a_timeout_never_reached_ends_without_error<P: Pool>() {
    let executor = P::with_workers(5);
    let futures = vec![executor.submit(job!(blocks_for(1, 10))).unwrap()];
    let mut completed = as_completed(&futures, Some(Duration::from_secs(10)));
    let first = block_on(completed.next()).expect("an item").expect("no timeout");
    assert_eq!(first.result(), Some(Ok(1)));
    assert!(block_on(completed.next()).is_none());
}

// CPython: test_tasks.py BaseTaskTests.test_as_completed_resume_iterator
fn as_completed_goes_on_where_it_stopped<P: Pool>() {
    let executor = P::with_workers(4);
    let futures: Vec<_> = (0..4u64).map(|n| executor.submit(job!(blocks_for(n, 20 * n))).unwrap()).collect();
    let mut completed = as_completed(&futures, None);
    let mut given = Vec::new();
    // Two, then a pause (CPython breaks out of the loop), then the rest.
    for _ in 0..2 {
        given.push(block_on(completed.next()).unwrap().unwrap().id());
    }
    std::thread::sleep(Duration::from_millis(100));
    while let Some(next) = block_on(completed.next()) {
        given.push(next.unwrap().id());
    }
    given.sort_unstable();
    assert_eq!(given, ids(&futures));
}

// CPython: test_tasks.py BaseTaskTests.test_as_completed_concurrent
fn as_completed_gives_jobs_whose_results_can_then_be_read<P: Pool>() {
    let executor = P::with_workers(2);
    let futures = vec![executor.submit(job!(blocks_for(1, 50))).unwrap(), executor.submit(job!(blocks_for(2, 50))).unwrap()];
    let mut completed = as_completed(&futures, None);
    let mut given = Vec::new();
    while let Some(next) = block_on(completed.next()) {
        given.push(next.unwrap());
    }
    assert_eq!(given.len(), 2);
    let results: BTreeSet<u64> = given.iter().map(|f| block_on(f.result_within(Some(Duration::ZERO))).unwrap()).collect();
    assert_eq!(results, BTreeSet::from([1, 4]));
}

// ---------------------------------------------------------------------------------
// gather

on_both_pools!(
    gather_gives_results_in_argument_order,
    gather_return_exceptions_gives_results_in_argument_order,
    gather_returns_the_first_failure_at_once_and_leaves_the_rest_running,
    gather_return_exceptions_puts_each_error_in_its_place,
    gather_returns_a_cancelled_error_for_a_cancelled_job,
    gather_return_exceptions_puts_cancelled_errors_in_their_places,
    gather_of_two_failing_jobs_gives_the_first_failure,
);

/// a, b, c of CPython's `test_success`: they finish b, a, c.
fn three_jobs<P: Pool>(executor: &P) -> Vec<JobFuture<u64>> {
    [(2, 200), (1, 100), (3, 300)].into_iter().map(|(n, ms)| executor.submit(job!(blocks_for(n, ms))).unwrap()).collect()
}

// CPython: test_tasks.py GatherTestsBase.test_success
fn gather_gives_results_in_argument_order<P: Pool>() {
    let executor = P::with_workers(3);
    assert_eq!(block_on(gather(three_jobs(&executor))), Ok(vec![4, 1, 9]));
}

// CPython: test_tasks.py GatherTestsBase.test_result_exception_success
fn gather_return_exceptions_gives_results_in_argument_order<P: Pool>() {
    let executor = P::with_workers(3);
    assert_eq!(block_on(gather_return_exceptions(three_jobs(&executor))), vec![Ok(4), Ok(1), Ok(9)]);
}

// CPython: test_tasks.py GatherTestsBase.test_one_exception
fn gather_returns_the_first_failure_at_once_and_leaves_the_rest_running<P: Pool>() {
    let executor = P::with_workers(5);
    let futures = vec![
        executor.submit(job!(blocks_for(1, 0))).unwrap(),
        executor.submit(fails("division by zero")).unwrap(),
        executor.submit(job!(blocks_for(3, 600))).unwrap(),
        executor.submit(job!(blocks_for(4, 600))).unwrap(),
        executor.submit(job!(blocks_for(5, 600))).unwrap(),
    ];
    let later: Vec<u64> = futures[2..].iter().map(JobFuture::id).collect();
    let failing = futures[1].id();
    let error = block_on(gather(futures)).unwrap_err();
    assert_eq!(panic_message(&error), "division by zero");
    let record = |id: u64| executor.records().into_iter().find(|r| r.id == id).unwrap();
    // It is the failed job's own error.
    assert_eq!(record(failing).error, Some(error.to_string()));
    // The others were neither waited for nor cancelled.
    for &id in &later {
        assert!(matches!(record(id).state, JobState::Pending | JobState::Running), "{:?}", record(id));
    }
    block_on(executor.shutdown(true, false));
    let results: Vec<_> = later.iter().map(|&id| (record(id).state, record(id).result)).collect();
    let finished = |v: &str| (JobState::Finished, Some(v.to_owned()));
    assert_eq!(results, [finished("9"), finished("16"), finished("25")]);
}

// CPython: test_tasks.py GatherTestsBase.test_return_exceptions
fn gather_return_exceptions_puts_each_error_in_its_place<P: Pool>() {
    let executor = P::with_workers(4);
    let futures = vec![
        executor.submit(job!(blocks_for(3, 100))).unwrap(),
        executor.submit(job!(blocks_for(1, 0))).unwrap(),
        executor.submit(fails("exc")).unwrap(),
        executor.submit(fails("exc2")).unwrap(),
    ];
    let outcomes = block_on(gather_return_exceptions(futures));
    assert_eq!(outcomes[..2], [Ok(9), Ok(1)]);
    let messages: Vec<&str> = outcomes[2..].iter().map(|o| panic_message(o.as_ref().unwrap_err())).collect();
    assert_eq!(messages, ["exc", "exc2"]);
}

/// A one-worker pool busy for `ms`, and a job of `blocks_for(n, 0)` or a failing job
/// queued behind for each of `specs` (`Err(message)` fails).
fn queued_behind<P: Pool>(ms: u64, specs: &[Result<u64, &'static str>]) -> (P, Vec<JobFuture<u64>>) {
    let executor = P::with_workers(1);
    executor.submit(job!(blocks_for(0, ms))).unwrap();
    let futures = specs
        .iter()
        .map(|spec| match *spec {
            Ok(n) => executor.submit(job!(blocks_for(n, 0))).unwrap(),
            Err(message) => executor.submit(fails(message)).unwrap(),
        })
        .collect();
    (executor, futures)
}

// CPython: test_tasks.py FutureGatherTests.test_one_cancellation
fn gather_returns_a_cancelled_error_for_a_cancelled_job<P: Pool>() {
    let (executor, futures) = queued_behind::<P>(300, &[Ok(1), Ok(2), Ok(3), Ok(4), Ok(5)]);
    assert!(futures[1].cancel());
    let later: Vec<u64> = futures[2..].iter().map(JobFuture::id).collect();
    let error = block_on(gather(futures)).unwrap_err();
    assert_eq!(error, JobError::Cancelled);
    assert_eq!(error.python_name(), "CancelledError");
    // The gather is over; the jobs after the cancelled one still run.
    block_on(executor.shutdown(true, false));
    let records = executor.records();
    for id in later {
        let record = records.iter().find(|r| r.id == id).unwrap();
        assert_eq!(record.state, JobState::Finished, "{record:?}");
    }
}

// CPython: test_tasks.py FutureGatherTests.test_result_exception_one_cancellation
fn gather_return_exceptions_puts_cancelled_errors_in_their_places<P: Pool>() {
    let (_executor, futures) = queued_behind::<P>(200, &[Ok(1), Err("zde"), Ok(2), Ok(3), Ok(4), Err("rte")]);
    assert!(futures[2].cancel());
    assert!(futures[4].cancel());
    let outcomes = block_on(gather_return_exceptions(futures));
    assert_eq!(outcomes[0], Ok(1));
    assert_eq!(panic_message(outcomes[1].as_ref().unwrap_err()), "zde");
    assert_eq!(outcomes[2], Err(JobError::Cancelled));
    assert_eq!(outcomes[3], Ok(9));
    assert_eq!(outcomes[4], Err(JobError::Cancelled));
    assert_eq!(panic_message(outcomes[5].as_ref().unwrap_err()), "rte");
}

// CPython: test_tasks.py FutureGatherTests.test_constructor_empty_sequence_use_running_loop
#[test]
fn gather_of_no_jobs_is_an_empty_list() {
    assert_eq!(block_on(gather(Vec::<JobFuture<u64>>::new())), Ok(vec![]));
    assert!(block_on(gather_return_exceptions(Vec::<JobFuture<u64>>::new())).is_empty());
}

// CPython: test_tasks.py CoroutineGatherTests.test_exception_marking
fn gather_of_two_failing_jobs_gives_the_first_failure<P: Pool>() {
    let executor = P::with_workers(2);
    let futures = vec![executor.submit(fails("should not be ignored")).unwrap(), executor.submit(fails("should not be ignored")).unwrap()];
    let error = block_on(gather(futures)).unwrap_err();
    assert_eq!(error.python_name(), "JobError");
    assert_eq!(panic_message(&error), "should not be ignored");
}

// ---------------------------------------------------------------------------------
// test_threads.py: to_thread, on the default executor (threads on the host)

// CPython: test_threads.py ToThreadTests.test_to_thread
#[test]
fn to_thread_gives_the_jobs_result() {
    assert_eq!(block_on(to_thread(job!(blocks_for(6, 0)))), Ok(36));
}

// CPython: test_threads.py ToThreadTests.test_to_thread_exception
#[test]
fn to_thread_gives_the_jobs_failure() {
    let error = block_on(to_thread(|| -> u64 { panic!("test") })).unwrap_err();
    assert_eq!(panic_message(&error), "test");
    let JobError::Panicked { worker, .. } = &error else { unreachable!() };
    assert!(worker.to_string().starts_with("asyncio_"), "{error}");
}

// CPython: test_threads.py ToThreadTests.test_to_thread_once
#[test]
fn to_thread_calls_the_function_once() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    block_on(to_thread(move || counter.fetch_add(1, Ordering::SeqCst))).unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

// CPython: test_threads.py ToThreadTests.test_to_thread_concurrent
#[test]
fn ten_to_thread_calls_awaited_together_each_run_once() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counting = || {
        let calls = calls.clone();
        move || {
            calls.fetch_add(1, Ordering::SeqCst);
        }
    };
    let outcomes = join_all((0..10).map(|_| to_thread(counting())).collect());
    assert!(outcomes.iter().all(Result::is_ok), "{outcomes:?}");
    assert_eq!(calls.load(Ordering::SeqCst), 10);
}
