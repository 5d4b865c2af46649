//! Job records: what the timeline draws and the tests check. One per submitted job,
//! kept for the whole run and readable while it goes on.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use serde::{Serialize, Serializer};

use crate::observe::log::{LogLine, MAIN_PID, MAIN_THREAD};
use crate::runtime::scope::RunId;
use crate::runtime::sync::SpinLock;

/// A job's state, as `concurrent.futures` names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JobState {
    /// Queued, waiting for a worker; the only state in which `cancel()` succeeds.
    Pending,
    /// A worker is running it.
    Running,
    /// Ran to the end: a result or an error.
    Finished,
    /// Cancelled before a worker took it.
    Cancelled,
}

/// Who ran a job: the page's main thread, a thread of a thread pool (by its name,
/// `ThreadPoolExecutor-0_1`), or a process worker (by its pid).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Worker {
    Main,
    Thread(Arc<str>),
    Process(u32),
}

impl Worker {
    /// The worker that logged `line`.
    pub fn of_line(line: &LogLine) -> Worker {
        match (line.process, &*line.thread) {
            (MAIN_PID, MAIN_THREAD) => Worker::Main,
            (MAIN_PID, _) => Worker::Thread(line.thread.clone()),
            (pid, _) => Worker::Process(pid),
        }
    }

    /// A lane's title: `MainThread`, `ThreadPoolExecutor-0_1`, `PID 10001`.
    pub fn title(&self) -> String {
        match self {
            Worker::Process(pid) => format!("PID {pid}"),
            other => other.to_string(),
        }
    }
}

/// As Python's logging names them: `MainThread`, the thread's name, the pid.
impl fmt::Display for Worker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Worker::Main => f.write_str(MAIN_THREAD),
            Worker::Thread(name) => f.write_str(name),
            Worker::Process(pid) => write!(f, "{pid}"),
        }
    }
}

/// JavaScript reads a worker as its name (and `workerKind` beside it).
impl Serialize for Worker {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// How a job ended, decided once, when it settled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It returned a result.
    Ok,
    /// It returned an error (bad arguments, an unknown name, a failed GET), or could
    /// not be sent to a worker.
    Failed,
    Panicked,
    /// It ran past the pool's job timeout, and its worker was terminated.
    TimedOut,
    /// Cancelled while it waited.
    Cancelled,
    /// Its worker died under it, or no worker could run it (a broken pool).
    WorkerDied,
}

/// Where a job stands: waiting, running, or ended, and how. What timelines and traces
/// draw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    Pending,
    Running,
    Ended(Outcome),
}

impl Progress {
    /// `pending`, `running`, or the outcome's name (`ok`, `timedOut`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Progress::Pending => "pending",
            Progress::Running => "running",
            Progress::Ended(outcome) => outcome.name(),
        }
    }
}

impl Serialize for Progress {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl Outcome {
    /// The name JavaScript reads: `ok`, `failed`, `panicked`, `timedOut`, `cancelled`,
    /// `workerDied`.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Failed => "failed",
            Outcome::Panicked => "panicked",
            Outcome::TimedOut => "timedOut",
            Outcome::Cancelled => "cancelled",
            Outcome::WorkerDied => "workerDied",
        }
    }

    /// Whether the job gave no result through a fault of its own or of its worker.
    pub fn is_failure(self) -> bool {
        !matches!(self, Outcome::Ok | Outcome::Cancelled)
    }
}

/// A snapshot of one job, with times in milliseconds since the Unix epoch on the clock
/// that all workers share.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct JobRecord {
    /// Unique in the page, in submission order.
    pub id: u64,
    /// The run that submitted it (see `scope`); 0 outside any run.
    pub run: RunId,
    /// The job as a call: `blocks(3)`.
    pub label: String,
    /// The executor's name: `ThreadPoolExecutor-0`, `asyncio`.
    pub executor: Arc<str>,
    /// The worker that ran it, once one took it.
    pub worker: Option<Worker>,
    pub state: JobState,
    /// How it ended, once it has.
    pub outcome: Option<Outcome>,
    pub submitted: f64,
    pub started: Option<f64>,
    pub finished: Option<f64>,
    /// The result, shown as text, where the job says how to show it.
    pub result: Option<String>,
    /// The error of a failed or cancelled job.
    pub error: Option<String>,
    /// What the job said of how it ran: `blocked 100 ms by sleeping`.
    pub note: Option<String>,
}

