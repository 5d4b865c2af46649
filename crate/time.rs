//! Timers for the main loop: Python's `asyncio.sleep`, and `sleep(0)` to yield.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use crate::platform;
use crate::sync::SpinLock;

/// Resolves after `duration`, without blocking the thread (`asyncio.sleep`).
pub fn sleep(duration: Duration) -> Sleep {
    let state = Arc::new(SpinLock::new(TimerState { fired: false, waker: None }));
    let for_timer = state.clone();
    platform::start_timer(duration, Box::new(move || {
        let mut state = for_timer.lock();
        state.fired = true;
        let waker = state.waker.take();
        drop(state);
        waker.into_iter().for_each(Waker::wake);
    }));
    Sleep { state }
}

struct TimerState {
    fired: bool,
    waker: Option<Waker>,
}

pub struct Sleep {
    state: Arc<SpinLock<TimerState>>,
}

impl Future for Sleep {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.state.lock();
        if state.fired {
            Poll::Ready(())
        } else {
            state.waker = Some(cx.waker().clone());
            Poll::Pending
        }
    }
}

/// Lets every other ready task run once before going on (`await asyncio.sleep(0)`).
pub fn yield_now() -> impl Future<Output = ()> {
    let mut yielded = false;
    std::future::poll_fn(move |cx| {
        if yielded {
            Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
}
