//! The `Executor` class, which www/library/web-executors.js offers as
//! `ThreadPoolExecutor` and `ProcessPoolExecutor`, and the default executor.

use std::cell::RefCell;
use std::panic::AssertUnwindSafe;
use std::rc::Rc;

use js_sys::{Array, Promise};
use serde_json::Value;
use wasm_bindgen::prelude::*;

use super::combinators::MapJobs;
use super::convert::{Options, args_from_js, py_error, python_error, text_arg, to_js, type_error};
use super::jobs::{Job, promise};
use crate::executors::default_executor::submit_default;
use crate::executors::executor::auto_chunksize;
use crate::executors::job::PythonException;
use crate::process::protocol::ByName;
use crate::process::registry;
use crate::{AnyExecutor, Executor as _, ProcessPoolExecutor, ThreadPoolExecutor};

/// Either pool, behind one class.
#[wasm_bindgen]
pub struct Executor {
    pool: AnyExecutor,
}

#[wasm_bindgen]
impl Executor {
    /// `kind` is `threads` (options `maxWorkers`, `threadNamePrefix`) or `processes`
    /// (options `maxWorkers`, `maxTasksPerChild`, `initializer`, `initargs`,
    /// `jobTimeout` in seconds).
    #[wasm_bindgen(constructor)]
    pub fn new(kind: &str, options: JsValue) -> Result<Executor, JsValue> {
        let pool = match kind {
            "threads" => {
                let owner = "ThreadPoolExecutor";
                let options = Options::read(&options, owner, &["maxWorkers", "threadNamePrefix", "initializer", "initargs"])?;
                let mut builder = ThreadPoolExecutor::builder();
                if let Some(n) = options.max_workers()? {
                    builder = builder.max_workers(n);
                }
                if let Some(prefix) = options.string("threadNamePrefix")? {
                    builder = builder.thread_name_prefix(prefix);
                }
                if let Some(init) = initializer(&options)? {
                    let label = crate::executors::job::call_label(&init.name, &init.args);
                    builder = builder.initializer(label, move || registry::installed().run(&init.name, init.args.clone()).map(drop));
                }
                AnyExecutor::Threads(builder.build().map_err(|e| py_error(e.python_name(), &format!("{owner}: {e}")))?)
            }
            "processes" => {
                let owner = "ProcessPoolExecutor";
                let known = ["maxWorkers", "maxTasksPerChild", "initializer", "initargs", "jobTimeout", "module"];
                let options = Options::read(&options, owner, &known)?;
                let mut builder = ProcessPoolExecutor::builder();
                if let Some(n) = options.max_workers()? {
                    builder = builder.max_workers(n);
                }
                if let Some(n) = options.count("maxTasksPerChild", "max_tasks_per_child must be >= 1")? {
                    builder = builder.max_tasks_per_child(usize::try_from(n).unwrap_or(usize::MAX));
                }
                if let Some(init) = initializer(&options)? {
                    builder = builder.initializer(&init.name, init.args);
                }
                if let Some(timeout) = options.seconds("jobTimeout")? {
                    builder = builder.job_timeout(timeout);
                }
                if let Some(url) = options.string("module")? {
                    builder = builder.module(url);
                }
                AnyExecutor::Processes(builder.build().map_err(|e| py_error(e.python_name(), &format!("{owner}: {e}")))?)
            }
            other => return Err(type_error(format!("Executor: no kind {other:?}; the kinds are threads, processes"))),
        };
        Ok(Executor { pool })
    }

    /// `submit(name, args)`: www/web-executors.js offers it as `submit(name, ...args)`.
    #[wasm_bindgen(js_name = submitJob)]
    pub fn submit_job(&self, name: JsValue, args: Vec<JsValue>) -> Result<Job, JsValue> {
        let call = registry_call(&text_arg(&name, "submit", "the job's name")?, &args)?;
        Ok(Job::new(self.pool.submit(call).map_err(|e| python_error(&e))?))
    }

