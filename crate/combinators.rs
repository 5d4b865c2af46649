//! Waiting on many jobs at once: `wait`, `as_completed`, `gather`, and `map`'s results.
//! Each borrows or takes [`JobFuture`]s and resolves as Python's namesake does.

use std::collections::VecDeque;
use std::fmt;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use crate::job::{JobError, JobFuture};
use crate::time::{Sleep, sleep};

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
    poll_fn(|cx| {
        let mut done = 0;
        let mut failed = false;
        for future in futures {
            if future.poll_done(cx).is_ready() {
                done += 1;
                failed |= future.failed();
            }
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
    AsCompleted { pending: futures.iter().collect(), total: futures.len(), timer: timeout.map(sleep) }
}

pub struct AsCompleted<'a, T> {
    pending: Vec<&'a JobFuture<T>>,
    total: usize,
    timer: Option<Sleep>,
}

impl<'a, T: Send + 'static> AsCompleted<'a, T> {
    /// The next job to settle; `None` when all have been given; a timeout error when
    /// the deadline passes first (the remaining jobs keep running).
    pub async fn next(&mut self) -> Option<Result<&'a JobFuture<T>, WaitError>> {
        if self.pending.is_empty() {
            return None;
        }
        poll_fn(|cx| {
            let first = self
                .pending
                .iter()
                .enumerate()
                .filter(|(_, f)| f.poll_done(cx).is_ready())
                .min_by(|(_, a), (_, b)| a.finished_at().total_cmp(&b.finished_at()))
                .map(|(i, _)| i);
            if let Some(i) = first {
                return Poll::Ready(Some(Ok(self.pending.remove(i))));
            }
            let timed_out = self.timer.as_mut().is_some_and(|t| Pin::new(t).poll(cx).is_ready());
            if timed_out {
                let unfinished = self.pending.len();
                self.pending.clear();
                return Poll::Ready(Some(Err(WaitError::Timeout { unfinished, total: self.total })));
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
    poll_fn(|cx| {
        let mut all = true;
        for (future, slot) in futures.iter().zip(results.iter_mut()) {
            if slot.is_some() {
                continue;
            }
            if future.poll_done(cx).is_pending() {
                all = false;
                continue;
            }
            match future.take_result() {
                Some(Ok(value)) => *slot = Some(value),
                Some(Err(error)) => return Poll::Ready(Err(error)),
                None => return Poll::Ready(Err(already_taken(future))),
            }
        }
        if all { Poll::Ready(Ok(())) } else { Poll::Pending }
    })
    .await?;
    Ok(results.into_iter().map(|r| r.expect("every slot is filled")).collect())
}

/// asyncio's `gather(*fs, return_exceptions=True)`: every outcome, in argument order.
pub async fn gather_return_exceptions<T: Send + 'static>(futures: Vec<JobFuture<T>>) -> Vec<Result<T, JobError>> {
    poll_fn(|cx| {
        let pending = futures.iter().filter(|f| f.poll_done(cx).is_pending()).count();
        if pending == 0 { Poll::Ready(()) } else { Poll::Pending }
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
