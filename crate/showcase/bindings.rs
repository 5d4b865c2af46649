//! The showcase's JavaScript API: the scenarios' runs (plan, run, stop, on the main
//! thread, their source), the widgets' worker budget, and the benchmark's floor.

use std::cell::RefCell;
use std::future::Future;
use std::task::Poll;

use js_sys::Promise;

use serde::Serialize;
use wasm_bindgen::prelude::*;
use web_executors::bindings::convert::{Options, text_arg, to_js, value_error};
use web_executors::bindings::promise;
use web_executors::runtime::{oneshot, scope};

use crate::budget::Budget;
use crate::jobs;
use crate::runs::{Kind, Params, Run, RunError};
use crate::scenarios;

// The demo's jobs, in the page and in each process worker.
web_executors::register_jobs!(jobs::registry);

/// Reads `runScenario`'s options into a run of `name`. With `names` (an object of
/// option to name, as a widget's attributes name them), messages name the options so
/// and leave the function's name out.
fn plan(name: &str, options: &JsValue, names: &JsValue) -> Result<(Run, u32), JsValue> {
    let known = ["executor", "maxWorkers", "jobs", "blockMs", "n", "gets", "url", "cpuJobs", "run"];
    let owner = if names.is_undefined() { "runScenario" } else { "" };
    let options = Options::read(options, owner, &known)?.named(names.clone());
    let failed = |e: RunError| value_error(format!("{}{}", options.at(), e.describe(&|key| options.name(key))));
    let kind = options.string("executor")?.map(|k| Kind::parse(&k)).transpose().map_err(failed)?;
    let above_0 = |key| format!("{} must be greater than 0", options.name(key));
    let params = Params {
        kind,
        max_workers: options.max_workers()?,
        jobs: options.amount("jobs")?,
        block_ms: options.count("blockMs", &above_0("blockMs"))?,
        n: options.count("n", &above_0("n"))?,
        gets: options.amount("gets")?,
        url: options.string("url")?,
        cpu_jobs: options.amount("cpuJobs")?,
    };
    let run = Run::new(name, params).map_err(failed)?;
    let id = options.count("run", "run must be a number from newRun()")?.unwrap_or(0);
    let id = u32::try_from(id).map_err(|_| value_error(format!("{}run must be a number from newRun() (got {id})", options.at())))?;
    Ok((run, id))
}

/// What a run of `name` with `options` would be, without running it: `workers`, the
/// most workers it has alive at once, the `executor` kind, every parameter's value, and
/// `needsAClick` (why a link should not start it by itself, or null). Throws what
/// `runScenario` would, naming the options as `names` says if given (`{ blockMs:
/// 'block-ms' }`: a widget's attributes).
#[wasm_bindgen(js_name = planRun)]
pub fn plan_run(name: JsValue, options: JsValue, names: JsValue) -> Result<JsValue, JsValue> {
    let (run, _) = plan(&text_arg(&name, "planRun", "the scenario")?, &options, &names)?;
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Plan {
        workers: usize,
        executor: &'static str,
        max_workers: usize,
        jobs: u64,
        block_ms: u64,
        n: u64,
        gets: u64,
        cpu_jobs: u64,
        /// Why a link may not start it without a click, or null.
        needs_a_click: Option<String>,
    }
    Ok(to_js(&Plan {
        needs_a_click: run.needs_a_click(),
        workers: run.workers_needed(),
        executor: if run.kind == Kind::Threads { "threads" } else { "processes" },
        max_workers: run.max_workers,
        jobs: run.jobs,
        block_ms: run.block_ms,
        n: run.n,
        gets: run.gets,
        cpu_jobs: run.cpu_jobs,
    }))
}

thread_local! {
    /// How to stop each run still going: wakes its future, which then gives up.
    static STOPS: RefCell<Vec<(u32, oneshot::Sender<()>)>> = const { RefCell::new(Vec::new()) };
}

/// Runs a scenario of docs/scenarios.md by name, resolving to what its program returns:
/// `blocking-squares` (1; `executor`, `maxWorkers`, `jobs`), `blocking-squares-processes`
/// (2), `to-thread` (3, `blockMs`), `run-in-executor` (4, `blockMs`), `cpu-bound` (5,
/// `n`, `maxWorkers`, `executor`), `choose-executor` (6, `url`, `gets`, `n`), `free-form`
/// (`executor`, `maxWorkers`, `jobs`, `blockMs`, `cpuJobs`, `n`, `gets`, `url`). With
/// `run` (from `newRun()`) its records and log lines are that run's, and `stopRun` can
/// stop it.
#[wasm_bindgen(js_name = runScenario)]
pub fn run_scenario(name: JsValue, options: JsValue) -> Result<Promise, JsValue> {
    let (run, id) = plan(&text_arg(&name, "runScenario", "the scenario")?, &options, &JsValue::UNDEFINED)?;
    let (stop, stopped) = oneshot::channel();
    if id != 0 {
        take_stop(id);
        STOPS.with(|stops| stops.borrow_mut().push((id, stop)));
    }
    let program = scope::scoped(id, async move { run.run().await });
    Ok(promise(async move {
        let outcome = first_of(program, stopped).await;
        take_stop(id);
        match outcome {
            Some(Ok(value)) => Ok(to_js(&value)),
            Some(Err(error)) => Err(JsError::new(&error.0).into()),
            None => Err(JsError::new(&format!("runScenario: run {id} was stopped")).into()),
        }
    }))
}

