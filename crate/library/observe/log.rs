//! The log of a run, in the formats of Python's `logging` as the scenarios configure
//! it: `%(threadName)10s %(name)18s: %(message)s` for threads, and
//! `PID %(process)5s %(name)18s: %(message)s` for processes.
//!
//! Lines are kept in memory, shared by every thread, so the page can read them while a
//! run is live.

use std::cell::{Cell, RefCell};
use std::sync::Arc;

use serde::Serialize;

use crate::platform;
use crate::runtime::scope::{self, RunId};
use crate::runtime::sync::SpinLock;

/// What Python calls the main thread; every thread that is not a pool worker logs as it.
pub const MAIN_THREAD: &str = "MainThread";

/// The page's process id in logs. Process workers get the ids after it, as a program's
/// child processes get theirs.
pub const MAIN_PID: u32 = 10_000;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LogLine {
    /// Milliseconds since the Unix epoch, on the clock shared by all workers.
    pub time: f64,
    /// The process that logged it: the page, or a process worker.
    pub process: u32,
    /// The worker's name (`ThreadPoolExecutor-0_1`), or `MainThread`.
    pub thread: Arc<str>,
    /// The logger: `run_blocking_tasks`, `blocks(3)`.
    pub logger: String,
    pub message: String,
    /// The run it was logged for (see `scope`); 0 outside any run.
    pub run: RunId,
}

impl LogLine {
    /// Python's `%(threadName)10s %(name)18s: %(message)s`: right-aligned, never cut.
    pub fn format(&self) -> String {
        format!("{:>10} {:>18}: {}", self.thread, self.logger, self.message)
    }

    /// Python's `PID %(process)5s %(name)18s: %(message)s`.
    pub fn format_process(&self) -> String {
        format!("PID {:>5} {:>18}: {}", self.process, self.logger, self.message)
    }
}

/// Makes the calling thread a process worker's: its lines carry `pid` and go to
/// `sink` (the worker's pool) instead of this log.
pub(crate) fn become_process(pid: u32, sink: Sink) {
    PROCESS_ID.with(|p| p.set(pid));
    SINK.with(|s| *s.borrow_mut() = Some(sink));
}

/// Every line, in time order.
struct Log {
    lines: Vec<LogLine>,
    /// Counts the changes that move lines already there: a line put in its place before
    /// the end, lines removed. A [`RunLogReader`]'s place in `lines` is lost then.
    moves: u64,
}

static LOG: SpinLock<Log> = SpinLock::new(Log { lines: Vec::new(), moves: 0 });

thread_local! {
    static THREAD_NAME: RefCell<Option<Arc<str>>> = const { RefCell::new(None) };
    /// The process this thread belongs to: the page, or a process worker.
    static PROCESS_ID: Cell<u32> = const { Cell::new(MAIN_PID) };
    /// Where a process worker's lines go instead of this log: to its pool.
    static SINK: RefCell<Option<Sink>> = const { RefCell::new(None) };
}

/// Sends a log line elsewhere.
pub type Sink = Box<dyn Fn(LogLine)>;

/// Names the calling thread for the log and the records, for as long as it lives.
pub fn set_thread_name(name: Arc<str>) {
    THREAD_NAME.with(|n| *n.borrow_mut() = Some(name));
}

/// Names the calling thread until the returned guard drops: a pool worker holds it for
/// its whole loop. A Web Worker thread ends without running thread-local destructors,
/// so a name left set would stay allocated in the shared heap, one per worker ever run.
pub fn name_thread(name: Arc<str>) -> ThreadNamed {
    set_thread_name(name);
    ThreadNamed(())
}

/// The calling thread's name, until dropped: see [`name_thread`].
#[must_use = "the thread loses its name when this drops"]
pub struct ThreadNamed(());

impl Drop for ThreadNamed {
    fn drop(&mut self) {
        THREAD_NAME.with(|n| n.borrow_mut().take());
    }
}

/// Python's `threading.current_thread().name`.
pub fn current_thread_name() -> Arc<str> {
    THREAD_NAME.with(|n| n.borrow().clone()).unwrap_or_else(|| Arc::from(MAIN_THREAD))
}

/// Appends a line from the calling thread, as `logging.getLogger(logger).info(message)`.
pub fn log(logger: &str, message: impl Into<String>) {
    let line = LogLine {
        time: platform::now_ms(),
        process: PROCESS_ID.with(Cell::get),
        thread: current_thread_name(),
        logger: logger.to_owned(),
        message: message.into(),
        run: scope::current(),
    };
    let line = SINK.with(|sink| match &*sink.borrow() {
        Some(sink) => {
            sink(line);
            None
        }
        None => Some(line),
    });
    if let Some(line) = line {
        LOG.lock().lines.push(line);
    }
}

/// Every line so far, oldest first.
pub fn lines() -> Vec<LogLine> {
    LOG.lock().lines.clone()
}

/// Lines from index `from` on, for a reader that polls while a run is live.
pub fn lines_since(from: usize) -> Vec<LogLine> {
    LOG.lock().lines.get(from..).map(<[LogLine]>::to_vec).unwrap_or_default()
}

/// Lines of one run, oldest first.
pub fn lines_of_run(run: RunId) -> Vec<LogLine> {
    lines_of_run_from(run, 0)
}

