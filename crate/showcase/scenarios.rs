//! The Rust counterparts of the Python programs of docs/scenarios.md: the code the page shows
//! beside each timeline, and what the tests run. Each mirrors its Python program line
//! for line; comments mark the one or two places where the browser differs.

use std::time::Duration;

use crate::jobs::cpu_task;
use crate::jobs::{blocking_task, blocks};
use web_executors::observe::log::log;
use web_executors::process::registry;
use web_executors::runtime::time::{sleep, spawn, yield_now};
use web_executors::{
    Call, Executor, ExecutorError, JobError, ProcessPoolExecutor, ReturnWhen, ThreadPoolExecutor, WaitError, as_completed, gather, job,
    platform, run_here, run_in_executor, to_thread, wait,
};

/// `sys.getswitchinterval()`: how long a newly started CPython thread runs before the
/// thread that started it gets the interpreter back.
const GIL_SWITCH_INTERVAL: Duration = Duration::from_millis(5);

/// How long the free-form program submits before it lets the page draw a frame.
const FRAME_BUDGET_MS: f64 = 8.0;

// The programs the page shows start here (see `source_of`).

/// Scenarios 1 and 2: `blocks(i)` for i in 0..6 (`jobs`) on a
/// `ThreadPoolExecutor(max_workers=3)` or a `ProcessPoolExecutor(max_workers=3)`, awaited
/// with `wait`; as in Python, the kind of executor is the only difference. Returns the
/// results in the done set's order.
pub async fn run_blocking_tasks(executor: &impl Executor, jobs: u64) -> Result<Vec<u64>, ScenarioError> {
    log("run_blocking_tasks", "starting");
    log("run_blocking_tasks", "creating executor tasks");
    // loop.run_in_executor(executor, blocks, i)
    let blocking_tasks = (0..jobs).map(|i| executor.submit(job!(blocks(i)))).collect::<Result<Vec<_>, _>>()?;
    log("run_blocking_tasks", "waiting for executor tasks");
    let completed = wait(&blocking_tasks, ReturnWhen::AllCompleted, None).await?;
    let results = completed.done.iter().map(|t| t.result().expect("done").map_err(|e| e.to_string())).collect::<Result<Vec<_>, _>>()?;
    log("run_blocking_tasks", format!("results: {results:?}"));
    log("run_blocking_tasks", "exiting");
    Ok(results)
}

/// Scenario 3: `asyncio.to_thread` wrapped in a task; main goes on while it blocks.
pub async fn to_thread_task(block_ms: u64) -> Result<(), ScenarioError> {
    log("main", "Main running the blocking task");
    let task = spawn(to_thread(job!(blocking_task(block_ms))));
    log("main", "Main doing other things");
    yield_now().await; // await asyncio.sleep(0): the task starts
    task.await.map_err(|e| e.to_string())?;
    Ok(())
}

/// Scenario 4: `loop.run_in_executor(None, blocking_task)` starts the job at once,
/// without being awaited; main sleeps meanwhile.
pub async fn run_in_executor_task(block_ms: u64) -> Result<(), ScenarioError> {
    log("main", "Main running the blocking task");
    let job = run_in_executor(None, job!(blocking_task(block_ms)))?;
    // In CPython, Thread.start() returns once the new worker runs, and the worker then
    // keeps the GIL for up to its 5 ms switch interval, so it prints first. A Web Worker
    // starts without blocking the page: main waits for the same two things explicitly.
    job.started().await;
    sleep(GIL_SWITCH_INTERVAL).await;
    log("main", "Main doing other things");
    sleep(Duration::from_millis(block_ms + 1000)).await;
    Ok(())
}

/// Scenario 5: the CPU loop as one job on a `ProcessPoolExecutor(4)`; the main loop
/// stays free meanwhile. Returns the sum.
pub async fn cpu_bound_task(executor: &impl Executor, n: u64) -> Result<f64, ScenarioError> {
    let awaitable = executor.submit(job!(cpu_task(n)))?; // loop.run_in_executor(executor, cpu_bound_task)
    log("main", "Main doing other things");
    sleep(Duration::from_secs(1)).await;
    let sum = awaitable.await.map_err(|e| e.to_string())?;
    executor.shutdown(true, false).await;
    Ok(sum)
}

/// Scenario 6's measurements: the same work on threads and on processes, each timed
/// from its first submit to its last result, on a pool whose workers have all started
/// (a program keeps its pools; starting a worker is not the work compared). Threads are
/// `None` where the page has none.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Comparison {
    pub io_threads_ms: Option<f64>,
    pub io_processes_ms: f64,
    pub cpu_threads_ms: Option<f64>,
    pub cpu_processes_ms: f64,
}