impl Serialize for Outcome {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl JobRecord {
    /// Where the job stands. (A record with an outcome has ended, whatever its state
    /// says: the outcome is set as the job settles.)
    pub fn progress(&self) -> Progress {
        match (self.outcome, self.state) {
            (Some(outcome), _) => Progress::Ended(outcome),
            (None, JobState::Pending) => Progress::Pending,
            (None, JobState::Running) => Progress::Running,
            // Not reached: a job finishes or is cancelled with its outcome.
            (None, JobState::Finished) => Progress::Ended(Outcome::Ok),
            (None, JobState::Cancelled) => Progress::Ended(Outcome::Cancelled),
        }
    }
}

/// Anything that can report its record: a job of any result type.
pub trait Recorded: Send + Sync {
    fn record(&self) -> JobRecord;
}

/// The jobs of one run, in submission order, and which of them changed since they were
/// entered (by their place in `jobs`), for readers that follow the run.
struct RunBook {
    run: RunId,
    jobs: Vec<Arc<dyn Recorded>>,
    changed: Vec<u32>,
}

/// Every run's jobs until the run is forgotten (or `clear()`). Few runs are kept at
/// once: a list.
static BOOK: SpinLock<Vec<RunBook>> = SpinLock::new(Vec::new());

/// Adds a job to its run's book; returns its place there, for [`touched`]. Called once
/// per job, at submission.
pub(crate) fn enter(run: RunId, job: Arc<dyn Recorded>) -> u32 {
    let mut book = BOOK.lock();
    let at = match book.iter().position(|b| b.run == run) {
        Some(at) => at,
        None => {
            book.push(RunBook { run, jobs: Vec::new(), changed: Vec::new() });
            book.len() - 1
        }
    };
    let jobs = &mut book[at].jobs;
    jobs.push(job);
    (jobs.len() - 1) as u32
}

/// The job at `place` in `run`'s book changed state: readers re-read it.
pub(crate) fn touched(run: RunId, place: u32, job: *const ()) {
    // Only if the book still holds this job there: after `clear()` (or its run was
    // forgotten and began again) the place may be past the book's end, or another's.
    if let Some(book) = BOOK.lock().iter_mut().find(|b| b.run == run)
        && book.jobs.get(place as usize).is_some_and(|entered| std::ptr::addr_eq(Arc::as_ptr(entered), job))
    {
        book.changed.push(place);
    }
}

/// Every record so far, in submission order.
pub fn records() -> Vec<JobRecord> {
    // Copy the lists out first: `record()` takes each job's own lock.
    let jobs: Vec<_> = BOOK.lock().iter().flat_map(|b| b.jobs.iter().cloned()).collect();
    let mut records: Vec<JobRecord> = jobs.iter().map(|job| job.record()).collect();
    records.sort_by_key(|r| r.id);
    records
}

/// Records of one executor only.
pub fn records_of(executor: &str) -> Vec<JobRecord> {
    records().into_iter().filter(|r| &*r.executor == executor).collect()
}

/// Records of one run only.
pub fn records_of_run(run: RunId) -> Vec<JobRecord> {
    let jobs = BOOK.lock().iter().find(|b| b.run == run).map(|b| b.jobs.clone()).unwrap_or_default();
    jobs.iter().map(|job| job.record()).collect()
}

/// Forgets run `run`'s records: a widget whose run was replaced, or that left the page.
pub fn forget_run(run: RunId) {
    BOOK.lock().retain(|b| b.run != run);
}

/// A reader that follows one run: each `read` brings its copy of the run's records up
/// to date, reading only the jobs entered or changed since the last read.
#[derive(Default)]
pub struct RunReader {
    run: RunId,
    /// How many of the book's `changed` entries were read.
    seen: usize,
}

impl RunReader {
    pub fn new(run: RunId) -> RunReader {
        RunReader { run, seen: 0 }
    }

