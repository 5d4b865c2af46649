//! The host's process workers (tests, benchmarks): threads that share nothing with the
//! pool but messages.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::process::protocol::{ByName, Event, ProcessHandle, Sent, WorkerReport};
use crate::process::worker::{self, Emit};

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