/// Scenario 6: `gets` blocking GETs of `url` at once, then the CPU loop over `n` split
/// in two, each on a thread pool and on a process pool of that many workers. A GET
/// resolves against the page's URL on every worker, and a status other than 2xx fails
/// it (and the run).
pub async fn choose_executor(url: &str, gets: usize, n: u64) -> Result<Comparison, ScenarioError> {
    async fn timed<E: Executor>(executor: E, workers: usize, calls: Vec<Call<serde_json::Value>>) -> Result<f64, ScenarioError> {
        // Warm up: a no-op per worker, submitted at once, starts every worker.
        let warm_up = (0..workers).map(|_| executor.submit(registry::call("noop", vec![]))).collect::<Result<Vec<_>, _>>()?;
        gather(warm_up).await.map_err(|e| e.to_string())?;
        let start = platform::now_ms();
        let futures = calls.into_iter().map(|call| executor.submit(call)).collect::<Result<Vec<_>, _>>()?;
        gather(futures).await.map_err(|e| e.to_string())?;
        let ms = platform::now_ms() - start;
        executor.shutdown(true, false).await;
        Ok(ms)
    }
    let io = || (0..gets).map(|_| registry::call("http_get", vec![url.into()])).collect::<Vec<_>>();
    let cpu = || {
        let half = n / 2;
        vec![registry::call("sum_sqrt_range", vec![0.into(), half.into()]), registry::call("sum_sqrt_range", vec![half.into(), n.into()])]
    };
    let threads = |workers| ThreadPoolExecutor::builder().max_workers(workers).build().ok();
    let processes = |workers| ProcessPoolExecutor::builder().max_workers(workers).build();
    let io_threads_ms = match threads(gets) {
        Some(pool) => Some(timed(pool, gets, io()).await?),
        None => None,
    };
    let io_processes_ms = timed(processes(gets)?, gets, io()).await?;
    let cpu_threads_ms = match threads(2) {
        Some(pool) => Some(timed(pool, 2, cpu()).await?),
        None => None,
    };
    let cpu_processes_ms = timed(processes(2)?, 2, cpu()).await?;
    let verdict = |t: Option<f64>, p: f64| match t {
        Some(t) if t <= p => format!("threads {t:.0} ms, processes {p:.0} ms: threads win"),
        Some(t) => format!("threads {t:.0} ms, processes {p:.0} ms: processes win"),
        None => format!("processes {p:.0} ms (this page has no threads)"),
    };
    log("main", format!("blocking GET x{gets}: {}", verdict(io_threads_ms, io_processes_ms)));
    log("main", format!("CPU loop in two halves: {}", verdict(cpu_threads_ms, cpu_processes_ms)));
    Ok(Comparison { io_threads_ms, io_processes_ms, cpu_threads_ms, cpu_processes_ms })
}

/// The free-form mode's jobs: how many of each kind, and their parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct Mix {
    /// `blocks_for(i, block_ms)` calls.
    pub blocks: u64,
    pub block_ms: u64,
    /// `cpu_task(n)` calls.
    pub cpu: u64,
    pub n: u64,
    /// `http_get(url)` calls.
    pub gets: u64,
    pub url: String,
}

impl Mix {
    /// The calls, the kinds taking turns as they are submitted; made one at a time, as
    /// they are submitted.
    pub fn calls(&self) -> impl Iterator<Item = Call<serde_json::Value>> + '_ {
        let rounds = self.blocks.max(self.cpu).max(self.gets);
        (0..rounds).flat_map(move |i| {
            let blocks = (i < self.blocks).then(|| registry::call("blocks_for", vec![i.into(), self.block_ms.into()]));
            let cpu = (i < self.cpu).then(|| registry::call("cpu_task", vec![self.n.into()]));
            let get = (i < self.gets).then(|| registry::call("http_get", vec![self.url.as_str().into()]));
            [blocks, cpu, get].into_iter().flatten()
        })
    }
}

/// Free-form: a mix of the scenarios' jobs on one executor, each result logged as it
/// completes (`as_completed`). Returns how many failed.
pub async fn mixed_jobs(executor: &impl Executor, mix: &Mix) -> Result<usize, ScenarioError> {
    log("main", "submitting the jobs");
    let mut jobs = Vec::new();
    let mut last_yield = platform::now_ms();
    for call in mix.calls() {
        jobs.push(executor.submit(call)?);
        // Tens of thousands of submits would hold the page for longer than a frame:
        // await asyncio.sleep(0) lets it draw (a timer, not a microtask, in a browser).
        if platform::now_ms() - last_yield > FRAME_BUDGET_MS {
            sleep(Duration::ZERO).await;
            last_yield = platform::now_ms();
        }
    }
    log("main", "waiting for them as they complete");
    let mut completed = as_completed(&jobs, None);
    let mut failed = 0;
    while let Some(job) = completed.next().await {
        let job = job?;
        match job.result().expect("completed") {
            Ok(value) => log("main", format!("{}: {value}", job.label())),
            Err(error) => {
                failed += 1;
                log("main", format!("{}: {error}", job.label()));
            }
        }
    }
    log("main", format!("{} jobs, {failed} failed", jobs.len()));
    Ok(failed)
}

