//! A run as a Chrome trace (the trace-event "JSON Object Format"), to open in Perfetto
//! (ui.perfetto.dev) or Chrome DevTools' performance panel: one lane per thread, each
//! job a slice on its worker's lane, each wait in the queue an async span, and each log
//! line an instant.

use std::borrow::Cow;
use std::iter;

use serde::Serialize;

use crate::observe::log::{LogLine, MAIN_PID};
use crate::observe::record::{JobRecord, JobState, Outcome, Progress, Worker};

/// The one trace process: every lane is a thread of the page's.
const PID: u32 = 1;

/// A colour from the names Chrome's trace viewer reserves (catapult's
/// `color_scheme.html`); Perfetto ignores `cname`, so `args.outcome` says it too.
fn cname(progress: Progress) -> Option<&'static str> {
    match progress {
        Progress::Ended(Outcome::Cancelled) => Some("grey"),
        Progress::Ended(outcome) if outcome.is_failure() => Some("bad"),
        _ => None,
    }
}

/// A trace: what [`trace_events`] gives, which serialises to the trace-event JSON.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Trace<'a> {
    trace_events: Vec<Event<'a>>,
    display_time_unit: &'static str,
}

/// One trace event. Each kind has some of the fields; those it lacks are left out.
#[derive(Serialize)]
struct Event<'a> {
    ph: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    s: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cat: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<u64>,
    name: Cow<'a, str>,
    pid: u32,
    tid: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    ts: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dur: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cname: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    args: Option<Args<'a>>,
}

impl<'a> Event<'a> {
    fn new(ph: &'static str, name: impl Into<Cow<'a, str>>, tid: usize) -> Self {
        Event { ph, s: None, cat: None, id: None, name: name.into(), pid: PID, tid, ts: None, dur: None, cname: None, args: None }
    }
}

/// An event's `args`, by kind of event.
#[derive(Serialize)]
#[serde(untagged)]
enum Args<'a> {
    Name {
        name: String,
    },
    SortIndex {
        sort_index: usize,
    },
    Queued {
        executor: &'a str,
        outcome: Progress,
    },
    Job {
        id: u64,
        executor: &'a str,
        worker: &'a Worker,
        state: JobState,
        outcome: Progress,
        queued_ms: f64,
        ran_ms: f64,
        #[serde(skip_serializing_if = "Option::is_none")]
        result: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        note: Option<&'a str>,
    },
    Log {
        logger: &'a str,
        line: String,
    },
}

