//! The JavaScript API: camelCase names, Promises, jobs named by their registered name
//! with JSON arguments. www/web-executors.js loads the build and adds the few variadic
//! conveniences (`submit(name, ...args)`).

use std::cell::RefCell;
use std::rc::Rc;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use js_sys::{Array, Function, Promise, Reflect};
use serde::Serialize;
use serde_json::Value;
use wasm_bindgen::prelude::*;

use crate::combinators::{CompletionOrder, MapResults, gathered};
use crate::default_executor::submit_default;
use crate::job::{ByName, JobError, JobFuture, MAX_ARGUMENTS_JSON, PythonException};
use crate::sync::SpinLock;
use crate::budget::Budget;
use crate::runs::{Kind, Params, Run};
use crate::thread_pool::MAX_WORKERS;
use crate::{ExecutorError, ProcessPoolExecutor, ReturnWhen, ThreadPoolExecutor, log, oneshot, platform, record, registry, scenarios, scope, trace};

#[wasm_bindgen(start)]
fn start() {
    console_error_panic_hook::set_once();
    platform::remember_base_url();
}

/// A JS job as the binding keeps it: its Promise's resolve and reject until it settles,
/// the done callbacks JavaScript added that have not yet been called, its error once
/// one was made for JavaScript, and whether its JS `Job` object is gone.
struct Entry {
    id: u64,
    job: JobFuture<Value>,
    settle: Option<(Function, Function)>,
    callbacks: Vec<Function>,
    error: Option<JsValue>,
    dropped: bool,
}

thread_local! {
    /// Jobs handed to JavaScript, so that `wait` and friends can find the Rust job
    /// behind a JS `Job` object. An entry lives as long as its `Job` object (freed by
    /// `free()` or the garbage collector), or until its Promise settles if longer.
    static JOBS: RefCell<JsJobs> = const { RefCell::new(JsJobs { slots: Vec::new(), empty: 0 }) };
}

/// The JS jobs, sorted by id. Ids grow as jobs are made, so a new one almost always
/// goes at the end; a lookup is a binary search. The garbage collector frees jobs in
/// any order: a freed one leaves an empty slot, and the slots are compacted once half
/// are empty. (A list, not a map: each map type adds its own code to the wasm.)
struct JsJobs {
    slots: Vec<(u64, Option<Entry>)>,
    empty: usize,
}

impl JsJobs {
    fn insert(&mut self, entry: Entry) {
        let id = entry.id;
        match self.slots.last() {
            Some((last, _)) if *last >= id => {
                let at = self.slots.partition_point(|(other, _)| *other < id);
                self.slots.insert(at, (id, Some(entry)));
            }
            _ => self.slots.push((id, Some(entry))),
        }
    }

    fn get_mut(&mut self, id: u64) -> Option<&mut Entry> {
        let at = self.slots.binary_search_by_key(&id, |(id, _)| *id).ok()?;
        self.slots[at].1.as_mut()
    }

    fn remove(&mut self, id: u64) {
        let Ok(at) = self.slots.binary_search_by_key(&id, |(id, _)| *id) else { return };
        if self.slots[at].1.take().is_some() {
            self.empty += 1;
        }
        if self.empty * 2 > self.slots.len() {
            self.slots.retain(|(_, entry)| entry.is_some());
            self.slots.shrink_to_fit();
            self.empty = 0;
        }
    }
}

/// A Promise for `future`. In the threaded build wasm-bindgen catches panics at the
/// boundary; our futures hold no state a panic could leave half-changed for JavaScript
/// to see. (The plain build's panics abort: README, "Known limits".)
fn promise(future: impl Future<Output = Result<JsValue, JsValue>> + 'static) -> Promise {
    boxed_promise(Box::pin(future))
}

/// `promise`'s work, once for all futures (boxed, so the wasm has one copy of it).
fn boxed_promise(future: std::pin::Pin<Box<dyn Future<Output = Result<JsValue, JsValue>>>>) -> Promise {
    wasm_bindgen_futures::future_to_promise(AssertUnwindSafe(future))
}

pub(crate) fn to_js(value: &impl Serialize) -> JsValue {
    parse_json(serde_json::to_string(value).ok())
}

fn parse_json(json: Option<String>) -> JsValue {
    json.and_then(|json| js_sys::JSON::parse(&json).ok()).unwrap_or(JsValue::NULL)
}

/// The arguments of one call as JSON values, each measured before it is copied into the
/// wasm: together they may take at most [`MAX_ARGUMENTS_JSON`] characters.
fn args_from_js(args: impl IntoIterator<Item = JsValue>, what: &str) -> Result<Vec<Value>, JsValue> {
    let mut left = MAX_ARGUMENTS_JSON;
    args.into_iter()
        .map(|value| {
            if value.is_undefined() {
                return Ok(Value::Null);
            }
            let json = js_sys::JSON::stringify(&value)
                .ok()
                .filter(|json| json.is_string())
                .ok_or_else(|| type_error(format!("{what} must be JSON-serialisable (got {})", platform::kind_of(&value))))?;
            let length = json.length() as usize;
            if length > left {
                return Err(value_error(format!(
                    "{what} take more than {MAX_ARGUMENTS_JSON} characters as JSON (one of them takes {length}): \
                     pass something smaller, such as a URL the job can fetch"
                )));
            }
            left -= length;
            serde_json::from_str(&String::from(json)).map_err(|e| type_error(format!("{what}: {e}")))
        })
        .collect()
}