/// Takes run `run`'s stop away, if it has one.
fn take_stop(run: u32) -> Option<oneshot::Sender<()>> {
    STOPS.with(|stops| {
        let mut stops = stops.borrow_mut();
        let i = stops.iter().position(|(r, _)| *r == run)?;
        Some(stops.swap_remove(i).1)
    })
}

/// `program`'s output, or None if `stop` fires first (then `program` is dropped).
async fn first_of<T>(program: impl Future<Output = T>, mut stop: oneshot::Receiver<()>) -> Option<T> {
    let mut program = std::pin::pin!(program);
    std::future::poll_fn(|cx| {
        if let Poll::Ready(value) = program.as_mut().poll(cx) {
            return Poll::Ready(Some(value));
        }
        match std::pin::Pin::new(&mut stop).poll(cx) {
            Poll::Ready(_) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    })
    .await
}

/// Stops run `run`: its executors cancel their queues and let their workers go (process
/// workers at once; threads once their job ends), and its `runScenario` Promise rejects.
/// True if the run was still going.
#[wasm_bindgen(js_name = stopRun)]
pub fn stop_run(run: u32) -> bool {
    let going = take_stop(run).map(|stop| stop.send(())).is_some();
    scope::stop(run);
    going
}

/// Runs the jobs of a run of `name` on the main thread instead, one after another,
/// as part of run `run`: the page freezes meanwhile, which is the point. Returns each
/// job's result as a value (`[0, 1, 4]`), or `{ error }` for a job that failed.
#[wasm_bindgen(js_name = runOnMainThread)]
pub fn run_on_main_thread(name: JsValue, options: JsValue) -> Result<JsValue, JsValue> {
    let (run, id) = plan(&text_arg(&name, "runOnMainThread", "the scenario")?, &options, &JsValue::UNDEFINED)?;
    let _in = scope::enter(id);
    let results = scenarios::on_main_thread(run.calls());
    let values = results.into_iter().map(|r| r.unwrap_or_else(|e| serde_json::json!({ "error": e.to_string() })));
    Ok(to_js(&values.collect::<Vec<_>>()))
}

/// The Rust source of scenario `name`'s program: the code that runs, for the page.
#[wasm_bindgen(js_name = scenarioSource)]
pub fn scenario_source(name: JsValue) -> Option<String> {
    let function = match name.as_string()?.as_str() {
        "blocking-squares" | "blocking-squares-processes" => "run_blocking_tasks",
        "to-thread" => "to_thread_task",
        "run-in-executor" => "run_in_executor_task",
        "cpu-bound" => "cpu_bound_task",
        "choose-executor" => "choose_executor",
        "free-form" => "mixed_jobs",
        _ => return None,
    };
    scenarios::source_of(function).map(str::to_owned)
}

/// The page's budget of workers shared by its timeline widgets (see `budget`).
#[wasm_bindgen(js_name = WorkerBudget)]
pub struct WorkerBudget(Budget);

#[wasm_bindgen(js_class = WorkerBudget)]
impl WorkerBudget {
    #[wasm_bindgen(constructor)]
    pub fn new(cores: usize) -> WorkerBudget {
        WorkerBudget(Budget::new(cores))
    }
    pub fn declare(&mut self, widget: u32, workers: usize) -> Vec<u32> {
        self.0.declare(widget, workers)
    }
    pub fn withdraw(&mut self, widget: u32) -> Vec<u32> {
        self.0.withdraw(widget)
    }
    pub fn request(&mut self, widget: u32, workers: usize) -> bool {
        self.0.request(widget, workers)
    }
    pub fn release(&mut self, widget: u32) -> Vec<u32> {
        self.0.release(widget)
    }
    #[wasm_bindgen(getter)]
    pub fn limit(&self) -> usize {
        self.0.limit()
    }
    #[wasm_bindgen(getter, js_name = inUse)]
    pub fn in_use(&self) -> usize {
        self.0.in_use()
    }
}

/// A no-op given to wasm-bindgen-rayon's pool with `rayon::spawn`, its completion sent
/// back on a oneshot channel: the least a shared-memory round trip can cost, which the
/// benchmark sets beside the thread pool's.
#[cfg(target_feature = "atomics")]
#[wasm_bindgen(js_name = rayonSpawnNoop)]
pub async fn rayon_spawn_noop() {
    let (done, finished) = oneshot::channel();
    rayon::spawn(move || done.send(()));
    finished.await
}
