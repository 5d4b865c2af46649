//! The scenario programs of docs/scenarios.md, run on the host with OS threads as workers.
#![cfg(not(target_arch = "wasm32"))]

use std::collections::BTreeSet;

use web_executors::observe::log::{self, LogLine};
use web_executors::{ThreadPoolExecutor, block_on};
use web_executors_showcase::scenarios;

/// The scenarios share the process-wide log: run them one after another.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn messages(lines: &[LogLine], loggers: &[&str]) -> Vec<String> {
    lines.iter().filter(|l| loggers.contains(&l.logger.as_str())).map(|l| l.message.clone()).collect()
}

#[test]
fn scenario_1_logs_like_the_python_program() {
    web_executors_showcase::jobs::install();
    let _serial = SERIAL.lock().unwrap();
    log::clear();
    let executor = ThreadPoolExecutor::builder().max_workers(3).build().unwrap();
    let results = block_on(scenarios::run_blocking_tasks(&executor, 6)).unwrap();
    assert_eq!(results.iter().copied().collect::<BTreeSet<_>>(), BTreeSet::from([0, 1, 4, 9, 16, 25]));
    let lines = log::lines();
    let main: Vec<String> = lines.iter().filter(|l| &*l.thread == "MainThread").map(LogLine::format).collect();
    assert_eq!(
        main,
        vec![
            "MainThread run_blocking_tasks: starting".to_owned(),
            "MainThread run_blocking_tasks: creating executor tasks".to_owned(),
            "MainThread run_blocking_tasks: waiting for executor tasks".to_owned(),
            format!("MainThread run_blocking_tasks: results: {results:?}"),
            "MainThread run_blocking_tasks: exiting".to_owned(),
        ]
    );
    let worker_threads: BTreeSet<_> = lines.iter().filter(|l| l.logger.starts_with("blocks(")).map(|l| l.thread.clone()).collect();
    assert_eq!(worker_threads.len(), 3, "{worker_threads:?}");
    for i in 0..6 {
        let job: Vec<_> = lines.iter().filter(|l| l.logger == format!("blocks({i})")).map(|l| l.message.as_str()).collect();
        assert_eq!(job, ["running", "done"]);
    }
}

#[test]
fn scenario_3_main_goes_on_while_to_thread_blocks() {
    web_executors_showcase::jobs::install();
    let _serial = SERIAL.lock().unwrap();
    log::clear();
    block_on(scenarios::to_thread_task(200)).unwrap();
    assert_eq!(
        messages(&log::lines(), &["main", "blocking_task"]),
        ["Main running the blocking task", "Main doing other things", "Task starting", "Task done"]
    );
}

#[test]
fn scenario_4_run_in_executor_starts_the_job_on_submission() {
    web_executors_showcase::jobs::install();
    let _serial = SERIAL.lock().unwrap();
    log::clear();
    block_on(scenarios::run_in_executor_task(200)).unwrap();
    assert_eq!(
        messages(&log::lines(), &["main", "blocking_task"]),
        ["Main running the blocking task", "Task starting", "Main doing other things", "Task done"]
    );
}