    /// `map(name, items, { chunksize, timeout })`'s jobs, one per item, the item its
    /// argument, as a [`MapJobs`] that gives their results in the order of `items`
    /// (www/web-executors.js makes it async-iterable and awaitable). On processes,
    /// every `chunksize` jobs travel in one message; without one, the pool picks it
    /// (`auto_chunksize`).
    #[wasm_bindgen(js_name = mapJobs)]
    pub fn map_jobs(&self, name: JsValue, items: Vec<JsValue>, options: JsValue) -> Result<MapJobs, JsValue> {
        let name = text_arg(&name, "map", "the job's name")?;
        let options = Options::read(&options, "map", &["chunksize", "timeout"])?;
        let chunksize = options
            .count("chunksize", "chunksize must be >= 1")?
            .map_or_else(|| auto_chunksize(items.len(), self.pool.max_workers()), |n| usize::try_from(n).unwrap_or(usize::MAX));
        let timeout = options.seconds("timeout")?;
        let calls = items.iter().map(|item| registry_call(&name, std::slice::from_ref(item))).collect::<Result<Vec<_>, _>>()?;
        let results = self.pool.map(|call| call, calls, chunksize).map_err(|e| python_error(&e))?;
        let results = match timeout {
            Some(timeout) => results.timeout(timeout),
            None => results,
        };
        Ok(MapJobs(AssertUnwindSafe(Rc::new(RefCell::new(results)))))
    }

    /// This executor's job records, in submission order.
    pub fn records(&self) -> JsValue {
        to_js(&self.pool.records())
    }

    /// `shutdown({ wait = true, cancelFutures = false })`: resolves once every worker
    /// has exited (at once if `wait` is false).
    pub fn shutdown(&self, options: JsValue) -> Result<Promise, JsValue> {
        let options = Options::read(&options, "shutdown", &["wait", "cancelFutures"])?;
        let (wait, cancel) = (options.flag("wait", true)?, options.flag("cancelFutures", false)?);
        let done = self.pool.shutdown(wait, cancel);
        Ok(promise(async move {
            done.await;
            Ok(JsValue::UNDEFINED)
        }))
    }

    /// Terminates process worker `pid`, as the system's `kill`: its job fails, the rest
    /// of its work goes to other workers. For fault drills.
    #[wasm_bindgen(js_name = killWorker)]
    pub fn kill_worker(&self, pid: u32) -> Result<bool, JsValue> {
        match &self.pool {
            AnyExecutor::Processes(pool) => Ok(pool.kill_worker(pid)),
            AnyExecutor::Threads(_) => Err(type_error("killWorker: only process workers can be killed; threads share the page".into())),
        }
    }

    #[wasm_bindgen(getter)]
    pub fn name(&self) -> String {
        self.pool.name().to_owned()
    }

    #[wasm_bindgen(getter, js_name = maxWorkers)]
    pub fn max_workers(&self) -> usize {
        self.pool.max_workers()
    }

    #[wasm_bindgen(getter, js_name = workersAlive)]
    pub fn workers_alive(&self) -> usize {
        self.pool.workers().len()
    }

    /// The workers' names: thread names, or process ids.
    #[wasm_bindgen(getter)]
    pub fn workers(&self) -> Vec<String> {
        self.pool.workers().iter().map(ToString::to_string).collect()
    }
}

/// `initializer` and `initargs`, as a call of a registered job.
fn initializer(options: &Options) -> Result<Option<ByName>, JsValue> {
    let Some(name) = options.string("initializer")? else {
        return match options.get("initargs") {
            Some(_) => Err(type_error(format!("{}initargs needs an initializer", options.at()))),
            None => Ok(None),
        };
    };
    let args = match options.get("initargs") {
        Some(args) if args.is_array() => args_from_js(Array::from(&args).iter(), "initargs")?,
        Some(other) => return Err(type_error(format!("{}initargs must be an array (got {})", options.at(), Options::shown(&other)))),
        None => Vec::new(),
    };
    Ok(Some(ByName { name, args }))
}

fn registry_call(name: &str, args: &[JsValue]) -> Result<crate::Call<Value>, JsValue> {
    let args = args_from_js(args.iter().cloned(), &format!("the arguments of {name}"))?;
    Ok(registry::call(name, args))
}

/// `toThread(name, args)` and `runInExecutor(null, …)`: a job on the default executor.
#[wasm_bindgen(js_name = submitDefault)]
pub fn submit_default_job(name: JsValue, args: Vec<JsValue>) -> Result<Job, JsValue> {
    Ok(Job::new(submit_default(registry_call(&text_arg(&name, "toThread", "the job's name")?, &args)?)))
}