/// A JavaScript `Error` whose `name` is the Python exception's class name, so that
/// `catch (e) { if (e.name === 'TimeoutError') … }` works as `except TimeoutError`.
fn py_error(name: &str, message: &str) -> JsValue {
    let js = js_sys::Error::new(message);
    js.set_name(name);
    js.into()
}

/// Any of the library's errors, as the JavaScript error that Python's class names.
fn python_error(error: &impl PythonException) -> JsValue {
    py_error(error.python_name(), &error.to_string())
}

/// The JS error for how `job` ended (`error`, its own failure or cancellation), made
/// once and kept: as Python gives the same exception object each time, the job's
/// Promise, `exception()`, `result()` and `gather` all give the same object.
fn own_error(job: &JobFuture<Value>, error: &JobError) -> JsValue {
    if matches!(error, JobError::WaitTimedOut { .. }) {
        return python_error(error); // a wait's timeout, not the job's outcome
    }
    JOBS.with(|jobs| match jobs.borrow_mut().get_mut(job.id()) {
        Some(entry) => entry.error.get_or_insert_with(|| python_error(error)).clone(),
        None => python_error(error),
    })
}

/// A string argument, checked before it reaches Rust: wasm-bindgen's copy of a `&str`
/// reads any other value as a string's bytes and traps the module.
fn text_arg(value: &JsValue, owner: &str, param: &str) -> Result<String, JsValue> {
    value.as_string().ok_or_else(|| type_error(format!("{owner}: {param} must be a string (got {})", Options::shown(value))))
}

/// A wrong type of value (Python's `TypeError`).
fn type_error(message: String) -> JsValue {
    js_sys::TypeError::new(&message).into()
}

/// A value of the right type out of range (Python's `ValueError`).
fn value_error(message: String) -> JsValue {
    py_error("ValueError", &message)
}

/// `target[name](a, b)`, for Promise methods whose typed bindings want Rust closures.
fn call_method(target: &JsValue, name: &str, a: &JsValue, b: &JsValue) -> Result<JsValue, JsValue> {
    let method: Function = Reflect::get(target, &name.into())?.unchecked_into();
    method.call2(target, a, b)
}

thread_local! {
    static DISPATCHING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    static NOOP: JsValue = Closure::<dyn FnMut(JsValue)>::new(|_: JsValue| {}).into_js_value();
}

/// JS jobs that woke (started or settled), for the dispatcher.
static WOKEN: SpinLock<Woken> = SpinLock::new(Woken { ids: Vec::new(), task: None });

struct Woken {
    ids: Vec<u64>,
    task: Option<Waker>,
}

/// Wakes the dispatcher with its job's id: one task settles every JS job's Promise,
/// so a burst of 100,000 jobs keeps one wake-up channel to the main thread open
/// rather than 100,000 (one `Atomics.waitAsync` each).
struct JobWaker(u64);

impl Wake for JobWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref()
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let mut woken = WOKEN.lock();
        woken.ids.push(self.0);
        let task = woken.task.take();
        drop(woken);
        task.into_iter().for_each(Waker::wake);
    }
}

fn start_dispatcher() {
    if DISPATCHING.with(|d| d.replace(true)) {
        return;
    }
    wasm_bindgen_futures::spawn_local(AssertUnwindSafe(async {
        loop {
            let ids = std::future::poll_fn(|cx| {
                let mut woken = WOKEN.lock();
                if woken.ids.is_empty() {
                    woken.task = Some(cx.waker().clone());
                    Poll::Pending
                } else {
                    Poll::Ready(std::mem::take(&mut woken.ids))
                }
            })
            .await;
            ids.into_iter().for_each(settle_promise);
        }
    }));
}

/// Settles job `id`'s Promise if the job is done (a job also wakes when it starts),
/// then calls its done callbacks in the order they were added.
fn settle_promise(id: u64) {
    let entry = JOBS.with(|jobs| {
        let mut jobs = jobs.borrow_mut();
        let entry = jobs.get_mut(id)?;
        if !entry.job.done() || entry.settle.is_none() {
            return None;
        }
        let taken = (entry.job.share(), entry.settle.take(), std::mem::take(&mut entry.callbacks));
        if entry.dropped {
            jobs.remove(id);
        }
        Some(taken)
    });
    let Some((job, settle, callbacks)) = entry else { return };
    if let Some((resolve, reject)) = settle {
        let _ = match job.result() {
            Some(Ok(value)) => resolve.call1(&JsValue::UNDEFINED, &to_js(&value)),
            Some(Err(error)) => reject.call1(&JsValue::UNDEFINED, &own_error(&job, &error)),
            None => unreachable!("JavaScript jobs keep their results"),
        };
    }
    call_back(callbacks);
}

