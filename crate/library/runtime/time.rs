//! The main loop's tools: `asyncio.sleep`, `sleep(0)` to yield, and `create_task`.

use std::future::Future;
use std::time::Duration;

use crate::platform;
use crate::runtime::oneshot;
use crate::runtime::scope;

/// Resolves after `duration`, without blocking the thread (`asyncio.sleep`).
pub fn sleep(duration: Duration) -> Sleep {
    let (fire, fired) = oneshot::channel();
    platform::start_timer(duration, Box::new(move || fire.send(())));
    fired
}

/// The future of [`sleep`].
pub type Sleep = oneshot::Receiver<()>;

/// Lets every other ready task run once before going on (`await asyncio.sleep(0)`).
pub fn yield_now() -> impl Future<Output = ()> {
    let mut yielded = false;
    std::future::poll_fn(move |cx| {
        if yielded {
            std::task::Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    })
}

/// `asyncio.create_task`: starts `future` on the main loop now, in the current run;
/// await the handle for its output.
pub fn spawn<T: Send + 'static>(future: impl Future<Output = T> + Send + 'static) -> oneshot::Receiver<T> {
    let (done, output) = oneshot::channel();
    let task = async move { done.send(future.await) };
    platform::spawn_task(Box::pin(scope::scoped(scope::current(), task)));
    output
}
