//! Waiting on many jobs at once: `wait`, `as_completed`, `gather`, and `map`'s results.
//! Each borrows or takes [`JobFuture`]s and resolves as Python's namesake does.

use std::collections::VecDeque;
use std::fmt;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use crate::executors::job::{JobError, JobFuture, PythonException};
use crate::runtime::sync::SpinLock;
use crate::runtime::time::{Sleep, sleep};

/// The index of each job's first place in `futures`: Python's combinators take a *set*
/// of futures, so a job given twice is waited on, and given back, once.
fn unique<T: Send + 'static>(futures: &[JobFuture<T>]) -> Vec<usize> {
    // Jobs given in the order they were submitted (ids rise) are each there once.
    if futures.windows(2).all(|pair| pair[0].id() < pair[1].id()) {
        return (0..futures.len()).collect();
    }
    // Sorted rather than hashed: a hash set's random keys cost every page's wasm.
    let mut by_id: Vec<(u64, usize)> = futures.iter().enumerate().map(|(i, f)| (f.id(), i)).collect();
    by_id.sort_unstable();
    by_id.dedup_by_key(|&mut (id, _)| id);
    let mut indexes: Vec<usize> = by_id.into_iter().map(|(_, i)| i).collect();
    indexes.sort_unstable();
    indexes
}

/// Follows many jobs for one task, so that a wake-up costs only the jobs that changed:
/// each job gets a waker of its own that puts its index on a ready list. Waiting on n
/// jobs costs O(n) in all, not O(n) per job that finishes.
struct Watch {
    /// The indexes watched (each job once).
    indexes: Vec<usize>,
    ready: Arc<SpinLock<Ready>>,
    /// One waker per watched job, made on the first poll and reused (so a job holds
    /// only one).
    wakers: Vec<Waker>,
    /// Jobs already reported settled, by place in `indexes`: a wake-up can arrive late,
    /// after its job was reported, so a place can arrive more than once.
    reported: Vec<bool>,
}

#[derive(Default)]
struct Ready {
    places: Vec<usize>,
    task: Option<Waker>,
}

struct PlaceWaker {
    place: usize,
    ready: Arc<SpinLock<Ready>>,
}

impl Wake for PlaceWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref()
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let mut ready = self.ready.lock();
        ready.places.push(self.place);
        let task = ready.task.clone();
        drop(ready);
        task.into_iter().for_each(Waker::wake);
    }
}

impl Watch {
    /// Watches each distinct job of `futures` once.
    fn new<T: Send + 'static>(futures: &[JobFuture<T>]) -> Self {
        Watch { indexes: unique(futures), ready: Arc::new(SpinLock::new(Ready::default())), wakers: Vec::new(), reported: Vec::new() }
    }

    /// How many distinct jobs are watched.
    fn len(&self) -> usize {
        self.indexes.len()
    }

    /// The indexes of the jobs that settled since the last call (on the first call, all
    /// that had settled), each once; `cx` is woken when more settle.
    fn settled<T: Send + 'static>(&mut self, futures: &[JobFuture<T>], cx: &Context<'_>) -> Vec<usize> {
        self.ready.lock().task = Some(cx.waker().clone());
        let candidates = if self.wakers.is_empty() {
            self.wakers =
                (0..self.indexes.len()).map(|place| Waker::from(Arc::new(PlaceWaker { place, ready: self.ready.clone() }))).collect();
            self.reported = vec![false; self.indexes.len()];
            (0..self.indexes.len()).collect()
        } else {
            let mut places = std::mem::take(&mut self.ready.lock().places);
            places.sort_unstable();
            places.dedup();
            places
        };
        // A waker may also be woken by hand (or late): check, and keep waiting on it.
        let newly: Vec<usize> = candidates
            .into_iter()
            .filter(|&p| !self.reported[p] && futures[self.indexes[p]].poll_done(&Context::from_waker(&self.wakers[p])).is_ready())
            .collect();
        newly.iter().for_each(|&p| self.reported[p] = true);
        newly.into_iter().map(|p| self.indexes[p]).collect()
    }
}

/// When [`wait`] returns, as Python's `FIRST_COMPLETED`, `FIRST_EXCEPTION`,
/// `ALL_COMPLETED`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReturnWhen {
    FirstCompleted,
    /// The first job that finishes with an error; all of them if none does.
    FirstException,
    AllCompleted,
}

/// The two sets of Python's `wait`: done jobs, in the order they settled, and the rest.
/// Each job is in one of them once, however often it was given.
pub struct Waited<'a, T> {
    pub done: Vec<&'a JobFuture<T>>,
    pub not_done: Vec<&'a JobFuture<T>>,
}

