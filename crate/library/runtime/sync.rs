//! A lock that the browser's main thread may take.
//!
//! `std::sync::Mutex` puts a contended caller to sleep with `memory.atomic.wait32`,
//! which traps on the main thread of a page. Every critical section in this crate is a
//! handful of field updates and never runs user code, so the main thread may spin for
//! it; a worker sleeps instead (see `platform::wait_while`), which leaves the core to
//! the holder on a small machine.

use std::cell::UnsafeCell;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicI32, Ordering};

use crate::platform;

/// The lock word: free, held, or held with a thread asleep on it.
const FREE: i32 = 0;
const HELD: i32 = 1;
const CONTENDED: i32 = 2;

pub struct SpinLock<T> {
    state: AtomicI32,
    value: UnsafeCell<T>,
}

// SAFETY: the lock word gives one thread at a time access to `value`.
unsafe impl<T: Send> Send for SpinLock<T> {}
unsafe impl<T: Send> Sync for SpinLock<T> {}

// A panic cannot leave the value half-updated: critical sections are plain field
// updates that run no user code, and the guard unlocks as it unwinds.
impl<T> std::panic::UnwindSafe for SpinLock<T> {}
impl<T> std::panic::RefUnwindSafe for SpinLock<T> {}

impl<T> SpinLock<T> {
    pub const fn new(value: T) -> Self {
        Self { state: AtomicI32::new(FREE), value: UnsafeCell::new(value) }
    }

    pub fn lock(&self) -> SpinGuard<'_, T> {
        // The uncontended case: one compare-exchange, no call.
        if self.state.compare_exchange(FREE, HELD, Ordering::Acquire, Ordering::Relaxed).is_err() {
            self.lock_contended();
        }
        SpinGuard { lock: self }
    }

    /// A futex mutex (Drepper's "Futexes are tricky", mutex 2): a thread that may wait
    /// marks the word CONTENDED and sleeps on it until the holder's unlock wakes it.
    #[cold]
    fn lock_contended(&self) {
        let mut spins = 0u32;
        while self.state.swap(CONTENDED, Ordering::Acquire) != FREE {
            platform::wait_while(&self.state, CONTENDED, spins);
            spins = spins.wrapping_add(1);
        }
    }
}

pub struct SpinGuard<'a, T> {
    lock: &'a SpinLock<T>,
}

impl<T> Deref for SpinGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the lock.
        unsafe { &*self.lock.value.get() }
    }
}

impl<T> DerefMut for SpinGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds the lock.
        unsafe { &mut *self.lock.value.get() }
    }
}

impl<T> Drop for SpinGuard<'_, T> {
    fn drop(&mut self) {
        if self.lock.state.swap(FREE, Ordering::Release) == CONTENDED {
            platform::wake_one(&self.lock.state);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn counts_from_many_threads_without_losing_updates() {
        let counter = Arc::new(SpinLock::new(0u64));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let counter = counter.clone();
                std::thread::spawn(move || {
                    for _ in 0..10_000 {
                        *counter.lock() += 1;
                    }
                })
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
        assert_eq!(*counter.lock(), 40_000);
    }
}