    /// Updates `records` (this reader's copy, in submission order); true if anything
    /// changed. A forgotten run reads as empty.
    pub fn read(&mut self, records: &mut Vec<JobRecord>) -> bool {
        let (new, changed) = {
            let book = BOOK.lock();
            let Some(book) = book.iter().find(|b| b.run == self.run) else {
                let had = !records.is_empty();
                records.clear();
                return had;
            };
            let new: Vec<_> = book.jobs.get(records.len()..).unwrap_or_default().to_vec();
            let changed: Vec<(u32, Arc<dyn Recorded>)> =
                book.changed.get(self.seen..).unwrap_or_default().iter().map(|&at| (at, book.jobs[at as usize].clone())).collect();
            self.seen = book.changed.len();
            (new, changed)
        };
        let any = !new.is_empty() || !changed.is_empty();
        for (at, job) in changed {
            if let Some(record) = records.get_mut(at as usize) {
                *record = job.record();
            }
        }
        records.extend(new.iter().map(|job| job.record()));
        any
    }
}

/// Forgets every record (the page's "clear", the tests between runs).
pub fn clear() {
    // A new Vec, not `clear()`: the memory of a long run goes back too.
    *BOOK.lock() = Vec::new();
    CLEARS.fetch_add(1, Ordering::Relaxed);
}

/// How many times [`clear`] ran: run 0's book starts again from place 0 after it.
static CLEARS: AtomicU32 = AtomicU32::new(0);

/// A reader of the jobs that ran and ended, in every run: each such job once, soon
/// after it ends (DevTools' tracks). Each read costs what changed since the last one.
#[derive(Default)]
pub struct EndedReader {
    /// The runs followed: how much of each book was read, and which jobs were reported.
    runs: Vec<Followed>,
    /// Jobs entered or changed since they were looked at, oldest change first.
    waiting: VecDeque<(RunId, u32, Arc<dyn Recorded>)>,
    clears: u32,
}

struct Followed {
    run: RunId,
    jobs: usize,
    changes: usize,
    reported: Vec<bool>,
}

impl EndedReader {
    pub fn new() -> EndedReader {
        EndedReader { clears: CLEARS.load(Ordering::Relaxed), ..EndedReader::default() }
    }

    /// Up to `max` records of jobs that a worker (or the main thread) ran and that
    /// have ended since they were last looked at, each job once; the rest wait for
    /// the next read. Jobs cancelled before they ran are passed over; a forgotten
    /// run's jobs too.
    pub fn read(&mut self, max: usize) -> Vec<JobRecord> {
        self.catch_up();
        let mut ended = Vec::new();
        while ended.len() < max {
            let Some((run, place, job)) = self.waiting.pop_front() else { break };
            let Some(followed) = self.runs.iter_mut().find(|f| f.run == run) else { continue };
            let reported = &mut followed.reported[place as usize];
            if *reported {
                continue;
            }
            let record = job.record();
            if !matches!(record.progress(), Progress::Ended(_)) {
                continue; // it is looked at again when it changes
            }
            *reported = true;
            if record.worker.is_some() && record.started.is_some() && record.finished.is_some() {
                ended.push(record);
            }
        }
        ended
    }

