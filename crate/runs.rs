//! A scenario run as the page and the docs widget start one: the scenario by name, its
//! parameters with each scenario's defaults, how many workers it needs (the widgets'
//! shared budget), and the same jobs for the main-thread comparison.

use serde_json::Value;

use crate::default_executor::shutdown_default_executor;
use crate::platform;
use crate::scenarios::{self, Mix, ScenarioError};
use crate::{Call, Executor, ExecutorError, ProcessPoolExecutor, ThreadPoolExecutor, registry};

/// The scenarios of SCENARIOS.md, and the free-form mix, by the names links use.
pub const SCENARIOS: [&str; 7] =
    ["blocking-squares", "blocking-squares-processes", "to-thread", "run-in-executor", "cpu-bound", "choose-executor", "free-form"];

/// Which pool a scenario's own executor is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Threads,
    Processes,
}

impl Kind {
    pub fn parse(text: &str) -> Result<Kind, String> {
        match text {
            "threads" => Ok(Kind::Threads),
            "processes" => Ok(Kind::Processes),
            _ => Err(format!("executor must be \"threads\" or \"processes\" (got {text:?})")),
        }
    }
}

/// A run's parameters. `None` takes the scenario's default.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Params {
    pub kind: Option<Kind>,
    pub max_workers: Option<usize>,
    /// Scenario 1's `blocks(i)` calls; free-form's `blocks_for` calls.
    pub jobs: Option<u64>,
    pub block_ms: Option<u64>,
    /// The CPU loop's size.
    pub n: Option<u64>,
    pub gets: Option<u64>,
    pub url: Option<String>,
    /// Free-form's CPU jobs.
    pub cpu_jobs: Option<u64>,
}

/// A scenario with every parameter settled.
#[derive(Clone, Debug, PartialEq)]
pub struct Run {
    pub scenario: &'static str,
    pub kind: Kind,
    pub max_workers: usize,
    pub jobs: u64,
    pub block_ms: u64,
    pub n: u64,
    pub gets: u64,
    pub url: String,
    pub cpu_jobs: u64,
}

impl Run {
    /// `scenario` with `params` over its defaults; an unknown name says which exist.
    pub fn new(scenario: &str, params: Params) -> Result<Run, String> {
        let scenario = *SCENARIOS
            .iter()
            .find(|s| **s == scenario)
            .ok_or_else(|| format!("no scenario {scenario:?}; the scenarios are {}", SCENARIOS.join(", ")))?;
        let threads_here = platform::threads_available().is_ok();
        let (kind, max_workers, block_ms) = match scenario {
            "blocking-squares" => (Kind::Threads, 3, 100),
            "blocking-squares-processes" => (Kind::Processes, 3, 100),
            "to-thread" | "run-in-executor" => (Kind::Threads, platform::cpu_count(), 2000),
            "cpu-bound" => (Kind::Processes, 4, 0),
            "choose-executor" => (Kind::Threads, 4, 0),
            _ => (if threads_here { Kind::Threads } else { Kind::Processes }, 3, 200),
        };
        // Without shared memory a scenario on threads runs on processes, as the default
        // executor does; asking for threads outright is an error.
        let kind = params.kind.unwrap_or(if threads_here { kind } else { Kind::Processes });
        if kind == Kind::Threads && !threads_here && matches!(scenario, "blocking-squares" | "cpu-bound" | "free-form") {
            return Err(format!(
                "{scenario} on threads needs shared memory, which this page does not have: choose processes, \
                 or serve the page cross-origin isolated"
            ));
        }
        Ok(Run {
            scenario,
            kind,
            max_workers: params.max_workers.unwrap_or(max_workers),
            jobs: params.jobs.unwrap_or(6),
            block_ms: params.block_ms.unwrap_or(block_ms),
            n: params.n.unwrap_or(match scenario {
                "choose-executor" => 20_000_000,
                "free-form" => 5_000_000,
                _ => 50_000_000,
            }),
            gets: params.gets.unwrap_or(4),
            url: params.url.unwrap_or_else(|| "index.html".to_owned()),
            cpu_jobs: params.cpu_jobs.unwrap_or(2),
        })
    }

    /// The most workers alive at once during the run.
    pub fn workers_needed(&self) -> usize {
        match self.scenario {
            // The default executor: one worker per core.
            "to-thread" | "run-in-executor" => platform::cpu_count(),
            // Its pools come one after another: the GETs', then two for the CPU loop.
            "choose-executor" => (self.gets as usize).max(2),
            _ => self.max_workers,
        }
    }

    fn mix(&self) -> Mix {
        Mix { blocks: self.jobs, block_ms: self.block_ms, cpu: self.cpu_jobs, n: self.n, gets: self.gets, url: self.url.clone() }
    }

    /// The run's jobs as calls, for running them on the main thread instead.
    pub fn calls(&self) -> Vec<Call<Value>> {
        let call = registry::call;
        match self.scenario {
            "blocking-squares" | "blocking-squares-processes" => (0..self.jobs).map(|i| call("blocks", vec![i.into()])).collect(),
            "to-thread" | "run-in-executor" => vec![call("blocking_task", vec![self.block_ms.into()])],
            "cpu-bound" => vec![call("cpu_task", vec![self.n.into()])],
            "choose-executor" => vec![call("sum_sqrt", vec![self.n.into()])],
            _ => self.mix().calls(),
        }
    }

    /// Runs the scenario; resolves to what its program returns, as JSON. Like
    /// `asyncio.run`, it shuts the run's default executor down at the end.
    pub async fn run(&self) -> Result<Value, ScenarioError> {
        let result = self.run_program().await;
        shutdown_default_executor().await;
        result
    }