/// Errors of the combinators.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WaitError {
    /// `wait` was given no jobs (asyncio's wording).
    Empty,
    /// `as_completed` ran out of time with jobs unfinished (Python's wording).
    Timeout { unfinished: usize, total: usize },
}

impl PythonException for WaitError {
    /// `ValueError`, `TimeoutError`.
    fn python_name(&self) -> &'static str {
        match self {
            WaitError::Empty => "ValueError",
            WaitError::Timeout { .. } => "TimeoutError",
        }
    }
}

impl fmt::Display for WaitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WaitError::Empty => f.write_str("Set of Tasks/Futures is empty."),
            WaitError::Timeout { unfinished, total } => {
                write!(f, "{unfinished} (of {total}) futures unfinished")
            }
        }
    }
}

impl std::error::Error for WaitError {}

/// Python's `wait(fs, timeout, return_when)`: resolves when `return_when` holds or the
/// timeout passes, whichever is first. A timeout cancels nothing: the jobs not done by
/// then are returned in `not_done` and keep running.
pub async fn wait<'a, T: Send + 'static>(
    futures: &'a [JobFuture<T>],
    return_when: ReturnWhen,
    timeout: Option<Duration>,
) -> Result<Waited<'a, T>, WaitError> {
    if futures.is_empty() {
        return Err(WaitError::Empty);
    }
    let mut timer = timeout.map(sleep);
    let mut watch = Watch::new(futures);
    let (mut done, mut failed) = (0, false);
    poll_fn(|cx| {
        for i in watch.settled(futures, cx) {
            done += 1;
            failed |= futures[i].failed();
        }
        let holds = match return_when {
            ReturnWhen::FirstCompleted => done > 0,
            ReturnWhen::FirstException => failed || done == watch.len(),
            ReturnWhen::AllCompleted => done == watch.len(),
        };
        let timed_out = timer.as_mut().is_some_and(|t| Pin::new(t).poll(cx).is_ready());
        if holds || timed_out { Poll::Ready(()) } else { Poll::Pending }
    })
    .await;
    let (mut done, not_done): (Vec<_>, Vec<_>) = watch.indexes.iter().map(|&i| &futures[i]).partition(|f| f.done());
    done.sort_by(|a, b| a.finished_at().total_cmp(&b.finished_at()));
    Ok(Waited { done, not_done })
}

/// The order in which jobs complete, and `as_completed`'s deadline: the decisions of
/// [`as_completed`], on indexes into a list of jobs that its owner keeps.
pub(crate) struct CompletionOrder {
    /// Settled and not yet given, latest first.
    settled: Vec<usize>,
    given: usize,
    watch: Watch,
    timer: Option<Sleep>,
}

impl CompletionOrder {
    /// Starts the clock of `timeout` now, as Python counts it from the call.
    pub(crate) fn new<T: Send + 'static>(futures: &[JobFuture<T>], timeout: Option<Duration>) -> Self {
        CompletionOrder { settled: Vec::new(), given: 0, watch: Watch::new(futures), timer: timeout.map(sleep) }
    }

    /// The index of the next job to settle; `None` once every job was given; a timeout
    /// error (once) when the deadline passes first.
    pub(crate) fn poll_next<T: Send + 'static>(
        &mut self,
        futures: &[JobFuture<T>],
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<usize, WaitError>>> {
        let total = self.watch.len();
        if self.given == total {
            return Poll::Ready(None);
        }
        let newly = self.watch.settled(futures, cx);
        if !newly.is_empty() {
            self.settled.extend(newly);
            self.settled.sort_by(|&a, &b| futures[b].finished_at().total_cmp(&futures[a].finished_at()));
        }
        if let Some(i) = self.settled.pop() {
            self.given += 1;
            return Poll::Ready(Some(Ok(i)));
        }
        let timed_out = self.timer.as_mut().is_some_and(|t| Pin::new(t).poll(cx).is_ready());
        if timed_out {
            let unfinished = total - self.given;
            self.given = total;
            return Poll::Ready(Some(Err(WaitError::Timeout { unfinished, total })));
        }
        Poll::Pending
    }
}

/// Python's `as_completed(fs, timeout)`: the jobs in the order they settle, each once.
pub fn as_completed<T: Send + 'static>(futures: &[JobFuture<T>], timeout: Option<Duration>) -> AsCompleted<'_, T> {
    AsCompleted { futures, order: CompletionOrder::new(futures, timeout) }
}

pub struct AsCompleted<'a, T> {
    futures: &'a [JobFuture<T>],
    order: CompletionOrder,
}

impl<'a, T: Send + 'static> AsCompleted<'a, T> {
    /// The next job to settle; `None` when all have been given; a timeout error when
    /// the deadline passes first (the remaining jobs keep running).
    pub async fn next(&mut self) -> Option<Result<&'a JobFuture<T>, WaitError>> {
        let futures = self.futures;
        poll_fn(|cx| self.order.poll_next(futures, cx)).await.map(|next| next.map(|i| &futures[i]))
    }
}