    /// Queues what the book entered and changed since the last read.
    fn catch_up(&mut self) {
        let clears = CLEARS.load(Ordering::Relaxed);
        if clears != self.clears {
            *self = EndedReader { clears, ..EndedReader::default() };
        }
        let book = BOOK.lock();
        self.runs.retain(|f| book.iter().any(|b| b.run == f.run));
        for b in book.iter() {
            let at = match self.runs.iter().position(|f| f.run == b.run) {
                Some(at) => at,
                None => {
                    self.runs.push(Followed { run: b.run, jobs: 0, changes: 0, reported: Vec::new() });
                    self.runs.len() - 1
                }
            };
            let followed = &mut self.runs[at];
            let changed = b.changed.get(followed.changes..).unwrap_or_default().iter().copied();
            let new = followed.jobs as u32..b.jobs.len() as u32;
            self.waiting.extend(new.chain(changed).map(|place| (b.run, place, b.jobs[place as usize].clone())));
            followed.jobs = b.jobs.len();
            followed.changes = b.changed.len();
            followed.reported.resize(b.jobs.len(), false);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::sync::SpinLock;

    /// A job whose record the test sets.
    struct Fake(SpinLock<JobRecord>);

    impl Recorded for Fake {
        fn record(&self) -> JobRecord {
            self.0.lock().clone()
        }
    }

    fn fake(id: u64, run: RunId) -> Arc<Fake> {
        Arc::new(Fake(SpinLock::new(JobRecord {
            id,
            run,
            label: format!("job{id}"),
            executor: Arc::from("test"),
            worker: None,
            state: JobState::Pending,
            outcome: None,
            submitted: 0.0,
            started: None,
            finished: None,
            result: None,
            error: None,
            note: None,
        })))
    }

    #[test]
    fn a_reader_reads_its_runs_new_and_changed_jobs_only_and_a_forgotten_run_is_released() {
        let (mine, other) = (crate::runtime::scope::new_run(), crate::runtime::scope::new_run());
        let jobs: Vec<_> = (0..3).map(|i| fake(i, mine)).collect();
        let places: Vec<u32> = jobs.iter().map(|job| enter(mine, job.clone())).collect();
        assert_eq!(places, [0, 1, 2]);
        enter(other, fake(99, other));
        let mut reader = RunReader::new(mine);
        let mut records = Vec::new();
        assert!(reader.read(&mut records));
        assert_eq!(records.iter().map(|r| r.id).collect::<Vec<_>>(), [0, 1, 2]);
        assert!(!reader.read(&mut records), "nothing changed");

        jobs[1].0.lock().state = JobState::Running;
        touched(mine, places[1], Arc::as_ptr(&jobs[1]).cast());
        let late = fake(3, mine);
        enter(mine, late.clone());
        assert!(reader.read(&mut records));
        assert_eq!(
            records.iter().map(|r| (r.id, r.state)).collect::<Vec<_>>(),
            [(0, JobState::Pending), (1, JobState::Running), (2, JobState::Pending), (3, JobState::Pending)]
        );

        forget_run(mine);
        assert!(records_of_run(mine).is_empty());
        assert!(reader.read(&mut records));
        assert!(records.is_empty());
        assert_eq!(records_of_run(other).len(), 1, "other runs are kept");
        assert_eq!(Arc::strong_count(&late), 1, "the book let go of the forgotten run's jobs");
        forget_run(other);
    }

    #[test]
    fn an_ended_reader_gives_each_job_that_ran_once_when_it_ends_at_most_max_at_a_time() {
        let run = crate::runtime::scope::new_run();
        let jobs: Vec<_> = (0..4).map(|i| fake(100 + i, run)).collect();
        let places: Vec<u32> = jobs.iter().map(|job| enter(run, job.clone())).collect();
        let end = |k: usize, outcome: Outcome| {
            let mut record = jobs[k].0.lock();
            (record.worker, record.started, record.finished) = (Some(Worker::Process(7)), Some(1.0), Some(2.0));
            (record.state, record.outcome) = (JobState::Finished, Some(outcome));
            drop(record);
            touched(run, places[k], Arc::as_ptr(&jobs[k]).cast());
        };
        // Other tests' jobs share the book: only this run's are compared.
        let ids = |records: Vec<JobRecord>| records.iter().filter(|r| r.run == run).map(|r| r.id).collect::<Vec<_>>();
        let mut reader = EndedReader::new();
        assert!(ids(reader.read(usize::MAX)).is_empty(), "nothing ended yet");

        end(1, Outcome::Ok);
        end(2, Outcome::Failed);
        // Cancelled while queued: it ended, but no worker ran it.
        jobs[3].0.lock().outcome = Some(Outcome::Cancelled);
        touched(run, places[3], Arc::as_ptr(&jobs[3]).cast());
        let mut read = Vec::new();
        loop {
            let some = reader.read(1);
            assert!(some.len() <= 1, "at most max");
            if some.is_empty() {
                break;
            }
            read.extend(some);
        }
        assert_eq!(ids(read), [101, 102], "the rest at the next read");
        touched(run, places[1], Arc::as_ptr(&jobs[1]).cast());
        assert!(ids(reader.read(usize::MAX)).is_empty(), "each job once, however often it is touched");

        end(0, Outcome::Ok);
        let mut fresh = EndedReader::new();
        assert_eq!(ids(fresh.read(usize::MAX)), [100, 101, 102], "a new reader reads the jobs that ended before it");
        assert_eq!(ids(reader.read(usize::MAX)), [100]);
        forget_run(run);
        assert!(ids(reader.read(usize::MAX)).is_empty());
    }

    #[test]
    fn a_job_that_changes_after_its_run_was_forgotten_and_began_again_is_not_read_in_anothers_place() {
        // Found by the hardening test on the demo page: clearRecords() mid-run, then a
        // job of before it settled, and its old place (13) was read in a book of 5.
        let run = crate::runtime::scope::new_run();
        let old: Vec<_> = (0..14).map(|i| fake(200 + i, run)).collect();
        let places: Vec<u32> = old.iter().map(|job| enter(run, job.clone())).collect();
        forget_run(run);
        let new: Vec<_> = (0..5).map(|i| fake(300 + i, run)).collect();
        for job in &new {
            enter(run, job.clone());
        }
        let (mut reader, mut ended) = (RunReader::new(run), EndedReader::new());
        let mut records = Vec::new();
        reader.read(&mut records);
        ended.read(usize::MAX);
        for k in [13, 2] {
            old[k].0.lock().outcome = Some(Outcome::Ok);
            touched(run, places[k], Arc::as_ptr(&old[k]).cast());
        }
        assert!(!reader.read(&mut records), "neither old job is in the book now");
        assert_eq!(records.iter().map(|r| r.id).collect::<Vec<_>>(), [300, 301, 302, 303, 304]);
        assert!(ended.read(usize::MAX).iter().all(|r| r.run != run));
        forget_run(run);
    }
}
