//! Runs: which program a job or a log line belongs to, when several share a page (the
//! docs page's widgets each run their own), and how to stop one.
//!
//! A run is what Python's `asyncio.run(main())` is: one program on its own loop. The
//! main thread is single-threaded, so "the current run" is simply the run whose future
//! is being polled: [`Scoped`] sets it around each poll. Jobs take the run current when
//! they are submitted, workers take their job's run while they run it, and log lines
//! take the run current where they are logged. Run 0 is everything outside a run.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Weak};
use std::task::{Context, Poll};

use crate::runtime::sync::SpinLock;

/// A run's number; 0 is "no run".
pub type RunId = u32;

static NEXT_RUN: AtomicU32 = AtomicU32::new(1);

thread_local! {
    static CURRENT: Cell<RunId> = const { Cell::new(0) };
}

/// A new run's number.
pub fn new_run() -> RunId {
    NEXT_RUN.fetch_add(1, Ordering::Relaxed)
}

/// The run the calling thread is working for.
pub fn current() -> RunId {
    CURRENT.with(Cell::get)
}

/// Works for `run` until the guard is dropped (then for the run before).
pub fn enter(run: RunId) -> Entered {
    Entered(CURRENT.with(|c| c.replace(run)))
}

/// Restores the run that was current before [`enter`].
pub struct Entered(RunId);

impl Drop for Entered {
    fn drop(&mut self) {
        CURRENT.with(|c| c.set(self.0));
    }
}

/// A future that works for its run whenever it is polled.
pub struct Scoped<F> {
    run: RunId,
    future: Pin<Box<F>>,
}

/// `future`, working for `run`.
pub fn scoped<F: Future>(run: RunId, future: F) -> Scoped<F> {
    Scoped { run, future: Box::pin(future) }
}

impl<F: Future> Future for Scoped<F> {
    type Output = F::Output;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let _entered = enter(self.run);
        self.future.as_mut().poll(cx)
    }
}

/// An executor that can be stopped with its run: queued jobs cancelled, workers gone.
pub(crate) trait Stop: Send + Sync {
    fn stop(self: Arc<Self>);
}

/// The executors each run has made and not yet dropped.
static EXECUTORS: SpinLock<Vec<(RunId, Weak<dyn Stop>)>> = SpinLock::new(Vec::new());

/// Notes that the current run made `executor`, so that [`stop`] reaches it.
pub(crate) fn adopt(executor: Weak<dyn Stop>) {
    let run = current();
    if run != 0 {
        let mut executors = EXECUTORS.lock();
        executors.retain(|(_, e)| e.strong_count() > 0);
        executors.push((run, executor));
    }
}

/// Stops every executor `run` made that is still alive; returns how many. The run's
/// own future is the caller's to drop.
pub fn stop(run: RunId) -> usize {
    let (theirs, others): (Vec<_>, Vec<_>) = std::mem::take(&mut *EXECUTORS.lock()).into_iter().partition(|(r, _)| *r == run);
    EXECUTORS.lock().extend(others);
    let alive: Vec<Arc<dyn Stop>> = theirs.iter().filter_map(|(_, e)| e.upgrade()).collect();
    let count = alive.len();
    alive.into_iter().for_each(Stop::stop);
    count
}

/// Per-run values made on first use: a run's default executor. (Few runs are live at
/// once: a list is enough, and less code than a map.)
pub(crate) struct PerRun<T>(SpinLock<Vec<(RunId, T)>>);

impl<T: Clone> PerRun<T> {
    pub(crate) const fn new() -> Self {
        PerRun(SpinLock::new(Vec::new()))
    }

    /// The current run's value, made by `make` if it has none yet.
    pub(crate) fn get_or_make(&self, make: impl FnOnce() -> T) -> T {
        let run = current();
        let mut values = self.0.lock();
        if let Some((_, value)) = values.iter().find(|(r, _)| *r == run) {
            return value.clone();
        }
        let value = make();
        values.push((run, value.clone()));
        value
    }

    /// Takes `run`'s value away, if it had one.
    pub(crate) fn take(&self, run: RunId) -> Option<T> {
        let mut values = self.0.lock();
        let i = values.iter().position(|(r, _)| *r == run)?;
        Some(values.swap_remove(i).1)
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn a_scoped_future_works_for_its_run_only_while_polled() {
        let run = new_run();
        let seen = crate::block_on(scoped(run, async { current() }));
        assert_eq!(seen, run);
        assert_eq!(current(), 0);
    }

    #[test]
    fn entering_nests_and_restores() {
        let (a, b) = (new_run(), new_run());
        let _outer = enter(a);
        {
            let _inner = enter(b);
            assert_eq!(current(), b);
        }
        assert_eq!(current(), a);
    }

    struct Counter(SpinLock<usize>);
    impl Stop for Counter {
        fn stop(self: Arc<Self>) {
            *self.0.lock() += 1;
        }
    }

    #[test]
    fn stopping_a_run_reaches_its_executors_and_no_others() {
        let (a, b) = (new_run(), new_run());
        let mine: Arc<Counter> = Arc::new(Counter(SpinLock::new(0)));
        let theirs: Arc<Counter> = Arc::new(Counter(SpinLock::new(0)));
        {
            let _in = enter(a);
            adopt(Arc::downgrade(&(mine.clone() as Arc<dyn Stop>)));
        }
        {
            let _in = enter(b);
            adopt(Arc::downgrade(&(theirs.clone() as Arc<dyn Stop>)));
        }
        assert_eq!(stop(a), 1);
        assert_eq!((*mine.0.lock(), *theirs.0.lock()), (1, 0));
        assert_eq!(stop(a), 0, "a run is stopped once");
        assert_eq!(stop(b), 1);
    }

    #[test]
    fn each_run_gets_its_own_value() {
        static VALUES: PerRun<u32> = PerRun::new();
        let (a, b) = (new_run(), new_run());
        let in_a = {
            let _in = enter(a);
            VALUES.get_or_make(|| 1)
        };
        let in_b = {
            let _in = enter(b);
            VALUES.get_or_make(|| 2)
        };
        let _in = enter(a);
        assert_eq!((in_a, in_b, VALUES.get_or_make(|| 3)), (1, 2, 1));
        assert_eq!(VALUES.take(a), Some(1));
        assert_eq!(VALUES.take(a), None);
    }
}