/// Calls done callbacks in order. As Python logs an exception a callback raises and
/// goes on, a callback that throws is reported (`reportError`) and the rest still run.
fn call_back(callbacks: Vec<Function>) {
    for callback in callbacks {
        if let Err(error) = callback.call0(&JsValue::UNDEFINED) {
            let report: Option<Function> = Reflect::get(&js_sys::global(), &"reportError".into()).ok().and_then(|f| f.dyn_into().ok());
            match report {
                Some(report) => drop(report.call1(&JsValue::UNDEFINED, &error)),
                None => platform::console_note(&format!("web-executors: exception calling a done callback: {}", platform::kind_of(&error))),
            }
        }
    }
}

/// A JS job's outcome once it settles. JavaScript only ever reads a job's result (as
/// Python's `Future.result()` does), so a job awaited, gathered and mapped at once gives
/// the same value to each.
async fn outcome(job: &JobFuture<Value>) -> Result<JsValue, JsValue> {
    job.settled().await;
    match job.result() {
        Some(Ok(value)) => Ok(to_js(&value)),
        Some(Err(error)) => Err(own_error(job, &error)),
        None => unreachable!("JavaScript jobs keep their results"),
    }
}

/// An options object: only the named keys, each checked by its reader.
struct Options<'a> {
    value: JsValue,
    owner: &'a str,
}

impl<'a> Options<'a> {
    fn read(value: &JsValue, owner: &'a str, known: &[&str]) -> Result<Self, JsValue> {
        if value.is_undefined() || value.is_null() {
            return Ok(Self { value: js_sys::Object::new().into(), owner });
        }
        if !value.is_object() {
            return Err(type_error(format!("{owner}: options must be an object like {{ {}: … }}", known[0])));
        }
        for key in js_sys::Object::keys::<JsValue>(value.unchecked_ref()).iter() {
            let key = key.as_string().unwrap_or_default();
            if !known.contains(&key.as_str()) {
                return Err(type_error(format!("{owner}: unknown option {key:?}; the options are {}", known.join(", "))));
            }
        }
        Ok(Self { value: value.clone(), owner })
    }

    fn get(&self, key: &str) -> Option<JsValue> {
        Reflect::get(&self.value, &key.into()).ok().filter(|v| !v.is_undefined())
    }

    fn shown(value: &JsValue) -> String {
        // JSON shows NaN and Infinity as null: show numbers as JavaScript writes them.
        if value.as_f64().is_some() {
            return value.unchecked_ref::<js_sys::Number>().to_string_with_radix(10).map(String::from).unwrap_or_default();
        }
        js_sys::JSON::stringify(value).ok().and_then(|s| s.as_string()).unwrap_or_else(|| platform::kind_of(value))
    }

    /// A whole number ≥ 1 (and exact: at most 2^53); `rule` is the message for numbers
    /// below 1. Upper limits are the caller's, which know the rule.
    fn count(&self, key: &str, rule: &str) -> Result<Option<u64>, JsValue> {
        const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
        let Some(value) = self.get(key) else { return Ok(None) };
        match value.as_f64() {
            Some(n) if n.fract() == 0.0 && n >= 1.0 && n <= EXACT => Ok(Some(n as u64)),
            Some(n) if n.fract() == 0.0 && n < 1.0 => Err(value_error(format!("{}: {rule} (got {key}: {n})", self.owner))),
            _ => Err(type_error(format!(
                "{}: {key} must be a whole number greater than 0 (got {})",
                self.owner,
                Self::shown(&value)
            ))),
        }
    }

    /// `maxWorkers`, within what a pool allows ([`MAX_WORKERS`]).
    fn max_workers(&self) -> Result<Option<usize>, JsValue> {
        match self.count("maxWorkers", "max_workers must be greater than 0")? {
            Some(n) if n > MAX_WORKERS as u64 => {
                let error = ExecutorError::TooManyWorkers(n);
                Err(py_error(error.python_name(), &format!("{}: {error}", self.owner)))
            }
            n => Ok(n.map(|n| n as usize)),
        }
    }

    /// A whole number ≥ 0.
    fn amount(&self, key: &str) -> Result<Option<u64>, JsValue> {
        let Some(value) = self.get(key) else { return Ok(None) };
        match value.as_f64() {
            Some(n) if n.fract() == 0.0 && (0.0..=u32::MAX as f64).contains(&n) => Ok(Some(n as u64)),
            _ => Err(type_error(format!("{}: {key} must be a whole number, 0 or more (got {})", self.owner, Self::shown(&value)))),
        }
    }

    fn string(&self, key: &str) -> Result<Option<String>, JsValue> {
        let Some(value) = self.get(key) else { return Ok(None) };
        match value.as_string() {
            Some(s) if !s.is_empty() => Ok(Some(s)),
            _ => Err(type_error(format!("{}: {key} must be a non-empty string (got {})", self.owner, Self::shown(&value)))),
        }
    }

    fn flag(&self, key: &str, default: bool) -> Result<bool, JsValue> {
        let Some(value) = self.get(key) else { return Ok(default) };
        value
            .as_bool()
            .ok_or_else(|| type_error(format!("{}: {key} must be true or false (got {})", self.owner, Self::shown(&value))))
    }