/// What asyncio's `gather` decides: `None` once every job is done, or, unless
/// `return_exceptions`, the index of the first job to fail or be cancelled, as soon as
/// it does (the other jobs keep running).
pub(crate) async fn gathered<T: Send + 'static>(futures: &[JobFuture<T>], return_exceptions: bool) -> Option<usize> {
    let mut watch = Watch::new(futures);
    let mut left = watch.len();
    poll_fn(|cx| {
        for i in watch.settled(futures, cx) {
            if !return_exceptions && (futures[i].failed() || futures[i].cancelled()) {
                return Poll::Ready(Some(i));
            }
            left -= 1;
        }
        if left == 0 { Poll::Ready(None) } else { Poll::Pending }
    })
    .await
}

/// asyncio's `gather(*fs)`: every result, in argument order; the first error to happen
/// (a cancelled job's `Cancelled` too) is returned as soon as it happens (the other
/// jobs keep running).
pub async fn gather<T: Send + 'static>(futures: Vec<JobFuture<T>>) -> Result<Vec<T>, JobError> {
    if let Some(failed) = gathered(&futures, false).await {
        return Err(taken(&futures[failed]).err().unwrap_or(JobError::Cancelled));
    }
    futures.iter().map(taken).collect()
}

/// asyncio's `gather(*fs, return_exceptions=True)`: every outcome, in argument order.
pub async fn gather_return_exceptions<T: Send + 'static>(futures: Vec<JobFuture<T>>) -> Vec<Result<T, JobError>> {
    gathered(&futures, true).await;
    futures.iter().map(taken).collect()
}

/// A settled job's result, taken.
fn taken<T: Send + 'static>(future: &JobFuture<T>) -> Result<T, JobError> {
    future.take_result().unwrap_or_else(|| Err(future.result_taken()))
}

/// The results of `executor.map`, in input order.
pub struct MapResults<T: Send + 'static> {
    futures: VecDeque<JobFuture<T>>,
    /// `timeout`'s deadline, and the timeout itself for the error.
    deadline: Option<(Sleep, Duration)>,
    /// Whether a result was asked for: only then does dropping cancel the calls left.
    read: bool,
}

impl<T: Send + 'static> MapResults<T> {
    pub(crate) fn new(futures: VecDeque<JobFuture<T>>) -> Self {
        Self { futures, deadline: None, read: false }
    }

    /// Python's `map(…, timeout)`: a result not ready within `timeout` of this call
    /// fails with `WaitTimedOut`, and the jobs after it are cancelled (as Python's map
    /// iterator does when it raises).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.deadline = Some((sleep(timeout), timeout));
        self
    }

    /// The next job in input order once it is done, without taking its result; a
    /// timeout error instead if the deadline passes first; `None` after the last.
    pub(crate) async fn next_settled(&mut self) -> Option<Result<JobFuture<T>, JobError>> {
        self.read = true;
        let front = self.futures.front()?;
        let settled = poll_fn(|cx| front.poll_done_by(cx, self.deadline.as_mut())).await;
        match settled {
            Ok(()) => self.futures.pop_front().map(Ok),
            Err(error) => {
                self.cancel_rest();
                Some(Err(error))
            }
        }
    }

    /// The results in now, in input order, up to the first job that failed or is not
    /// done (which `next` then gives or waits for): all a reader can take without
    /// waiting, at one go rather than a wake-up each.
    pub fn ready(&mut self) -> Vec<T> {
        self.read = true;
        let mut values = Vec::new();
        while let Some(value) = self.futures.front().and_then(JobFuture::take_value) {
            self.futures.pop_front();
            values.push(value);
        }
        values
    }

    /// Cancels the jobs not yet given, and gives none after.
    pub(crate) fn cancel_rest(&mut self) {
        for future in self.futures.drain(..) {
            future.cancel();
        }
    }

    /// The next result in input order; `None` after the last.
    pub async fn next(&mut self) -> Option<Result<T, JobError>> {
        Some(self.next_settled().await?.and_then(|future| taken(&future)))
    }

    /// Every result in input order, or the first error met in that order.
    pub async fn collect(mut self) -> Result<Vec<T>, JobError> {
        let mut results = Vec::with_capacity(self.futures.len());
        while let Some(result) = self.next().await {
            results.push(result?);
        }
        Ok(results)
    }
}

