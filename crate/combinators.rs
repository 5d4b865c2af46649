//! Waiting on many jobs at once: `wait`, `as_completed`, `gather`, and `map`'s results.
//! Each borrows or takes [`JobFuture`]s and resolves as Python's namesake does.

use std::collections::VecDeque;
use std::fmt;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use crate::job::{JobError, JobFuture};
use crate::sync::SpinLock;
use crate::time::{Sleep, sleep};

/// Follows many jobs for one task, so that a wake-up costs only the jobs that changed:
/// each job gets a waker of its own that puts its index on a ready list. Waiting on n
/// jobs costs O(n) in all, not O(n) per job that finishes.
struct Watch {
    ready: Arc<SpinLock<Ready>>,
    /// One waker per job, made on the first poll and reused (so a job holds only one).
    wakers: Vec<Waker>,
    /// Jobs already reported settled: a job wakes its waiters when it starts and when
    /// it settles, so its index can arrive more than once.
    reported: Vec<bool>,
}

#[derive(Default)]
struct Ready {
    indexes: Vec<usize>,
    task: Option<Waker>,
}

struct IndexWaker {
    index: usize,
    ready: Arc<SpinLock<Ready>>,
}

impl Wake for IndexWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref()
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let mut ready = self.ready.lock();
        ready.indexes.push(self.index);
        let task = ready.task.clone();
        drop(ready);
        task.into_iter().for_each(Waker::wake);
    }
}

impl Watch {
    fn new() -> Self {
        Watch { ready: Arc::new(SpinLock::new(Ready::default())), wakers: Vec::new(), reported: Vec::new() }
    }

    /// The indexes of the jobs that settled since the last call (on the first call, all
    /// that had settled), each once; `cx` is woken when more settle.
    fn settled<T: Send + 'static>(&mut self, futures: &[JobFuture<T>], cx: &Context<'_>) -> Vec<usize> {
        self.ready.lock().task = Some(cx.waker().clone());
        let candidates = if self.wakers.is_empty() {
            self.wakers = (0..futures.len())
                .map(|index| Waker::from(Arc::new(IndexWaker { index, ready: self.ready.clone() })))
                .collect();
            self.reported = vec![false; futures.len()];
            (0..futures.len()).collect()
        } else {
            let mut indexes = std::mem::take(&mut self.ready.lock().indexes);
            indexes.sort_unstable();
            indexes.dedup();
            indexes
        };
        // A job also wakes its waiters when it starts: check, and keep waiting on it.
        let newly: Vec<usize> = candidates
            .into_iter()
            .filter(|&i| !self.reported[i] && futures[i].poll_done(&Context::from_waker(&self.wakers[i])).is_ready())
            .collect();
        newly.iter().for_each(|&i| self.reported[i] = true);
        newly
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
    let mut watch = Watch::new();
    let (mut done, mut failed) = (0, false);
    poll_fn(|cx| {
        for i in watch.settled(futures, cx) {
            done += 1;
            failed |= futures[i].failed();
        }
        let holds = match return_when {
            ReturnWhen::FirstCompleted => done > 0,
            ReturnWhen::FirstException => failed || done == futures.len(),
            ReturnWhen::AllCompleted => done == futures.len(),
        };
        let timed_out = timer.as_mut().is_some_and(|t| Pin::new(t).poll(cx).is_ready());
        if holds || timed_out { Poll::Ready(()) } else { Poll::Pending }
    })
    .await;
    let (mut done, not_done): (Vec<_>, Vec<_>) = futures.iter().partition(|f| f.done());
    done.sort_by(|a, b| a.finished_at().total_cmp(&b.finished_at()));
    Ok(Waited { done, not_done })
}

/// Python's `as_completed(fs, timeout)`: the jobs in the order they settle.
pub fn as_completed<T: Send + 'static>(futures: &[JobFuture<T>], timeout: Option<Duration>) -> AsCompleted<'_, T> {
    AsCompleted { futures, settled: Vec::new(), given: 0, watch: Watch::new(), timer: timeout.map(sleep) }
}

pub struct AsCompleted<'a, T> {
    futures: &'a [JobFuture<T>],
    /// Settled and not yet given, latest first.
    settled: Vec<usize>,
    given: usize,
    watch: Watch,
    timer: Option<Sleep>,
}