    /// Seconds, as Python's `timeout`: a number ≥ 0, or absent (or null) for no limit.
    /// A timeout beyond what the platform's timers count (24.8 days) never fires.
    fn seconds(&self, key: &str) -> Result<Option<Duration>, JsValue> {
        const NEVER_S: f64 = 2_147_483.647;
        let Some(value) = self.get(key) else { return Ok(None) };
        if value.is_null() {
            return Ok(None);
        }
        let message = || format!("{}: {key} must be a number of seconds, 0 or more (got {})", self.owner, Self::shown(&value));
        match value.as_f64() {
            Some(s) if s >= NEVER_S => Ok(None),
            Some(s) if s >= 0.0 => Ok(Some(Duration::from_secs_f64(s))),
            Some(_) => Err(value_error(message())),
            None => Err(type_error(message())),
        }
    }

    /// The `timeout` option alone, of a call that takes only it.
    fn timeout_of(value: &JsValue, owner: &str) -> Result<Option<Duration>, JsValue> {
        Options::read(value, owner, &["timeout"])?.seconds("timeout")
    }
}

/// A submitted job: await it for the result (it is a thenable), or ask its state.
#[wasm_bindgen]
pub struct Job {
    future: JobFuture<Value>,
    promise: Promise,
}

impl Job {
    fn new(future: JobFuture<Value>) -> Job {
        let id = future.id();
        let mut callbacks = None;
        let mut out = AssertUnwindSafe(&mut callbacks);
        let promise = Promise::new(&mut move |resolve, reject| {
            let AssertUnwindSafe(out) = &mut out; // the whole wrapper, not just its field
            **out = Some((resolve, reject));
        });
        let (resolve, reject) = callbacks.expect("the Promise executor runs at once");
        // Rejections are for whoever awaits the job; an unawaited failed job is not an
        // unhandled rejection.
        NOOP.with(|noop| call_method(&promise, "catch", noop, &JsValue::UNDEFINED)).ok();
        JOBS.with(|jobs| jobs.borrow_mut().insert(Entry { id, job: future.share(), settle: Some((resolve, reject)), callbacks: Vec::new(), error: None, dropped: false }));
        start_dispatcher();
        let waker = Waker::from(Arc::new(JobWaker(id)));
        if future.poll_done(&Context::from_waker(&waker)).is_ready() {
            waker.wake();
        }
        Job { future, promise }
    }

    /// The Rust job behind a JS `Job` (www/web-executors.js has checked that each is
    /// one); an id of no job of this page, or a value with none, is a TypeError.
    fn lookup(value: &JsValue) -> Result<JobFuture<Value>, JsValue> {
        let id = Reflect::get(value, &"id".into()).ok().and_then(|id| id.as_f64()).filter(|id| id.fract() == 0.0 && *id >= 0.0);
        id.and_then(|id| JOBS.with(|jobs| jobs.borrow_mut().get_mut(id as u64).map(|entry| entry.job.share())))
            .ok_or_else(|| type_error(format!("expected Job objects, as submit() returns them (got {})", Options::shown(value))))
    }
}

impl Drop for Job {
    /// The JS object is gone: its entry goes too, once its Promise has settled.
    fn drop(&mut self) {
        let id = self.future.id();
        JOBS.with(|jobs| {
            let Ok(mut jobs) = jobs.try_borrow_mut() else { return };
            match jobs.get_mut(id) {
                Some(entry) if entry.settle.is_some() => entry.dropped = true,
                Some(_) => jobs.remove(id),
                None => {}
            }
        });
    }
}

#[wasm_bindgen]
impl Job {
    pub fn then(&self, on_fulfilled: JsValue, on_rejected: JsValue) -> Result<JsValue, JsValue> {
        call_method(&self.promise, "then", &on_fulfilled, &on_rejected)
    }

    #[wasm_bindgen(js_name = catch)]
    pub fn catch_(&self, on_rejected: JsValue) -> Result<JsValue, JsValue> {
        self.then(JsValue::UNDEFINED, on_rejected)
    }

    /// Cancels the job if it still waits in the queue; true if it is cancelled. As
    /// Python's `cancel()`, the done callbacks have run by the time it returns (and the
    /// Promise has rejected), not on the dispatcher's next turn.
    pub fn cancel(&self) -> bool {
        let cancelled = self.future.cancel();
        if cancelled {
            settle_promise(self.future.id());
        }
        cancelled
    }

    pub fn cancelled(&self) -> bool {
        self.future.cancelled()
    }

    pub fn running(&self) -> bool {
        self.future.running()
    }

    pub fn done(&self) -> bool {
        self.future.done()
    }

    #[wasm_bindgen(getter)]
    pub fn id(&self) -> f64 {
        self.future.id() as f64
    }

    #[wasm_bindgen(getter)]
    pub fn label(&self) -> String {
        self.future.label().to_owned()
    }

    /// `PENDING`, `RUNNING`, `FINISHED` or `CANCELLED`.
    #[wasm_bindgen(getter)]
    pub fn state(&self) -> JsValue {
        to_js(&self.future.state())
    }

    /// The name of the worker that took the job, once one did.
    #[wasm_bindgen(getter)]
    pub fn worker(&self) -> Option<String> {
        self.future.worker().map(|w| w.to_string())
    }

    pub fn record(&self) -> JsValue {
        to_js(&self.future.record())
    }

