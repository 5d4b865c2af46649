//! The Rust counterparts of the Python programs of SCENARIOS.md: the code the page shows
//! beside each timeline, and what the tests run. Each mirrors its Python program line
//! for line; comments mark the one or two places where the browser differs.

use std::time::Duration;

use crate::jobs::{blocking_task, blocks};
use crate::log::log;
use crate::time::{sleep, spawn, yield_now};
use crate::{ExecutorError, ReturnWhen, ThreadPoolExecutor, WaitError, job, run_in_executor, to_thread, wait};

/// `sys.getswitchinterval()`: how long a newly started CPython thread runs before the
/// thread that started it gets the interpreter back.
const GIL_SWITCH_INTERVAL: Duration = Duration::from_millis(5);

/// Scenario 1: six `blocks(i)` on a `ThreadPoolExecutor(max_workers=3)`, awaited with
/// `wait`. Returns the results in the order the done set gives them.
pub async fn run_blocking_tasks(executor: &ThreadPoolExecutor) -> Result<Vec<u64>, ScenarioError> {
    log("run_blocking_tasks", "starting");
    log("run_blocking_tasks", "creating executor tasks");
    let blocking_tasks = (0..6)
        .map(|i| run_in_executor(Some(executor), job!(blocks(i))))
        .collect::<Result<Vec<_>, _>>()?;
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
