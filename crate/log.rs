//! The log of a run, in the format of Python's `logging` as the scenarios configure it:
//! `%(threadName)10s %(name)18s: %(message)s`.
//!
//! Lines are kept in memory, shared by every thread, so the page can read them while a
//! run is live.

use std::cell::RefCell;
use std::sync::Arc;

use serde::Serialize;

use crate::platform;
use crate::sync::SpinLock;

/// What Python calls the main thread; every thread that is not a pool worker logs as it.
pub const MAIN_THREAD: &str = "MainThread";

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LogLine {
    /// Milliseconds since the Unix epoch, on the clock shared by all workers.
    pub time: f64,
    /// The worker's name (`ThreadPoolExecutor-0_1`), or `MainThread`.
    pub thread: Arc<str>,
    /// The logger: `run_blocking_tasks`, `blocks(3)`.
    pub logger: String,
    pub message: String,
}

impl LogLine {
    /// Python's `%(threadName)10s %(name)18s: %(message)s`: right-aligned, never cut.
    pub fn format(&self) -> String {
        format!("{:>10} {:>18}: {}", self.thread, self.logger, self.message)
    }
}

static LINES: SpinLock<Vec<LogLine>> = SpinLock::new(Vec::new());

thread_local! {
    static THREAD_NAME: RefCell<Option<Arc<str>>> = const { RefCell::new(None) };
}

/// Names the calling thread for the log and the records (a pool worker calls it once).
pub fn set_thread_name(name: Arc<str>) {
    THREAD_NAME.with(|n| *n.borrow_mut() = Some(name));
}

/// Python's `threading.current_thread().name`.
pub fn current_thread_name() -> Arc<str> {
    THREAD_NAME.with(|n| n.borrow().clone()).unwrap_or_else(|| Arc::from(MAIN_THREAD))
}

/// Appends a line from the calling thread, as `logging.getLogger(logger).info(message)`.
pub fn log(logger: &str, message: impl Into<String>) {
    let line = LogLine {
        time: platform::now_ms(),
        thread: current_thread_name(),
        logger: logger.to_owned(),
        message: message.into(),
    };
    LINES.lock().push(line);
}

/// Every line so far, oldest first.
pub fn lines() -> Vec<LogLine> {
    LINES.lock().clone()
}

/// Lines from index `from` on, for a reader that polls while a run is live.
pub fn lines_since(from: usize) -> Vec<LogLine> {
    LINES.lock().get(from..).map(<[LogLine]>::to_vec).unwrap_or_default()
}

pub fn clear() {
    LINES.lock().clear();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_python_logging() {
        let line = LogLine {
            time: 0.0,
            thread: Arc::from("MainThread"),
            logger: "run_blocking_tasks".into(),
            message: "starting".into(),
        };
        assert_eq!(line.format(), "MainThread run_blocking_tasks: starting");
        let worker = LogLine {
            thread: Arc::from("Thread-1"),
            logger: "blocks(0)".into(),
            message: "running".into(),
            ..line
        };
        assert_eq!(worker.format(), "  Thread-1          blocks(0): running");
    }

    #[test]
    fn a_thread_without_a_name_is_the_main_thread() {
        std::thread::spawn(|| {
            assert_eq!(&*current_thread_name(), MAIN_THREAD);
            set_thread_name(Arc::from("ThreadPoolExecutor-0_0"));
            assert_eq!(&*current_thread_name(), "ThreadPoolExecutor-0_0");
        })
        .join()
        .unwrap();
    }
}