impl<'a, T: Send + 'static> AsCompleted<'a, T> {
    /// The next job to settle; `None` when all have been given; a timeout error when
    /// the deadline passes first (the remaining jobs keep running).
    pub async fn next(&mut self) -> Option<Result<&'a JobFuture<T>, WaitError>> {
        if self.given == self.futures.len() {
            return None;
        }
        poll_fn(|cx| {
            let futures = self.futures;
            let newly = self.watch.settled(futures, cx);
            if !newly.is_empty() {
                self.settled.extend(newly);
                self.settled.sort_by(|&a, &b| futures[b].finished_at().total_cmp(&futures[a].finished_at()));
            }
            if let Some(i) = self.settled.pop() {
                self.given += 1;
                return Poll::Ready(Some(Ok(&futures[i])));
            }
            let timed_out = self.timer.as_mut().is_some_and(|t| Pin::new(t).poll(cx).is_ready());
            if timed_out {
                let unfinished = futures.len() - self.given;
                self.given = futures.len();
                return Poll::Ready(Some(Err(WaitError::Timeout { unfinished, total: futures.len() })));
            }
            Poll::Pending
        })
        .await
    }
}

/// asyncio's `gather(*fs)`: every result, in argument order; the first error to happen
/// is returned as soon as it happens (the other jobs keep running).
pub async fn gather<T: Send + 'static>(futures: Vec<JobFuture<T>>) -> Result<Vec<T>, JobError> {
    let mut results: Vec<Option<T>> = futures.iter().map(|_| None).collect();
    let (mut watch, mut left) = (Watch::new(), futures.len());
    poll_fn(|cx| {
        for i in watch.settled(&futures, cx) {
            match futures[i].take_result() {
                Some(Ok(value)) => results[i] = Some(value),
                Some(Err(error)) => return Poll::Ready(Err(error)),
                None => return Poll::Ready(Err(already_taken(&futures[i]))),
            }
            left -= 1;
        }
        if left == 0 { Poll::Ready(Ok(())) } else { Poll::Pending }
    })
    .await?;
    Ok(results.into_iter().map(|r| r.expect("every slot is filled")).collect())
}

/// asyncio's `gather(*fs, return_exceptions=True)`: every outcome, in argument order.
pub async fn gather_return_exceptions<T: Send + 'static>(futures: Vec<JobFuture<T>>) -> Vec<Result<T, JobError>> {
    let (mut watch, mut left) = (Watch::new(), futures.len());
    poll_fn(|cx| {
        left -= watch.settled(&futures, cx).len();
        if left == 0 { Poll::Ready(()) } else { Poll::Pending }
    })
    .await;
    futures.iter().map(|f| f.take_result().unwrap_or_else(|| Err(already_taken(f)))).collect()
}

fn already_taken<T: Send + 'static>(future: &JobFuture<T>) -> JobError {
    JobError::Failed { job: future.label().to_owned(), message: "its result was already taken".into() }
}

/// The results of `executor.map`, in input order.
pub struct MapResults<T: Send + 'static> {
    futures: VecDeque<JobFuture<T>>,
}

impl<T: Send + 'static> MapResults<T> {
    pub(crate) fn new(futures: VecDeque<JobFuture<T>>) -> Self {
        Self { futures }
    }

    /// The futures themselves, in input order.
    #[cfg(target_arch = "wasm32")]
    pub(crate) fn into_futures(mut self) -> Vec<JobFuture<T>> {
        std::mem::take(&mut self.futures).into()
    }

    /// The next result in input order; `None` after the last.
    pub async fn next(&mut self) -> Option<Result<T, JobError>> {
        let future = self.futures.front_mut()?;
        let result = future.await;
        self.futures.pop_front();
        Some(result)
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
    /// As Python's map iterator when closed early: the jobs not yet taken are cancelled.
    fn drop(&mut self) {
        for future in &self.futures {
            future.cancel();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Call;
    use crate::job::new_job;

    fn noop_context() -> Context<'static> {
        Context::from_waker(Waker::noop())
    }

    #[test]
    fn watch_reports_a_job_once_however_often_it_wakes() {
        // Found by the native suite: a job wakes its waiters when it starts and again
        // when it settles, and `wait` counted the second wake as a second completion.
        let (future, item) = new_job(Call::labelled("job()", || 1), &Arc::from("test"));
        let futures = [future];
        let mut watch = Watch::new();
        assert!(watch.settled(&futures, &noop_context()).is_empty());
        item.run(&Arc::from("worker"), &|| ());
        assert_eq!(watch.settled(&futures, &noop_context()), vec![0]);
        // A late wake-up of the same job, as its settle's wake arriving after the poll.
        watch.wakers[0].wake_by_ref();
        assert!(watch.settled(&futures, &noop_context()).is_empty());
    }
}