// The page shows the programs above this line (see `source_of`); what follows is not
// part of the wasm's copy of this file.

/// What the heartbeat's comparison runs: the same calls on the main thread, one after
/// another, as a program without an executor would; the page cannot draw meanwhile.
/// Each still gets a record, on the main thread's lane.
pub fn on_main_thread(calls: Vec<Call<serde_json::Value>>) -> Vec<Result<serde_json::Value, JobError>> {
    log("main", "running the jobs on the main thread");
    calls.into_iter().map(run_here).collect()
}

/// The source of the scenario function `name` in this file, with its doc comment:
/// what the page shows beside the timeline is the code that runs.
pub fn source_of(name: &str) -> Option<&'static str> {
    let start = SOURCE.find(&format!("pub async fn {name}("))?;
    let start = SOURCE[..start].trim_end_matches(' ').rfind("\n\n").map_or(0, |i| i + 2);
    let end = start + SOURCE[start..].find("\n}\n")? + 3;
    Some(&SOURCE[start..end])
}

/// The part of this file between the lines that start and end the programs, copied
/// at compile time: only that much of it is in the build.
const SOURCE: &str = {
    const FILE: &[u8] = include_str!("scenarios.rs").as_bytes();
    /// Where `marker` is in FILE.
    const fn find(marker: &[u8]) -> usize {
        let mut at = 0;
        loop {
            assert!(at + marker.len() <= FILE.len(), "scenarios.rs has its marker lines");
            let mut i = 0;
            while i < marker.len() && FILE[at + i] == marker[i] {
                i += 1;
            }
            if i == marker.len() {
                return at;
            }
            at += 1;
        }
    }
    const START: usize = find(b"// The programs the page shows start here");
    const END: usize = find(b"// The page shows the programs above this line");
    const PROGRAMS: [u8; END - START] = {
        let mut programs = [0; END - START];
        let mut i = 0;
        while i < programs.len() {
            programs[i] = FILE[START + i];
            i += 1;
        }
        programs
    };
    match std::str::from_utf8(&PROGRAMS) {
        Ok(programs) => programs,
        Err(_) => panic!("the markers are whole lines"),
    }
};

/// What can stop a scenario: an executor refusing work, a wait, or a failed job.
#[derive(Debug, PartialEq)]
pub struct ScenarioError(pub String);

impl std::fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<ExecutorError> for ScenarioError {
    fn from(e: ExecutorError) -> Self {
        ScenarioError(e.to_string())
    }
}

impl From<WaitError> for ScenarioError {
    fn from(e: WaitError) -> Self {
        ScenarioError(e.to_string())
    }
}

impl From<String> for ScenarioError {
    fn from(message: String) -> Self {
        ScenarioError(message)
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn the_source_shown_is_the_whole_function_with_its_doc() {
        let source = source_of("run_blocking_tasks").expect("found");
        assert!(source.starts_with("/// Scenarios 1 and 2"), "{source}");
        assert!(source.contains("executor.submit(job!(blocks(i)))"));
        assert!(source.ends_with("    Ok(results)\n}\n"), "{source}");
        assert!(source_of("mixed_jobs").expect("found").contains("as_completed(&jobs, None)"));
        assert_eq!(source_of("no_such_scenario"), None);
        // Every program the page shows is above the line the build's copy ends at.
        for name in ["run_blocking_tasks", "to_thread_task", "run_in_executor_task", "cpu_bound_task", "choose_executor", "mixed_jobs"] {
            assert!(source_of(name).is_some_and(|s| s.ends_with("\n}\n")), "{name}");
        }
        assert_eq!(source_of("on_main_thread"), None, "not a program: cut from the build's copy");
    }

    #[test]
    fn a_mix_takes_turns_between_kinds() {
        let mix = Mix { blocks: 2, block_ms: 10, cpu: 1, n: 5, gets: 1, url: "a".into() };
        let labels: Vec<String> = mix.calls().map(|c| c.label().to_owned()).collect();
        assert_eq!(labels, ["blocks_for(0, 10)", "cpu_task(5)", "http_get(\"a\")", "blocks_for(1, 10)"]);
    }

    #[test]
    fn jobs_on_the_main_thread_run_there_and_leave_records() {
        crate::jobs::install();
        let run = web_executors::runtime::scope::new_run();
        let _in = web_executors::runtime::scope::enter(run);
        let results = on_main_thread(vec![registry::call("blocks_for", vec![3.into(), 1.into()])]);
        assert_eq!(results, [Ok(serde_json::Value::from(9))]);
        let records = web_executors::observe::record::records_of_run(run);
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].worker, Some(web_executors::observe::record::Worker::Main));
        assert_eq!(&*records[0].executor, "no executor");
    }
}
