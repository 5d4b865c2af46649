//! The host: workers are OS threads.

use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake};
use std::thread::Thread;

use crate::executors::job::ByName;
use crate::process::protocol::{Event, ProcessHandle, Sent, WorkerReport};
use crate::process::worker::{self, Emit};
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

/// The host's stand-in for a process worker: a thread that shares nothing with the
/// pool but the messages, which cross as JSON text as they would between processes.
/// `terminate` cannot stop a thread mid-job: it cuts the worker off, and whatever it
/// sends afterwards is dropped, as a dead process sends nothing.
pub(crate) fn spawn_process(
    pid: u32,
    initializer: Option<ByName>,
    _module: Option<String>, // JavaScript modules are the browser's; the builder offers none here
    report: Box<dyn Fn(WorkerReport) + Send + Sync>,
) -> Result<Arc<dyn ProcessHandle>, String> {
    let (to_worker, inbox) = std::sync::mpsc::channel::<String>();
    let cut_off = Arc::new(AtomicBool::new(false));
    let alive = cut_off.clone();
    let emit: Emit = Arc::new(move |event: Event| {
        let json = serde_json::to_string(&event).expect("events serialise");
        if !alive.load(Ordering::Acquire) {
            report(Ok(serde_json::from_str(&json).expect("events deserialise")));
        }
    });
    std::thread::Builder::new()
        .name(format!("process-{pid}"))
        .spawn(move || {
            emit(worker::start(pid, initializer.as_ref(), &emit));
            for batch in inbox {
                let batch = serde_json::from_str(&batch).expect("batches deserialise");
                worker::run_batch(batch, &*emit);
            }
        })
        .map_err(|e| e.to_string())?;
    Ok(Arc::new(ThreadProcess { to_worker: std::sync::Mutex::new(Some(to_worker)), cut_off }))
}

struct ThreadProcess {
    to_worker: std::sync::Mutex<Option<std::sync::mpsc::Sender<String>>>,
    cut_off: Arc<AtomicBool>,
}

impl ProcessHandle for ThreadProcess {
    fn send(&self, batch: Vec<Sent>) {
        let json = serde_json::to_string(&batch).expect("batches serialise");
        if let Some(to_worker) = &*self.to_worker.lock().unwrap() {
            let _ = to_worker.send(json);
        }
    }

    fn terminate(&self) {
        self.cut_off.store(true, Ordering::Release);
        // Dropping the sender ends the worker's loop once its current batch is done.
        self.to_worker.lock().unwrap().take();
    }
}

/// The host has no JavaScript modules: jobs run by the registry.
pub(crate) fn module_job(_name: &str, _args: &[serde_json::Value]) -> Option<Result<serde_json::Value, String>> {
    None
}
