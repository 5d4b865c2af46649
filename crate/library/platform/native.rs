//! The host: workers are OS threads.

use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Context, Poll, Wake};
use std::thread::Thread;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Waits for a contended lock word to change from `value`: spins briefly, then lets
/// the holder run (it may have been preempted).
pub fn wait_while(_word: &std::sync::atomic::AtomicI32, _value: i32, spins: u32) {
    if spins < 64 {
        std::hint::spin_loop();
    } else {
        std::thread::yield_now();
    }
}

/// Nothing to do: no thread sleeps in [`wait_while`] here.
pub fn wake_one(_word: &std::sync::atomic::AtomicI32) {}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

pub fn cpu_count() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// What says a build has threads (see the browser's); the host always has them.
pub type Threads = ();

pub fn threads() -> Result<Threads, String> {
    Ok(())
}

/// A note for the developer's console; the host has none.
pub fn console_note(_message: &str) {}

/// Starts a worker running `body`; `on_exit` hears of its end (`Some(reason)` if it
/// died, which an unwinding host never sees: panics are caught per job).
pub fn spawn_worker(name: &str, body: Box<dyn FnOnce() + Send>, on_exit: Box<dyn FnOnce(Option<String>) + Send>) -> Result<(), String> {
    std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || {
            body();
            on_exit(None);
        })
        .map(drop)
        .map_err(|e| e.to_string())
}

/// Calls `fire` once `duration` has passed, from another thread.
pub fn start_timer(duration: Duration, fire: Box<dyn FnOnce() + Send>) {
    std::thread::spawn(move || {
        std::thread::sleep(duration);
        fire();
    });
}

/// Blocks the calling thread for `duration` (the jobs' `time.sleep`); says how.
pub fn block_for(duration: Duration) -> &'static str {
    std::thread::sleep(duration);
    "sleeping"
}

/// Runs `future` on a thread of its own: the host's stand-in for the page's main loop.
pub fn spawn_task(future: Pin<Box<dyn Future<Output = ()> + Send>>) {
    std::thread::spawn(move || block_on(future));
}

/// Runs a future to completion on the calling thread, parking it while it waits.
pub fn block_on<F: Future>(future: F) -> F::Output {
    struct Unpark(Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark()
        }
    }
    let waker = Arc::new(Unpark(std::thread::current())).into();
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        match future.as_mut().poll(&mut cx) {
            Poll::Ready(value) => return value,
            Poll::Pending => std::thread::park(),
        }
    }
}
