//! A scenario run as the page and the docs widget start one: the scenario by name, its
//! parameters with each scenario's defaults, how many workers it needs (the widgets'
//! shared budget), and the same jobs for the main-thread comparison.

use serde_json::Value;

use crate::scenarios::{self, Mix, ScenarioError};
use web_executors::executors::default_executor::shutdown_default_executor;
use web_executors::platform;
use web_executors::process::registry;
use web_executors::{AnyExecutor, Call, Executor, ExecutorError, ProcessPoolExecutor, ThreadPoolExecutor};

/// The scenarios of docs/scenarios.md, and the free-form mix, by the names links use.
pub const SCENARIOS: [&str; 7] =
    ["blocking-squares", "blocking-squares-processes", "to-thread", "run-in-executor", "cpu-bound", "choose-executor", "free-form"];

/// Which pool a scenario's own executor is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Threads,
    Processes,
}

impl Kind {
    pub fn parse(text: &str) -> Result<Kind, RunError> {
        match text {
            "threads" => Ok(Kind::Threads),
            "processes" => Ok(Kind::Processes),
            _ => Err(RunError::NoSuchExecutor(text.to_owned())),
        }
    }
}

/// Why a run cannot be made. Each names the parameter it is about by its key
/// (`blockMs`); [`RunError::describe`] lets a caller name it as its user wrote it.
#[derive(Clone, Debug, PartialEq)]
pub enum RunError {
    NoSuchScenario(String),
    NoSuchExecutor(String),
    /// The scenario on threads, where the page has no shared memory.
    NeedsThreads(&'static str),
    /// A parameter over its limit in [`LIMITS`].
    TooLarge {
        key: &'static str,
        most: u64,
        value: u64,
        why: &'static str,
    },
    UrlTooLong(usize),
}

impl RunError {
    /// The message, with each parameter named by `name(key)`.
    pub fn describe(&self, name: &dyn Fn(&str) -> String) -> String {
        match self {
            RunError::NoSuchScenario(scenario) => format!("no scenario {scenario:?}; the scenarios are {}", SCENARIOS.join(", ")),
            RunError::NoSuchExecutor(text) => format!("{} must be \"threads\" or \"processes\" (got {text:?})", name("executor")),
            RunError::NeedsThreads(scenario) => format!(
                "{scenario} on threads needs shared memory, which this page does not have: choose processes, \
                 or serve the page cross-origin isolated"
            ),
            RunError::TooLarge { key, most, value, why } => format!("{} must be at most {most} (got {value}): {why}", name(key)),
            RunError::UrlTooLong(length) => format!("{} must be at most {MAX_URL} characters long (got {length})", name("url")),
        }
    }
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe(&|key| key.to_owned()))
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

/// The most each numeric parameter of a run may be, by its option name, and why: what a
/// visitor's page and machine can hold. docs/limits.md has the table.
pub const LIMITS: [(&str, u64, &str); 6] = [
    ("maxWorkers", 32, "each worker is a Web Worker, and a process worker a wasm instance of its own"),
    ("jobs", 100_000, "every job keeps a record that the timeline draws"),
    ("blockMs", 60_000, "a job holds its worker that long, and a run cannot be stopped mid-job"),
    ("n", 10_000_000_000, "a CPU loop of 10^10 steps takes ten seconds or more"),
    ("gets", 64, "each GET holds a worker of its own"),
    ("cpuJobs", 10_000, "every job keeps a record that the timeline draws"),
];

/// The longest URL a run's GETs may name.
pub const MAX_URL: usize = 2048;

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
    pub fn new(scenario: &str, params: Params) -> Result<Run, RunError> {
        let scenario = *SCENARIOS.iter().find(|s| **s == scenario).ok_or_else(|| RunError::NoSuchScenario(scenario.to_owned()))?;
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
            return Err(RunError::NeedsThreads(scenario));
        }
        let run = Run {
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
        };
        run.check_limits()?;
        Ok(run)
    }

    /// Each parameter within [`LIMITS`], said with the option's name and value.
    fn check_limits(&self) -> Result<(), RunError> {
        let values = [self.max_workers as u64, self.jobs, self.block_ms, self.n, self.gets, self.cpu_jobs];
        for (&(key, most, why), value) in LIMITS.iter().zip(values) {
            if value > most {
                return Err(RunError::TooLarge { key, most, value, why });
            }
        }
        if self.url.len() > MAX_URL {
            return Err(RunError::UrlTooLong(self.url.len()));
        }
        Ok(())
    }

    /// Why a link may not start this run by itself, or None if it may: a link starts
    /// only what a laptop does without anyone noticing (the default executor's workers,
    /// a thousand jobs, ten seconds, eight GETs, a few seconds of CPU loops). Larger
    /// runs wait for the visitor's click.
    pub fn needs_a_click(&self) -> Option<String> {
        let (blocking, cpu) = match self.scenario {
            "blocking-squares" | "blocking-squares-processes" => (self.jobs * 100, 0),
            "to-thread" | "run-in-executor" => (self.block_ms, 0),
            "cpu-bound" => (0, self.n * 4),
            "choose-executor" => (0, self.n * 2),
            _ => (self.jobs * self.block_ms, self.n * self.cpu_jobs),
        };
        let jobs = match self.scenario {
            "free-form" => self.jobs + self.cpu_jobs + self.gets,
            "blocking-squares" | "blocking-squares-processes" => self.jobs,
            _ => 0,
        };
        let seconds = blocking / self.max_workers.max(1) as u64 / 1000;
        let sizes = [
            ("workers", self.workers_needed() as u64, platform::cpu_count().max(4) as u64),
            ("jobs", jobs, 1_000),
            ("seconds of blocking", seconds, 10),
            ("GETs", self.gets, 8),
            ("CPU loop steps", cpu, 2_000_000_000),
        ];
        let (what, value, most) = sizes.into_iter().find(|(_, value, most)| value > most)?;
        Some(format!("it takes {value} {what}, more than a link starts by itself ({most})"))
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
            _ => self.mix().calls().collect(),
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
        let error = Run::new("nope", Params::default()).unwrap_err().to_string();
        assert!(error.starts_with("no scenario \"nope\"; the scenarios are blocking-squares, blocking-squares-processes,"), "{error}");
        assert_eq!(Kind::parse("fibers").unwrap_err().to_string(), "executor must be \"threads\" or \"processes\" (got \"fibers\")");
    }

    #[test]
    fn the_main_thread_comparison_runs_the_same_calls() {
        let run = Run::new("blocking-squares", Params { jobs: Some(3), ..Params::default() }).unwrap();
        let labels: Vec<String> = run.calls().iter().map(|c| c.label().to_owned()).collect();
        assert_eq!(labels, ["blocks(0)", "blocks(1)", "blocks(2)"]);
    }

    #[test]
    fn a_run_gives_its_programs_result_and_records_its_jobs_under_its_number() {
        crate::jobs::install();
        let id = web_executors::runtime::scope::new_run();
        let run = Run::new(
            "free-form",
            Params { jobs: Some(3), block_ms: Some(5), cpu_jobs: Some(1), n: Some(1000), gets: Some(0), ..Params::default() },
        )
        .unwrap();
        let failed = web_executors::block_on(web_executors::runtime::scope::scoped(id, async move { run.run().await })).unwrap();
        assert_eq!(failed, Value::from(0));
        let records = web_executors::observe::record::records_of_run(id);
        assert_eq!(records.len(), 4);
        assert!(records.iter().all(|r| r.worker.is_some() && r.finished.is_some()));
        let lines = web_executors::observe::log::lines_of_run(id);
        assert!(lines.iter().any(|l| l.logger == "blocks(2)" && l.message == "done"), "worker lines belong to the run");
        assert_eq!(lines.last().unwrap().message, "4 jobs, 0 failed");
    }

    /// The run, or its error's message.
    fn plan(scenario: &str, params: Params) -> Result<Run, String> {
        Run::new(scenario, Params { kind: Some(Kind::Processes), ..params }).map_err(|e| e.to_string())
    }

    #[test]
    fn an_error_names_its_parameter_as_the_caller_asks() {
        let error =
            Run::new("free-form", Params { block_ms: Some(600_000), kind: Some(Kind::Processes), ..Params::default() }).unwrap_err();
        assert_eq!(error, RunError::TooLarge { key: "blockMs", most: 60_000, value: 600_000, why: LIMITS[2].2 });
        let attribute = |key: &str| if key == "blockMs" { "block-ms".to_owned() } else { key.to_owned() };
        assert!(error.describe(&attribute).starts_with("block-ms must be at most 60000 (got 600000)"), "{error}");
        let error = Kind::parse("fibers").unwrap_err();
        assert_eq!(
            error.describe(&|_| "the executor attribute".to_owned()),
            "the executor attribute must be \"threads\" or \"processes\" (got \"fibers\")"
        );
    }

    #[test]
    fn every_parameter_over_its_limit_is_refused_with_its_name_and_value() {
        let error = plan("free-form", Params { max_workers: Some(256), ..Params::default() }).unwrap_err();
        assert!(error.starts_with("maxWorkers must be at most 32 (got 256)"), "{error}");
        let error = plan("free-form", Params { jobs: Some(4_294_967_295), ..Params::default() }).unwrap_err();
        assert!(error.starts_with("jobs must be at most 100000 (got 4294967295)"), "{error}");
        let error = plan("free-form", Params { block_ms: Some(600_000), ..Params::default() }).unwrap_err();
        assert!(error.starts_with("blockMs must be at most 60000"), "{error}");
        let error = plan("choose-executor", Params { gets: Some(2000), ..Params::default() }).unwrap_err();
        assert!(error.starts_with("gets must be at most 64"), "{error}");
        let error = plan("free-form", Params { url: Some("x".repeat(3000)), ..Params::default() }).unwrap_err();
        assert!(error.starts_with("url must be at most 2048 characters"), "{error}");
        assert!(plan("free-form", Params { max_workers: Some(32), jobs: Some(100_000), ..Params::default() }).is_ok());
    }

    #[test]
    fn a_link_starts_the_defaults_by_itself_but_not_a_large_run() {
        for scenario in SCENARIOS {
            let run = plan(scenario, Params::default()).unwrap();
            assert_eq!(run.needs_a_click(), None, "{scenario}");
        }
        let many_gets = plan("free-form", Params { gets: Some(40), ..Params::default() }).unwrap();
        assert_eq!(many_gets.needs_a_click().unwrap(), "it takes 40 GETs, more than a link starts by itself (8)");
        let long = plan("free-form", Params { jobs: Some(100), block_ms: Some(60_000), ..Params::default() }).unwrap();
        assert!(long.needs_a_click().unwrap().contains("seconds of blocking"));
        let wide = plan("free-form", Params { max_workers: Some(32), ..Params::default() }).unwrap();
        assert!(wide.needs_a_click().unwrap().contains("32 workers"));
    }
}
