//! Jobs as entries of custom tracks in Chrome DevTools' Performance panel: the
//! `performance.measure` calls of its extensibility API (`detail.devtools`, a
//! `track-entry`), a track per worker, grouped by executor. A developer who records a
//! profile of their own page sees which worker ran what, beside their own code.

use serde::Serialize;

use crate::executors::job::clip;
use crate::observe::record::{JobRecord, Outcome, Progress};

/// `performance.measure(name, { start, end, detail })`'s arguments for one job.
#[derive(Debug, PartialEq, Serialize)]
pub struct TrackEntry {
    pub name: String,
    /// Milliseconds since the page's `performance.timeOrigin`.
    pub start: f64,
    pub end: f64,
    pub detail: Detail,
}

#[derive(Debug, PartialEq, Serialize)]
pub struct Detail {
    pub devtools: Devtools,
}

/// What DevTools reads of `detail.devtools`.
#[derive(Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Devtools {
    pub data_type: &'static str,
    /// The worker, named as the timeline's lane: `ThreadPoolExecutor-0_1`, `PID 10001`.
    pub track: String,
    /// The executor: `ThreadPoolExecutor-0`, `ProcessPoolExecutor-1`, `asyncio`.
    pub track_group: String,
    pub color: &'static str,
    pub tooltip_text: String,
    /// Key and value pairs shown in the entry's summary.
    pub properties: Vec<(&'static str, String)>,
}

/// The most characters of a result or note a tooltip quotes.
const TOOLTIP_TEXT: usize = 80;

/// The colours DevTools names for extension entries (`error` is for failures).
const COLOURS: [&str; 9] = [
    "primary",
    "secondary",
    "tertiary",
    "primary-light",
    "secondary-light",
    "tertiary-light",
    "primary-dark",
    "secondary-dark",
    "tertiary-dark",
];

/// Job `record`'s entry, with its times made relative to `time_origin` (epoch ms); None
/// for a job that did not run (it has no worker, so no track).
pub fn track_entry(record: &JobRecord, time_origin: f64) -> Option<TrackEntry> {
    let (Some(worker), Some(started)) = (record.worker.as_ref(), record.started) else { return None };
    let finished = record.finished.unwrap_or(started);
    let outcome = match record.progress() {
        Progress::Ended(outcome) => outcome,
        _ => return None,
    };
    let kind = record.label.split('(').next().unwrap_or_default();
    // The same kind of job, the same colour, page after page: a hash of its name.
    let colour = if outcome.is_failure() {
        "error"
    } else {
        COLOURS[kind.bytes().fold(0usize, |h, b| h.wrapping_mul(31).wrapping_add(b as usize)) % COLOURS.len()]
    };
    let (queued, ran) = (started - record.submitted, finished - started);
    // Few properties, the rest in the tooltip's one string: the page keeps each measure's
    // detail as objects, and with seven pairs a job, a run of 50,000 cost Firefox a
    // collection pause of 80-100 ms; with two it cost none over a frame or two.
    let mut properties = vec![("worker", worker.title()), ("outcome", outcome.name().to_owned())];
    properties.extend(record.error.clone().map(|error| ("error", error)));
    let ending = match outcome {
        Outcome::Ok => format!("ran {ran:.1} ms"),
        other => format!("{} after {ran:.1} ms", other.name()),
    };
    let mut tooltip_text = format!("{} · {ending} on {} · queued {queued:.1} ms", record.label, worker.title());
    for (what, text) in [("result", &record.result), ("note", &record.note)] {
        if let Some(text) = text {
            tooltip_text.push_str(&format!(" · {what} {}", clip(text.clone(), TOOLTIP_TEXT)));
        }
    }
    tooltip_text.push_str(&format!(" · job {}", record.id));
    Some(TrackEntry {
        name: record.label.clone(),
        // A measure may not start before the page's time origin.
        start: (started - time_origin).max(0.0),
        end: (finished - time_origin).max(0.0),
        detail: Detail {
            devtools: Devtools {
                data_type: "track-entry",
                track: worker.title(),
                track_group: record.executor.to_string(),
                color: colour,
                tooltip_text,
                properties,
            },
        },
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use super::*;
    use crate::observe::record::{JobState, Worker};

    fn record(worker: Option<Worker>, outcome: Option<Outcome>) -> JobRecord {
        JobRecord {
            id: 7,
            run: 1,
            label: "blocks(3)".into(),
            executor: Arc::from("ThreadPoolExecutor-0"),
            worker,
            state: if outcome.is_some() { JobState::Finished } else { JobState::Running },
            outcome,
            submitted: 1_000_010.0,
            started: Some(1_000_012.5),
            finished: outcome.map(|_| 1_000_112.5),
            result: outcome.filter(|o| *o == Outcome::Ok).map(|_| "9".into()),
            error: outcome.filter(|o| o.is_failure()).map(|_| "boom".into()),
            note: None,
        }
    }

    #[test]
    fn a_job_that_ran_is_an_entry_on_its_workers_track_in_its_executors_group() {
        let thread = Worker::Thread(Arc::from("ThreadPoolExecutor-0_1"));
        let entry = track_entry(&record(Some(thread), Some(Outcome::Ok)), 1_000_000.0).unwrap();
        let json = serde_json::to_value(&entry).unwrap();
        assert_eq!(json["name"], "blocks(3)");
        assert_eq!((json["start"].as_f64(), json["end"].as_f64()), (Some(12.5), Some(112.5)));
        let devtools = &json["detail"]["devtools"];
        assert_eq!(devtools["dataType"], "track-entry");
        assert_eq!(devtools["track"], "ThreadPoolExecutor-0_1");
        assert_eq!(devtools["trackGroup"], "ThreadPoolExecutor-0");
        assert!(COLOURS.contains(&devtools["color"].as_str().unwrap()));
        assert_eq!(devtools["tooltipText"], "blocks(3) · ran 100.0 ms on ThreadPoolExecutor-0_1 · queued 2.5 ms · result 9 · job 7");
        assert_eq!(
            devtools["properties"],
            json!([["worker", "ThreadPoolExecutor-0_1"], ["outcome", "ok"]]),
            "few: each is kept as objects"
        );
    }

    #[test]
    fn a_failure_is_red_a_process_has_its_pid_and_a_job_that_did_not_run_or_end_has_none() {
        let entry = track_entry(&record(Some(Worker::Process(10001)), Some(Outcome::TimedOut)), 1_000_000.0).unwrap();
        assert_eq!(entry.detail.devtools.track, "PID 10001");
        assert_eq!(entry.detail.devtools.color, "error");
        assert_eq!(entry.detail.devtools.tooltip_text, "blocks(3) · timedOut after 100.0 ms on PID 10001 · queued 2.5 ms · job 7");
        assert!(entry.detail.devtools.properties.contains(&("error", "boom".to_owned())));
        let mut long = record(Some(Worker::Main), Some(Outcome::Ok));
        long.result = Some("7".repeat(200));
        let tooltip = track_entry(&long, 1_000_000.0).unwrap().detail.devtools.tooltip_text;
        assert!(tooltip.contains(&format!(" · result {}… (120 more characters) · job 7", "7".repeat(80))), "{tooltip}");
        assert_eq!(track_entry(&record(None, Some(Outcome::Cancelled)), 0.0), None, "cancelled while queued");
        assert_eq!(track_entry(&record(Some(Worker::Main), None), 0.0), None, "still running");
    }
}
