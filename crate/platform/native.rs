//! The host: workers are OS threads.

use std::future::Future;
use std::pin::{Pin, pin};
use std::task::{Context, Poll, Wake};
use std::thread::Thread;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};


/// Milliseconds since the Unix epoch.
pub fn now_ms() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
}

pub fn cpu_count() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Threads are always there on the host.
pub fn threads_available() -> Result<(), String> {
    Ok(())
}

/// Starts a worker running `body`; `on_exit` hears of its end (`Some(reason)` if it
/// died, which an unwinding host never sees: panics are caught per job).
pub fn spawn_worker(
    name: &str,
    body: Box<dyn FnOnce() + Send>,
    on_exit: Box<dyn FnOnce(Option<String>) + Send>,
) -> Result<(), String> {
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

/// Blocks the calling thread for `duration` (the jobs' `time.sleep`).
pub fn block_for(duration: Duration) {
    std::thread::sleep(duration)
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