impl<T: Send + 'static> Drop for MapResults<T> {
    /// As Python's map iterator when closed early: once a result was asked for, the jobs
    /// not yet taken are cancelled. Results dropped unread let every call run, as
    /// Python's iterator does when it is let go before its first `next` (and as a
    /// `JobFuture` dropped unpolled lets its job run).
    fn drop(&mut self) {
        if self.read {
            self.cancel_rest();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Call;
    use crate::executors::job::new_job;
    use crate::observe::record::Worker;

    fn noop_context() -> Context<'static> {
        Context::from_waker(Waker::noop())
    }

    #[test]
    fn watch_reports_a_job_once_however_often_it_wakes() {
        // Found by the native suite: a job woke its waiters when it started and again
        // when it settled, and `wait` counted the second wake as a second completion.
        // (Now only its end wakes them; a late or repeated wake must still count once.)
        let (future, item) = new_job(Call::labelled("job()", || 1), &Arc::from("test"));
        let futures = [future];
        let mut watch = Watch::new(&futures);
        assert!(watch.settled(&futures, &noop_context()).is_empty());
        item.run(&Worker::Main, &|| ());
        assert_eq!(watch.settled(&futures, &noop_context()), vec![0]);
        // A late wake-up of the same job, as its settle's wake arriving after the poll.
        watch.wakers[0].wake_by_ref();
        assert!(watch.settled(&futures, &noop_context()).is_empty());
    }

    #[test]
    fn map_gives_the_results_in_at_one_go_up_to_a_failure_or_a_job_not_done() {
        let calls = [Ok(1), Ok(2), Err("no"), Ok(4), Ok(5)];
        let (futures, items): (VecDeque<_>, Vec<_>) = calls
            .into_iter()
            .map(|r| new_job(Call::fallible("job()", |v| format!("{v}"), move || r.map_err(String::from)), &Arc::from("test")))
            .unzip();
        let mut items = items.into_iter();
        let mut results = MapResults::new(futures);
        assert!(results.ready().is_empty(), "nothing is done yet");
        items.next().unwrap().run(&Worker::Main, &|| ());
        items.next().unwrap().run(&Worker::Main, &|| ());
        assert_eq!(results.ready(), vec![1, 2]);
        items.for_each(|item| item.run(&Worker::Main, &|| ()));
        assert!(results.ready().is_empty(), "a failure stops it: next() gives the error in its place");
        assert!(matches!(poll_once(results.next()), Poll::Ready(Some(Err(JobError::Failed { .. })))));
        assert_eq!(results.ready(), vec![4, 5]);
        assert!(matches!(poll_once(results.next()), Poll::Ready(None)));
    }

    fn poll_once<F: Future>(future: F) -> Poll<F::Output> {
        std::pin::pin!(future).as_mut().poll(&mut noop_context())
    }

    #[test]
    fn wait_and_as_completed_take_a_job_given_twice_once() {
        // Python's wait and as_completed work on a set of futures (CPython's
        // test_wait.test_20369, test_as_completed.test_duplicate_futures).
        let (future, item) = new_job(Call::labelled("job()", || 1), &Arc::from("test"));
        let (other, _queued) = new_job(Call::labelled("other()", || 2), &Arc::from("test"));
        item.run(&Worker::Main, &|| ());
        let futures = [future.share(), other, future];
        let Poll::Ready(Ok(waited)) = poll_once(wait(&futures, ReturnWhen::FirstCompleted, None)) else {
            panic!("the done job is there at once")
        };
        assert_eq!((waited.done.len(), waited.not_done.len()), (1, 1), "done and not done each hold a job once");
        let mut completed = as_completed(&futures, Some(Duration::ZERO));
        let Poll::Ready(Some(Ok(first))) = poll_once(completed.next()) else { panic!("the done job comes first") };
        assert_eq!(first.id(), futures[0].id());
        // Then the deadline (zero) has passed: one of the two distinct jobs is left.
        std::thread::sleep(Duration::from_millis(20));
        let Poll::Ready(Some(Err(error))) = poll_once(completed.next()) else { panic!("a timeout after the done job") };
        assert_eq!(error, WaitError::Timeout { unfinished: 1, total: 2 });
        assert_eq!(error.python_name(), "TimeoutError");
    }

    #[test]
    fn gather_returns_at_a_cancelled_job_while_others_still_run() {
        // asyncio: a cancelled child ends gather at once with CancelledError.
        let (running, item) = new_job(Call::labelled("running()", || 1), &Arc::from("test"));
        let (queued, _item) = new_job(Call::labelled("queued()", || 2), &Arc::from("test"));
        assert!(item.job.set_running(&Worker::Main), "held by a worker, never finishing here");
        assert!(queued.cancel());
        let outcome = poll_once(gather(vec![running, queued]));
        assert!(matches!(outcome, Poll::Ready(Err(JobError::Cancelled))), "{outcome:?}");
    }
}