/// The trace of a run: `{"traceEvents": [...], "displayTimeUnit": "ms"}`, with times in
/// microseconds from the earliest submission or log line. Metadata comes first, then
/// the events in time order, so the same run always gives the same JSON.
pub fn trace_events<'a>(records: &'a [JobRecord], lines: &'a [LogLine]) -> Trace<'a> {
    let submitted = records.iter().map(|r| r.submitted);
    let logged = lines.iter().map(|l| l.time);
    let zero = submitted.clone().chain(logged.clone()).fold(f64::INFINITY, f64::min);
    // What is still going on is drawn up to the last thing the input saw.
    let ends = records.iter().flat_map(|r| [r.started, r.finished]).flatten();
    let latest = submitted.chain(logged).chain(ends).fold(f64::NEG_INFINITY, f64::max);
    let us = |t: f64| Some((t - zero) * 1000.0);

    // Workers in the order they first started a job; those that only logged come last.
    let line_lanes: Vec<Worker> = lines.iter().map(Worker::of_line).collect();
    let mut first_start: Vec<(&Worker, f64)> = Vec::new();
    for r in records {
        if let (Some(worker), Some(started)) = (r.worker.as_ref(), r.started) {
            match first_start.iter_mut().find(|(name, _)| *name == worker) {
                Some((_, t)) => *t = t.min(started),
                None => first_start.push((worker, started)),
            }
        }
    }
    let first = |worker: &Worker| first_start.iter().find(|(w, _)| *w == worker).map_or(f64::INFINITY, |(_, t)| *t);
    let mut workers: Vec<&Worker> =
        first_start.iter().map(|(worker, _)| *worker).chain(line_lanes.iter()).filter(|&w| *w != Worker::Main).collect();
    workers.sort_by(|a, b| first(a).total_cmp(&first(b)).then_with(|| a.title().cmp(&b.title())));
    workers.dedup();
    let lanes: Vec<&Worker> = iter::once(&Worker::Main).chain(workers).collect();
    let tid = |worker: &Worker| lanes.iter().position(|&lane| lane == worker).expect("every worker has a lane");

    let mut metadata = vec![Event { args: Some(Args::Name { name: "web-executors".into() }), ..Event::new("M", "process_name", 0) }];
    for (tid, &worker) in lanes.iter().enumerate() {
        metadata.push(Event { args: Some(Args::Name { name: worker.title() }), ..Event::new("M", "thread_name", tid) });
        // Viewers otherwise order lanes as they like (Perfetto: by name).
        metadata.push(Event { args: Some(Args::SortIndex { sort_index: tid }), ..Event::new("M", "thread_sort_index", tid) });
    }

    // Each event with its time in ms, to sort by.
    let mut events: Vec<(f64, Event)> = Vec::new();
    for r in records {
        let outcome = r.progress();
        // On the main thread's lane: that is where the job waits to be taken.
        let name = format!("queued {}", r.label);
        let span = |ph, t| Event { cat: Some("queue"), id: Some(r.id), ts: us(t), ..Event::new(ph, name.clone(), 0) };
        // Jobs that never start have no slice: their outcome shows here.
        let begin = Event { args: Some(Args::Queued { executor: &r.executor, outcome }), ..span("b", r.submitted) };
        events.push((r.submitted, begin));
        // A job cancelled (or failed) before a worker took it waits until it ended.
        let taken = r.started.or(r.finished).unwrap_or(latest);
        events.push((taken, span("e", taken)));

        // A worker is set whenever a start is.
        let (Some(started), Some(worker)) = (r.started, r.worker.as_ref()) else { continue };
        let end = r.finished.unwrap_or(latest);
        let args = Args::Job {
            id: r.id,
            executor: &r.executor,
            worker,
            state: r.state,
            outcome,
            queued_ms: started - r.submitted,
            ran_ms: end - started,
            result: r.result.as_deref(),
            error: r.error.as_deref(),
            note: r.note.as_deref(),
        };
        let kind = r.label.split('(').next().unwrap_or_default();
        let slice = Event {
            cat: Some(kind),
            ts: us(started),
            dur: Some((end - started) * 1000.0),
            cname: cname(outcome),
            args: Some(args),
            ..Event::new("X", r.label.as_str(), tid(worker))
        };
        events.push((started, slice));
    }
    for (line, lane) in lines.iter().zip(&line_lanes) {
        let text = if line.process == MAIN_PID { line.format() } else { line.format_process() };
        let instant = Event {
            s: Some("t"),
            cat: Some("log"),
            ts: us(line.time),
            args: Some(Args::Log { logger: &line.logger, line: text }),
            ..Event::new("i", line.message.as_str(), tid(lane))
        };
        events.push((line.time, instant));
    }
    events.sort_by(|a, b| a.0.total_cmp(&b.0));

    let trace_events = metadata.into_iter().chain(events.into_iter().map(|(_, event)| event)).collect();
    Trace { trace_events, display_time_unit: "ms" }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::{Value, json};

    use super::*;
    use crate::observe::log::MAIN_THREAD;

    /// A realistic epoch: whole milliseconds after it stay exact in f64.
    const T: f64 = 1_700_000_000_000.0;

    fn job(id: u64, label: &str, executor: &str, submitted: f64) -> JobRecord {
        JobRecord {
            run: 1,
            id,
            label: label.into(),
            executor: Arc::from(executor),
            worker: None,
            state: JobState::Pending,
            outcome: None,
            submitted: T + submitted,
            started: None,
            finished: None,
            result: None,
            error: None,
            note: None,
        }
    }

    fn ran(record: JobRecord, worker: Worker, started: f64, finished: Option<f64>) -> JobRecord {
        JobRecord {
            worker: Some(worker),
            state: if finished.is_some() { JobState::Finished } else { JobState::Running },
            outcome: finished.map(|_| Outcome::Ok),
            started: Some(T + started),
            finished: finished.map(|f| T + f),
            ..record
        }
    }

    fn thread(name: &str) -> Worker {
        Worker::Thread(Arc::from(name))
    }

    fn line(time: f64, process: u32, thread: &str, logger: &str, message: &str) -> LogLine {
        LogLine { time: T + time, process, thread: Arc::from(thread), logger: logger.into(), message: message.into(), run: 1 }
    }

    /// Two thread workers starting together, a process worker, a worker that only
    /// logged, and jobs in every outcome; the last line (150 ms) is the latest time.
    fn run() -> Value {
        let pool = "ThreadPoolExecutor-0";
        let records = [
            JobRecord {
                result: Some("0".into()),
                note: Some("blocked 100 ms by sleeping".into()),
                ..ran(job(1, "blocks(0)", pool, 1.0), thread("ThreadPoolExecutor-0_1"), 2.0, Some(102.0))
            },
            JobRecord {
                error: Some("boom".into()),
                outcome: Some(Outcome::Failed),
                ..ran(job(2, "blocks(1)", pool, 1.0), thread("ThreadPoolExecutor-0_0"), 2.0, Some(52.0))
            },
            ran(job(3, "blocks(2)", pool, 1.0), thread("ThreadPoolExecutor-0_0"), 52.0, None),
            JobRecord {
                state: JobState::Cancelled,
                finished: Some(T + 5.0),
                error: Some("cancelled".into()),
                outcome: Some(Outcome::Cancelled),
                ..job(4, "blocks(3)", pool, 1.0)
            },
            job(5, "spins(4)", "ProcessPoolExecutor-0", 3.0),
            ran(job(6, "spins(5)", "ProcessPoolExecutor-0", 3.0), Worker::Process(10_001), 10.0, Some(30.0)),
        ];
        let lines = [
            line(0.0, MAIN_PID, MAIN_THREAD, "run_blocking_tasks", "starting"),
            line(2.0, MAIN_PID, "ThreadPoolExecutor-0_1", "blocks(0)", "running"),
            line(11.0, 10_001, MAIN_THREAD, "spins(5)", "running"),
            line(20.0, MAIN_PID, "asyncio_0", "idle", "waiting"),
            line(150.0, MAIN_PID, MAIN_THREAD, "run_blocking_tasks", "exiting"),
        ];
        serde_json::to_value(trace_events(&records, &lines)).unwrap()
    }

    fn events(trace: &Value, ph: &str) -> Vec<Value> {
        trace["traceEvents"].as_array().unwrap().iter().filter(|e| e["ph"] == ph).cloned().collect()
    }

    fn event(trace: &Value, ph: &str, name: &str) -> Value {
        let mut found = events(trace, ph).into_iter().filter(|e| e["name"] == name);
        let event = found.next().unwrap_or_else(|| panic!("no {ph} event {name}"));
        assert!(found.next().is_none(), "more than one {ph} event {name}");
        event
    }

    #[test]
    fn lanes_are_named_in_order_of_first_start() {
        let trace = run();
        assert_eq!(event(&trace, "M", "process_name")["args"]["name"], "web-executors");
        let lanes: Vec<(Value, Value)> = events(&trace, "M")
            .into_iter()
            .filter(|e| e["name"] == "thread_name")
            .map(|e| (e["tid"].clone(), e["args"]["name"].clone()))
            .collect();
        // 0_0 and 0_1 both start at 2 ms: by name. asyncio_0 ran no job.
        let expected =
            [(0, "MainThread"), (1, "ThreadPoolExecutor-0_0"), (2, "ThreadPoolExecutor-0_1"), (3, "PID 10001"), (4, "asyncio_0")];
        assert_eq!(lanes, expected.map(|(tid, name)| (json!(tid), json!(name))));
        for e in events(&trace, "M").iter().filter(|e| e["name"] == "thread_sort_index") {
            assert_eq!(e["args"]["sort_index"], e["tid"]);
        }
    }

    #[test]
    fn jobs_are_slices_on_their_workers_lanes() {
        let trace = run();
        let slice = event(&trace, "X", "blocks(0)");
        assert_eq!((slice["tid"].as_u64(), slice["ts"].as_f64(), slice["dur"].as_f64()), (Some(2), Some(2000.0), Some(100_000.0)));
        assert_eq!(slice["cat"], "blocks");
        assert_eq!(
            slice["args"],
            json!({"id": 1, "executor": "ThreadPoolExecutor-0", "worker": "ThreadPoolExecutor-0_1", "state": "FINISHED", "outcome": "ok",
                   "queued_ms": 1.0, "ran_ms": 100.0, "result": "0", "note": "blocked 100 ms by sleeping"})
        );
        assert!(slice.get("cname").is_none());
        let lane_1: Vec<(String, f64, f64)> = events(&trace, "X")
            .iter()
            .filter(|e| e["tid"] == 1)
            .map(|e| (e["name"].as_str().unwrap().to_owned(), e["ts"].as_f64().unwrap(), e["dur"].as_f64().unwrap()))
            .collect();
        assert_eq!(lane_1, [("blocks(1)".to_owned(), 2000.0, 50_000.0), ("blocks(2)".to_owned(), 52_000.0, 98_000.0)]);
        assert_eq!(events(&trace, "X").len(), 4, "one slice per job that started");
    }

    #[test]
    fn a_process_workers_jobs_are_on_its_pid_lane() {
        let slice = event(&run(), "X", "spins(5)");
        assert_eq!((slice["tid"].as_u64(), slice["cat"].as_str()), (Some(3), Some("spins")));
        assert_eq!((slice["ts"].as_f64(), slice["dur"].as_f64()), (Some(10_000.0), Some(20_000.0)));
        assert_eq!(slice["args"]["worker"], "10001");
    }

    #[test]
    fn every_job_has_one_queue_span_on_the_main_lane() {
        let trace = run();
        // Job id, submitted and taken, in µs from the first line.
        let expected = [
            (1, 1000.0, 2000.0),
            (2, 1000.0, 2000.0),
            (3, 1000.0, 52_000.0),
            (4, 1000.0, 5000.0),
            (5, 3000.0, 150_000.0),
            (6, 3000.0, 10_000.0),
        ];
        let all = trace["traceEvents"].as_array().unwrap();
        for (id, submitted, taken) in expected {
            let at = |ph: &str| {
                let spans: Vec<usize> = (0..all.len()).filter(|&i| all[i]["ph"] == ph && all[i]["id"] == id).collect();
                assert_eq!(spans.len(), 1, "one {ph} for job {id}");
                let span = &all[spans[0]];
                assert_eq!((span["cat"].as_str(), span["tid"].as_u64()), (Some("queue"), Some(0)));
                (spans[0], span["name"].clone(), span["ts"].as_f64().unwrap())
            };
            let (b, b_name, b_ts) = at("b");
            let (e, e_name, e_ts) = at("e");
            assert!(b < e, "job {id}'s span begins before it ends");
            assert_eq!(b_name, e_name);
            assert!(b_name.as_str().unwrap().starts_with("queued "));
            assert_eq!((b_ts, e_ts), (submitted, taken), "job {id}");
        }
        assert_eq!(events(&trace, "b").len(), 6);
        assert_eq!(events(&trace, "e").len(), 6);
    }

    #[test]
    fn a_job_cancelled_before_it_started_only_waited() {
        let trace = run();
        assert!(events(&trace, "X").iter().all(|e| e["name"] != "blocks(3)"));
        let begin = event(&trace, "b", "queued blocks(3)");
        assert_eq!(begin["args"]["outcome"], "cancelled");
        assert_eq!(event(&trace, "e", "queued blocks(3)")["ts"], 5000.0);
    }

    #[test]
    fn a_failed_job_is_coloured_and_says_so() {
        let slice = event(&run(), "X", "blocks(1)");
        assert_eq!((slice["args"]["outcome"].as_str(), slice["args"]["error"].as_str()), (Some("failed"), Some("boom")));
        assert_eq!(slice["cname"], "bad");
    }

    #[test]
    fn unfinished_jobs_reach_the_latest_time() {
        let trace = run();
        let running = event(&trace, "X", "blocks(2)");
        assert_eq!((running["ts"].as_f64(), running["dur"].as_f64()), (Some(52_000.0), Some(98_000.0)));
        assert_eq!((running["args"]["outcome"].as_str(), running["args"]["state"].as_str()), (Some("running"), Some("RUNNING")));
        assert_eq!(event(&trace, "b", "queued spins(4)")["args"]["outcome"], "pending");
        assert_eq!(event(&trace, "e", "queued spins(4)")["ts"], 150_000.0);
    }

    #[test]
    fn log_lines_are_instants_on_their_threads_lanes() {
        let trace = run();
        let instants: Vec<(u64, f64, String)> = events(&trace, "i")
            .iter()
            .map(|e| {
                assert_eq!(e["s"], "t");
                (e["tid"].as_u64().unwrap(), e["ts"].as_f64().unwrap(), e["args"]["line"].as_str().unwrap().to_owned())
            })
            .collect();
        let expected = [
            (0, 0.0, "MainThread run_blocking_tasks: starting"),
            (2, 2000.0, "ThreadPoolExecutor-0_1          blocks(0): running"),
            (3, 11_000.0, "PID 10001           spins(5): running"),
            (4, 20_000.0, " asyncio_0               idle: waiting"),
            (0, 150_000.0, "MainThread run_blocking_tasks: exiting"),
        ];
        assert_eq!(instants, expected.map(|(tid, ts, line)| (tid, ts, line.to_owned())));
        let first = event(&trace, "i", "starting");
        assert_eq!(first["args"]["logger"], "run_blocking_tasks");
    }

    #[test]
    fn serializes_as_a_trace_object_in_order() {
        let text = serde_json::to_string(&run()).unwrap();
        let trace: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(trace["displayTimeUnit"], "ms");
        let all = trace["traceEvents"].as_array().unwrap();
        let metadata = all.iter().take_while(|e| e["ph"] == "M").count();
        assert_eq!(metadata, 1 + 2 * 5, "process name, then a name and an index per lane");
        let times: Vec<f64> = all[metadata..].iter().map(|e| e["ts"].as_f64().unwrap()).collect();
        assert!(times.is_sorted(), "events in time order: {times:?}");
        assert!(all.iter().all(|e| e["pid"] == PID));

        let empty = serde_json::to_value(trace_events(&[], &[])).unwrap();
        assert_eq!(empty["traceEvents"].as_array().unwrap().len(), 3, "only the process and the main thread");
    }
}