    /// `addDoneCallback`'s work (www/web-executors.js passes the job to `callback`):
    /// `callback()` once the job is done, after its Promise settles; at once if it is
    /// done already. Callbacks run once each, in the order added.
    #[wasm_bindgen(js_name = onDone)]
    pub fn on_done(&self, callback: Function) {
        let done = self.future.done();
        let due = JOBS.with(|jobs| match jobs.borrow_mut().get_mut(self.future.id()) {
            Some(entry) => {
                entry.callbacks.push(callback.clone());
                // Done already: this one and any added before it, now and in order.
                if done { std::mem::take(&mut entry.callbacks) } else { Vec::new() }
            }
            None => vec![callback],
        });
        call_back(due);
    }

    /// Python's `result(timeout)`: resolves to the result once the job is done, or
    /// rejects with its error, or with `TimeoutError` if `{ timeout }` seconds pass
    /// first (the job goes on).
    pub fn result(&self, options: JsValue) -> Result<Promise, JsValue> {
        let timeout = Options::timeout_of(&options, "result")?;
        let job = self.future.share();
        Ok(promise(async move { job.result_within(timeout).await.map(|v| to_js(&v)).map_err(|e| own_error(&job, &e)) }))
    }

    /// Python's `exception(timeout)`: resolves to the job's error once it is done, or
    /// to null if it returned a value; rejects with `CancelledError` if it was
    /// cancelled, `TimeoutError` if `{ timeout }` seconds pass first.
    pub fn exception(&self, options: JsValue) -> Result<Promise, JsValue> {
        let timeout = Options::timeout_of(&options, "exception")?;
        let job = self.future.share();
        Ok(promise(async move {
            match job.exception(timeout).await {
                Ok(error) => Ok(error.map_or(JsValue::NULL, |e| own_error(&job, &e))),
                Err(error) => Err(own_error(&job, &error)),
            }
        }))
    }

    /// Resolves when a worker takes the job.
    pub fn started(&self) -> Promise {
        let watched = self.future.share();
        promise(async move {
            watched.started().await;
            Ok(JsValue::UNDEFINED)
        })
    }
}

/// Either pool, behind one class: www/web-executors.js offers it as
/// `ThreadPoolExecutor` and `ProcessPoolExecutor`.
enum Pool {
    Threads(ThreadPoolExecutor),
    Processes(ProcessPoolExecutor),
}

#[wasm_bindgen]
pub struct Executor {
    pool: Pool,
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
                    let label = crate::job::call_label(&init.name, &init.args);
                    builder = builder.initializer(label, move || registry::run(&init.name, init.args.clone()).map(drop));
                }
                Pool::Threads(builder.build().map_err(|e| py_error(e.python_name(), &format!("{owner}: {e}")))?)
            }
            "processes" => {
                let owner = "ProcessPoolExecutor";
                let known = ["maxWorkers", "maxTasksPerChild", "initializer", "initargs", "jobTimeout"];
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
                Pool::Processes(builder.build().map_err(|e| py_error(e.python_name(), &format!("{owner}: {e}")))?)
            }
            other => return Err(type_error(format!("Executor: no kind {other:?}; the kinds are threads, processes"))),
        };
        Ok(Executor { pool })
    }

    /// `submit(name, args)`: www/web-executors.js offers it as `submit(name, ...args)`.
    #[wasm_bindgen(js_name = submitJob)]
    pub fn submit_job(&self, name: JsValue, args: Vec<JsValue>) -> Result<Job, JsValue> {
        let call = registry_call(&text_arg(&name, "submit", "the job's name")?, &args)?;
        let future = match &self.pool {
            Pool::Threads(pool) => pool.submit(call),
            Pool::Processes(pool) => pool.submit(call),
        };
        Ok(Job::new(future.map_err(|e| python_error(&e))?))
    }

    /// `map(name, items, { chunksize, timeout })`'s jobs, one per item, the item its
    /// argument, as a [`MapJobs`] that gives their results in the order of `items`
    /// (www/web-executors.js makes it async-iterable and awaitable). On processes,
    /// every `chunksize` jobs travel in one message.
    #[wasm_bindgen(js_name = mapJobs)]
    pub fn map_jobs(&self, name: JsValue, items: Vec<JsValue>, options: JsValue) -> Result<MapJobs, JsValue> {
        let name = text_arg(&name, "map", "the job's name")?;
        let options = Options::read(&options, "map", &["chunksize", "timeout"])?;
        let chunksize = options.count("chunksize", "chunksize must be >= 1")?.map_or(1, |n| usize::try_from(n).unwrap_or(usize::MAX));
        let timeout = options.seconds("timeout")?;
        let calls = items.iter().map(|item| registry_call(&name, std::slice::from_ref(item))).collect::<Result<Vec<_>, _>>()?;
        let results = match &self.pool {
            Pool::Threads(pool) => calls
                .into_iter()
                .map(|call| pool.submit(call))
                .collect::<Result<_, _>>()
                .map(crate::combinators::MapResults::new),
            Pool::Processes(pool) => pool.map(|call| call, calls, chunksize),
        }
        .map_err(|e| python_error(&e))?;
        let results = match timeout {
            Some(timeout) => results.timeout(timeout),
            None => results,
        };
        Ok(MapJobs(AssertUnwindSafe(Rc::new(RefCell::new(results)))))
    }

    /// This executor's job records, in submission order.
    pub fn records(&self) -> JsValue {
        to_js(&match &self.pool {
            Pool::Threads(pool) => pool.records(),
            Pool::Processes(pool) => pool.records(),
        })
    }

    /// `shutdown({ wait = true, cancelFutures = false })`: resolves once every worker
    /// has exited (at once if `wait` is false).
    pub fn shutdown(&self, options: JsValue) -> Result<Promise, JsValue> {
        let options = Options::read(&options, "shutdown", &["wait", "cancelFutures"])?;
        let (wait, cancel) = (options.flag("wait", true)?, options.flag("cancelFutures", false)?);
        let done: std::pin::Pin<Box<dyn Future<Output = ()>>> = match &self.pool {
            Pool::Threads(pool) => Box::pin(pool.shutdown(wait, cancel)),
            Pool::Processes(pool) => Box::pin(pool.shutdown(wait, cancel)),
        };
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
            Pool::Processes(pool) => Ok(pool.kill_worker(pid)),
            Pool::Threads(_) => Err(type_error("killWorker: only process workers can be killed; threads share the page".into())),
        }
    }

    #[wasm_bindgen(getter)]
    pub fn name(&self) -> String {
        match &self.pool {
            Pool::Threads(pool) => pool.name().to_owned(),
            Pool::Processes(pool) => pool.name().to_owned(),
        }
    }

    #[wasm_bindgen(getter, js_name = maxWorkers)]
    pub fn max_workers(&self) -> usize {
        match &self.pool {
            Pool::Threads(pool) => pool.max_workers(),
            Pool::Processes(pool) => pool.max_workers(),
        }
    }

    #[wasm_bindgen(getter, js_name = workersAlive)]
    pub fn workers_alive(&self) -> usize {
        match &self.pool {
            Pool::Threads(pool) => pool.workers_alive(),
            Pool::Processes(pool) => pool.workers_alive(),
        }
    }

    /// The workers' names: thread names, or process ids.
    #[wasm_bindgen(getter)]
    pub fn workers(&self) -> Vec<String> {
        match &self.pool {
            Pool::Threads(pool) => pool.worker_names(),
            Pool::Processes(pool) => pool.worker_pids().iter().map(u32::to_string).collect(),
        }
    }
}