    async fn run_program(&self) -> Result<Value, ScenarioError> {
        Ok(match self.scenario {
            "blocking-squares" | "blocking-squares-processes" => {
                let executor = self.executor()?;
                let results = scenarios::run_blocking_tasks(&executor, self.jobs).await?;
                executor.shutdown(true, false).await;
                json(&results)
            }
            "to-thread" => json(&scenarios::to_thread_task(self.block_ms).await?),
            "run-in-executor" => json(&scenarios::run_in_executor_task(self.block_ms).await?),
            "cpu-bound" => json(&scenarios::cpu_bound_task(&self.executor()?, self.n).await?),
            "choose-executor" => json(&scenarios::choose_executor(&self.url, self.gets as usize, self.n).await?),
            _ => {
                let executor = self.executor()?;
                let failed = scenarios::mixed_jobs(&executor, &self.mix()).await?;
                executor.shutdown(true, false).await;
                json(&failed)
            }
        })
    }

    fn executor(&self) -> Result<AnyExecutor, ExecutorError> {
        Ok(match self.kind {
            Kind::Threads => AnyExecutor::Threads(ThreadPoolExecutor::builder().max_workers(self.max_workers).build()?),
            Kind::Processes => AnyExecutor::Processes(ProcessPoolExecutor::builder().max_workers(self.max_workers).build()?),
        })
    }
}

/// A program's result as JSON; the scenarios' results always serialise.
fn json(value: &impl serde::Serialize) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// Either pool, for code that picks one at run time.
pub enum AnyExecutor {
    Threads(ThreadPoolExecutor),
    Processes(ProcessPoolExecutor),
}

impl Executor for AnyExecutor {
    fn submit<T: Send + serde::de::DeserializeOwned + 'static>(&self, call: Call<T>) -> Result<crate::JobFuture<T>, ExecutorError> {
        match self {
            AnyExecutor::Threads(e) => e.submit(call),
            AnyExecutor::Processes(e) => e.submit(call),
        }
    }
    fn name(&self) -> &str {
        match self {
            AnyExecutor::Threads(e) => e.name(),
            AnyExecutor::Processes(e) => e.name(),
        }
    }
    fn records(&self) -> Vec<crate::JobRecord> {
        match self {
            AnyExecutor::Threads(e) => e.records(),
            AnyExecutor::Processes(e) => e.records(),
        }
    }
    fn workers_alive(&self) -> usize {
        match self {
            AnyExecutor::Threads(e) => e.workers_alive(),
            AnyExecutor::Processes(e) => e.workers_alive(),
        }
    }
    fn shutdown(&self, wait: bool, cancel_futures: bool) -> impl Future<Output = ()> + 'static {
        let (threads, processes) = match self {
            AnyExecutor::Threads(e) => (Some(e.shutdown(wait, cancel_futures)), None),
            AnyExecutor::Processes(e) => (None, Some(e.shutdown(wait, cancel_futures))),
        };
        async move {
            if let Some(done) = threads {
                done.await;
            }
            if let Some(done) = processes {
                done.await;
            }
        }
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn each_scenario_has_its_programs_defaults() {
        let run = Run::new("blocking-squares-processes", Params::default()).unwrap();
        assert_eq!((run.kind, run.max_workers, run.jobs), (Kind::Processes, 3, 6));
        let run = Run::new("cpu-bound", Params::default()).unwrap();
        assert_eq!((run.kind, run.max_workers, run.n), (Kind::Processes, 4, 50_000_000));
        let run = Run::new("blocking-squares", Params { max_workers: Some(2), jobs: Some(10), ..Params::default() }).unwrap();
        assert_eq!((run.max_workers, run.jobs, run.workers_needed()), (2, 10, 2));
        assert_eq!(Run::new("choose-executor", Params { gets: Some(6), ..Params::default() }).unwrap().workers_needed(), 6);
    }

    #[test]
    fn an_unknown_scenario_lists_the_known_ones() {
        let error = Run::new("nope", Params::default()).unwrap_err();
        assert!(error.starts_with("no scenario \"nope\"; the scenarios are blocking-squares, blocking-squares-processes,"), "{error}");
        assert_eq!(Kind::parse("fibers").unwrap_err(), "executor must be \"threads\" or \"processes\" (got \"fibers\")");
    }

    #[test]
    fn the_main_thread_comparison_runs_the_same_calls() {
        let run = Run::new("blocking-squares", Params { jobs: Some(3), ..Params::default() }).unwrap();
        let labels: Vec<String> = run.calls().iter().map(|c| c.label.clone()).collect();
        assert_eq!(labels, ["blocks(0)", "blocks(1)", "blocks(2)"]);
    }

    #[test]
    fn a_run_gives_its_programs_result_and_records_its_jobs_under_its_number() {
        let id = crate::scope::new_run();
        let run = Run::new("free-form", Params { jobs: Some(3), block_ms: Some(5), cpu_jobs: Some(1), n: Some(1000), gets: Some(0), ..Params::default() }).unwrap();
        let failed = crate::block_on(crate::scope::scoped(id, async move { run.run().await })).unwrap();
        assert_eq!(failed, Value::from(0));
        let records = crate::record::records_of_run(id);
        assert_eq!(records.len(), 4);
        assert!(records.iter().all(|r| r.worker.is_some() && r.finished.is_some()));
        let lines = crate::log::lines_of_run(id);
        assert!(lines.iter().any(|l| l.logger == "blocks(2)" && l.message == "done"), "worker lines belong to the run");
        assert_eq!(lines.last().unwrap().message, "4 jobs, 0 failed");
    }
}