/// Lines of one run from its `from`th on: what a live view has not read yet. Copies
/// only those (a long run's log is read once a frame).
pub fn lines_of_run_from(run: RunId, from: usize) -> Vec<LogLine> {
    LOG.lock().lines.iter().filter(|l| l.run == run).skip(from).cloned().collect()
}

/// Reads one run's lines as they are logged, copying each line once: a live timeline
/// reads a long run's log every frame, and copying all of it each time cost more than
/// a frame has.
pub struct RunLogReader {
    run: RunId,
    /// How far into the log the last read went.
    scanned: usize,
    /// The log's `moves` at the last read.
    moves: u64,
}

impl RunLogReader {
    pub fn new(run: RunId) -> RunLogReader {
        RunLogReader { run, scanned: 0, moves: 0 }
    }

    /// Adds the run's lines logged since the last read to `lines`, which holds what
    /// this reader read before, and returns true. If lines moved since, `lines` is read
    /// again from the start, and it returns false: what it held may have changed.
    pub fn read(&mut self, lines: &mut Vec<LogLine>) -> bool {
        let log = LOG.lock();
        let kept = log.moves == self.moves;
        if !kept {
            lines.clear();
            (self.scanned, self.moves) = (0, log.moves);
        }
        lines.extend(log.lines[self.scanned..].iter().filter(|l| l.run == self.run).cloned());
        self.scanned = log.lines.len();
        kept
    }
}

/// Adds a line logged in a process worker, in time order: it arrives by message,
/// after lines the page logged later.
pub(crate) fn append(line: LogLine) {
    let mut log = LOG.lock();
    let at = log.lines.iter().rposition(|l| l.time <= line.time).map_or(0, |i| i + 1);
    if at < log.lines.len() {
        log.moves += 1;
    }
    log.lines.insert(at, line);
}

/// Forgets run `run`'s lines.
pub fn forget_run(run: RunId) {
    let mut log = LOG.lock();
    log.lines.retain(|line| line.run != run);
    log.moves += 1;
}

pub fn clear() {
    // A new Vec, not `clear()`: the memory of a long run goes back too.
    let mut log = LOG.lock();
    log.lines = Vec::new();
    log.moves += 1;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_python_logging() {
        let line = LogLine {
            time: 0.0,
            process: 10_042,
            thread: Arc::from("MainThread"),
            logger: "run_blocking_tasks".into(),
            message: "starting".into(),
            run: 0,
        };
        assert_eq!(line.format(), "MainThread run_blocking_tasks: starting");
        let worker = LogLine { thread: Arc::from("Thread-1"), logger: "blocks(0)".into(), message: "running".into(), ..line };
        assert_eq!(worker.format(), "  Thread-1          blocks(0): running");
        assert_eq!(worker.format_process(), "PID 10042          blocks(0): running");
    }

    #[test]
    fn a_live_view_reads_a_runs_lines_from_where_it_stopped() {
        let (a, b) = (crate::runtime::scope::new_run(), crate::runtime::scope::new_run());
        for (run, message) in [(a, "one"), (b, "other"), (a, "two"), (a, "three")] {
            let _in = crate::runtime::scope::enter(run);
            log("reader", message);
        }
        let messages = |from| lines_of_run_from(a, from).into_iter().map(|l| l.message).collect::<Vec<_>>();
        assert_eq!(messages(0), ["one", "two", "three"]);
        assert_eq!(messages(1), ["two", "three"]);
        assert!(messages(3).is_empty());
    }

    #[test]
    fn a_run_log_reader_copies_each_new_line_once_and_starts_again_when_lines_move() {
        let (a, b) = (crate::runtime::scope::new_run(), crate::runtime::scope::new_run());
        let say = |run, message| {
            let _in = crate::runtime::scope::enter(run);
            log("reader", message);
        };
        let messages = |lines: &[LogLine]| lines.iter().map(|l| l.message.clone()).collect::<Vec<_>>();
        let mut reader = RunLogReader::new(a);
        let mut lines = Vec::new();
        say(a, "one");
        say(b, "other");
        reader.read(&mut lines);
        assert_eq!(messages(&lines), ["one"]);
        std::thread::sleep(std::time::Duration::from_millis(2)); // "two" is later than "one"
        say(a, "two");
        reader.read(&mut lines);
        reader.read(&mut lines);
        assert_eq!(messages(&lines), ["one", "two"], "a line is read once");
        // A process worker's line arrives after a later one: it goes in its place.
        let first = lines[0].time;
        append(LogLine { time: first, message: "from a process".into(), ..lines[0].clone() });
        assert!(!reader.read(&mut lines), "read again from the start");
        assert_eq!(messages(&lines), ["one", "from a process", "two"]);
    }

    #[test]
    fn a_thread_is_named_while_its_guard_lives() {
        std::thread::spawn(|| {
            assert_eq!(&*current_thread_name(), MAIN_THREAD);
            let named = name_thread(Arc::from("ThreadPoolExecutor-0_0"));
            assert_eq!(&*current_thread_name(), "ThreadPoolExecutor-0_0");
            drop(named);
            assert_eq!(&*current_thread_name(), MAIN_THREAD, "the name goes with its guard");
        })
        .join()
        .unwrap();
    }
}