/// `initializer` and `initargs`, as a call of a registered job.
fn initializer(options: &Options) -> Result<Option<ByName>, JsValue> {
    let Some(name) = options.string("initializer")? else {
        return match options.get("initargs") {
            Some(_) => Err(type_error(format!("{}: initargs needs an initializer", options.owner))),
            None => Ok(None),
        };
    };
    let args = match options.get("initargs") {
        Some(args) if args.is_array() => args_from_js(Array::from(&args).iter(), "initargs")?,
        Some(other) => return Err(type_error(format!("{}: initargs must be an array (got {})", options.owner, Options::shown(&other)))),
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

/// The Rust jobs behind JS `Job` objects.
fn lookup_all(jobs: &[JsValue]) -> Result<Vec<JobFuture<Value>>, JsValue> {
    jobs.iter().map(Job::lookup).collect()
}

/// Python's `wait(jobs, timeout, return_when)`: resolves to `{ done, notDone }`, each
/// job in one of them once. Options: `returnWhen` (`FIRST_COMPLETED`,
/// `FIRST_EXCEPTION`, `ALL_COMPLETED`, the default) and `timeout` in seconds.
#[wasm_bindgen]
pub fn wait(jobs: Vec<JsValue>, options: JsValue) -> Result<Promise, JsValue> {
    let options = Options::read(&options, "wait", &["returnWhen", "timeout"])?;
    let return_when = match options.get("returnWhen").map(|v| v.as_string()) {
        None => ReturnWhen::AllCompleted,
        Some(Some(text)) if text == "ALL_COMPLETED" => ReturnWhen::AllCompleted,
        Some(Some(text)) if text == "FIRST_COMPLETED" => ReturnWhen::FirstCompleted,
        Some(Some(text)) if text == "FIRST_EXCEPTION" => ReturnWhen::FirstException,
        Some(_) => {
            return Err(value_error(format!(
                "wait: returnWhen must be 'FIRST_COMPLETED', 'FIRST_EXCEPTION' or 'ALL_COMPLETED' (got {})",
                Options::shown(&options.get("returnWhen").unwrap_or(JsValue::UNDEFINED))
            )));
        }
    };
    let timeout = options.seconds("timeout")?;
    let futures = lookup_all(&jobs)?;
    Ok(promise(async move {
        let waited = crate::wait(&futures, return_when, timeout).await.map_err(|e| python_error(&e))?;
        let pick = |set: &[&JobFuture<Value>]| -> Array {
            set.iter().filter_map(|f| futures.iter().position(|g| g.id() == f.id())).map(|i| jobs[i].clone()).collect()
        };
        let result = js_sys::Object::new();
        Reflect::set(&result, &"done".into(), &pick(&waited.done))?;
        Reflect::set(&result, &"notDone".into(), &pick(&waited.not_done))?;
        Ok(result.into())
    }))
}

/// Python's `as_completed(jobs, timeout)`, one job at a time: www/web-executors.js
/// makes it an async iterator of the jobs in the order they complete (each once) and
/// an awaitable of all of them. The timeout counts from this call.
#[wasm_bindgen]
pub struct AsCompletedJobs {
    futures: Rc<Vec<JobFuture<Value>>>,
    // A panic cannot leave it half-changed for JavaScript to see: see `promise`.
    order: AssertUnwindSafe<Rc<RefCell<CompletionOrder>>>,
}

#[wasm_bindgen]
impl AsCompletedJobs {
    #[wasm_bindgen(constructor)]
    pub fn new(jobs: Vec<JsValue>, options: JsValue) -> Result<AsCompletedJobs, JsValue> {
        let timeout = Options::timeout_of(&options, "asCompleted")?;
        let futures = lookup_all(&jobs)?;
        let order = CompletionOrder::new(&futures, timeout);
        Ok(AsCompletedJobs { futures: Rc::new(futures), order: AssertUnwindSafe(Rc::new(RefCell::new(order))) })
    }

    /// Resolves to the index (in the jobs given) of the next job to complete, or to
    /// `undefined` after the last; rejects with `TimeoutError` (Python's
    /// `N (of M) futures unfinished`) when the timeout passes first.
    pub fn next(&self) -> Promise {
        let (futures, order) = (self.futures.clone(), self.order.0.clone());
        promise(async move {
            let next = std::future::poll_fn(|cx| order.borrow_mut().poll_next(&futures, cx)).await;
            match next {
                Some(Ok(i)) => Ok(JsValue::from(i as u32)),
                Some(Err(error)) => Err(python_error(&error)),
                None => Ok(JsValue::UNDEFINED),
            }
        })
    }
}

/// `executor.map`'s results in input order, one at a time: www/web-executors.js makes
/// it an async iterator and an awaitable of the array.
#[wasm_bindgen]
pub struct MapJobs(AssertUnwindSafe<Rc<RefCell<MapResults<Value>>>>);

#[wasm_bindgen]
impl MapJobs {
    /// Resolves to `{ value }` for the next result in input order, or to `undefined`
    /// after the last; rejects with the job's error, or `TimeoutError` when map's
    /// timeout passes first (the jobs after it are then cancelled).
    pub fn next(&self) -> Promise {
        let results = self.0.0.clone();
        promise(async move {
            // One `next` at a time: the iterator awaits each before asking again.
            let mut results = results.try_borrow_mut().map_err(|_| type_error("map: next() called again before the last one resolved".into()))?;
            match results.next_settled().await {
                None => Ok(JsValue::UNDEFINED),
                Some(Err(error)) => Err(python_error(&error)),
                Some(Ok(job)) => {
                    let value = outcome(&job).await?;
                    let item = js_sys::Object::new();
                    Reflect::set(&item, &"value".into(), &value)?;
                    Ok(item.into())
                }
            }
        })
    }

    /// Cancels the jobs whose results were not taken: the iterator's `return()`, as
    /// Python's map iterator closed early.
    #[wasm_bindgen(js_name = cancelRest)]
    pub fn cancel_rest(&self) {
        if let Ok(mut results) = self.0.0.try_borrow_mut() {
            results.cancel_rest();
        }
    }
}

/// asyncio's `gather(*jobs, return_exceptions)`: the results in argument order. Without
/// `returnExceptions`, rejects as soon as a job fails or is cancelled.
#[wasm_bindgen]
pub fn gather(jobs: Vec<JsValue>, options: JsValue) -> Result<Promise, JsValue> {
    let options = Options::read(&options, "gather", &["returnExceptions"])?;
    let return_exceptions = options.flag("returnExceptions", false)?;
    let futures = lookup_all(&jobs)?;
    Ok(promise(async move {
        if let Some(failed) = gathered(&futures, return_exceptions).await {
            return Err(outcome(&futures[failed]).await.unwrap_err());
        }
        let results = Array::new();
        for future in &futures {
            results.push(&outcome(future).await.unwrap_or_else(|error| error));
        }
        Ok(results.into())
    }))
}

/// Every job record of the page, in submission order.
#[wasm_bindgen]
pub fn records() -> JsValue {
    to_js(&record::records())
}

/// The log lines from index `from` on, formatted as Python's logging formats them.
#[wasm_bindgen(js_name = logLines)]
pub fn log_lines(from: Option<usize>) -> Vec<String> {
    log::lines_since(from.unwrap_or(0)).iter().map(log::LogLine::format).collect()
}

/// The log lines from index `from` on, as objects: time, thread, logger, message.
#[wasm_bindgen(js_name = logEntries)]
pub fn log_entries(from: Option<usize>) -> JsValue {
    to_js(&log::lines_since(from.unwrap_or(0)))
}

/// Forgets all records and log lines (jobs still running keep going).
#[wasm_bindgen(js_name = clearRecords)]
pub fn clear_records() {
    record::clear();
    log::clear();
    // The JS jobs stay: a `Job` still held can still be awaited and waited on.
}

/// Bytes of the wasm heap in use (allocated and not freed), across its threads.
#[wasm_bindgen(js_name = heapInUse)]
pub fn heap_in_use() -> f64 {
    crate::heap::in_use() as f64
}

/// The names of the registered jobs.
#[wasm_bindgen(js_name = jobNames)]
pub fn job_names() -> Vec<String> {
    registry::job_names().into_iter().map(str::to_owned).collect()
}

/// The names of this library's live Web Workers (the default executor's among them).
#[wasm_bindgen(js_name = liveWorkers)]
pub fn live_workers() -> Vec<String> {
    platform::live_workers()
}

/// A number for a new run: its jobs and log lines are kept apart from other runs'.
#[wasm_bindgen(js_name = newRun)]
pub fn new_run() -> u32 {
    scope::new_run()
}

/// Reads `runScenario`'s options into a run of `name`.
fn plan(name: &str, options: &JsValue) -> Result<(Run, u32), JsValue> {
    let known = ["executor", "maxWorkers", "jobs", "blockMs", "n", "gets", "url", "cpuJobs", "run"];
    let options = Options::read(options, "runScenario", &known)?;
    let kind = options.string("executor")?.map(|k| Kind::parse(&k)).transpose().map_err(|e| value_error(format!("runScenario: {e}")))?;
    let params = Params {
        kind,
        max_workers: options.max_workers()?,
        jobs: options.amount("jobs")?,
        block_ms: options.count("blockMs", "blockMs must be greater than 0")?,
        n: options.count("n", "n must be greater than 0")?,
        gets: options.amount("gets")?,
        url: options.string("url")?,
        cpu_jobs: options.amount("cpuJobs")?,
    };
    let run = Run::new(name, params).map_err(|e| value_error(format!("runScenario: {e}")))?;
    let id = options.count("run", "run must be a number from newRun()")?.unwrap_or(0);
    let id = u32::try_from(id).map_err(|_| value_error(format!("runScenario: run must be a number from newRun() (got {id})")))?;
    Ok((run, id))
}

/// What a run of `name` with `options` would be, without running it: `workers`, the
/// most workers it has alive at once, the `executor` kind, every parameter's value, and
/// `needsAClick` (why a link should not start it by itself, or null). Throws what
/// `runScenario` would.
#[wasm_bindgen(js_name = planRun)]
pub fn plan_run(name: JsValue, options: JsValue) -> Result<JsValue, JsValue> {
    let (run, _) = plan(&text_arg(&name, "planRun", "the scenario")?, &options)?;
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
    let (run, id) = plan(&text_arg(&name, "runScenario", "the scenario")?, &options)?;
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

/// Forgets run `run`'s records and log lines: a widget's run that was replaced, or
/// whose widget left the page. (Its jobs, if still going, go on.)
#[wasm_bindgen(js_name = forgetRun)]
pub fn forget_run(run: u32) {
    record::forget_run(run);
    log::forget_run(run);
}

/// The job records of run `run`, in submission order.
#[wasm_bindgen(js_name = runRecords)]
pub fn run_records(run: u32) -> JsValue {
    to_js(&record::records_of_run(run))
}

/// The log lines of run `run`, formatted as its program formats them: with thread
/// names, or with process ids (`byProcess`, scenario 2's format).
/// From line `from` on (for a reader that polls while the run goes on).
#[wasm_bindgen(js_name = runLog)]
pub fn run_log(run: u32, by_process: bool, from: Option<usize>) -> Vec<String> {
    let format = if by_process { log::LogLine::format_process } else { log::LogLine::format };
    log::lines_of_run_from(run, from.unwrap_or(0)).iter().map(format).collect()
}

/// Run `run` as Chrome trace-event JSON (opens in Perfetto and DevTools).
#[wasm_bindgen(js_name = runTrace)]
pub fn run_trace(run: u32) -> JsValue {
    to_js(&trace::trace_events(&record::records_of_run(run), &log::lines_of_run(run)))
}

/// Runs the jobs of a run of `name` on the main thread instead, one after another,
/// as part of run `run`: the page freezes meanwhile, which is the point. Returns each
/// job's result or error message.
#[wasm_bindgen(js_name = runOnMainThread)]
pub fn run_on_main_thread(name: JsValue, options: JsValue) -> Result<JsValue, JsValue> {
    let (run, id) = plan(&text_arg(&name, "runOnMainThread", "the scenario")?, &options)?;
    let _in = scope::enter(id);
    let results = scenarios::on_main_thread(run.calls());
    Ok(to_js(&results.into_iter().map(|r| r.map_err(|e| e.to_string())).collect::<Vec<_>>()))
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

/// The log lines from index `from` on, formatted with process ids, as scenario 2 logs.
#[wasm_bindgen(js_name = logLinesByProcess)]
pub fn log_lines_by_process(from: Option<usize>) -> Vec<String> {
    log::lines_since(from.unwrap_or(0)).iter().map(log::LogLine::format_process).collect()
}

/// A no-op given to wasm-bindgen-rayon's pool with `rayon::spawn`, its completion sent
/// back on a oneshot channel: the least a shared-memory round trip can cost, which the
/// benchmark sets beside the thread pool's.
#[cfg(target_feature = "atomics")]
#[wasm_bindgen(js_name = rayonSpawnNoop)]
pub async fn rayon_spawn_noop() {
    let (done, finished) = crate::oneshot::channel();
    rayon::spawn(move || done.send(()));
    finished.await
}
