//! The `Job` class: a Promise for each job, settled by one dispatcher task, and the
//! table that finds the Rust job behind a JS `Job`.

use std::cell::RefCell;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use js_sys::{Function, Promise, Reflect};
use serde_json::Value;
use wasm_bindgen::prelude::*;

use super::convert::{Options, python_error, to_js, type_error, value_to_js};
use crate::executors::job::{JobError, JobFuture};
use crate::platform;
use crate::runtime::sync::SpinLock;

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
/// to see. (The plain build's panics abort: docs/known-limits.md.)
pub fn promise(future: impl Future<Output = Result<JsValue, JsValue>> + 'static) -> Promise {
    boxed_promise(Box::pin(future))
}

/// `promise`'s work, once for all futures (boxed, so the wasm has one copy of it).
fn boxed_promise(future: std::pin::Pin<Box<dyn Future<Output = Result<JsValue, JsValue>>>>) -> Promise {
    wasm_bindgen_futures::future_to_promise(AssertUnwindSafe(future))
}

/// The JS error for how `job` ended (`error`, its own failure or cancellation), made
/// once and kept: as Python gives the same exception object each time, the job's
/// Promise, `exception()`, `result()` and `gather` all give the same object.
pub(super) fn own_error(job: &JobFuture<Value>, error: &JobError) -> JsValue {
    if matches!(error, JobError::WaitTimedOut { .. }) {
        return python_error(error); // a wait's timeout, not the job's outcome
    }
    JOBS.with(|jobs| match jobs.borrow_mut().get_mut(job.id()) {
        Some(entry) => entry.error.get_or_insert_with(|| python_error(error)).clone(),
        None => python_error(error),
    })
}

#[wasm_bindgen]
extern "C" {
    /// `promise.then(onFulfilled, onRejected)` with any values, as JavaScript takes
    /// them (js-sys's binding wants Rust closures). Bound by name, not looked up per
    /// call: a method's name crossing as text cost every job a string copy.
    type Thenable;
    #[wasm_bindgen(method, js_name = then)]
    fn then_with(this: &Thenable, on_fulfilled: &JsValue, on_rejected: &JsValue) -> Promise;

    /// Any value, read for its `id` (a `Job`'s): bound by name for the same reason.
    type WithId;
    #[wasm_bindgen(method, getter, catch)]
    fn id(this: &WithId) -> Result<JsValue, JsValue>;
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

/// Settles job `id`'s Promise if the job is done (a wake-up may come more than once),
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
            Some(Ok(value)) => resolve.call1(&JsValue::UNDEFINED, &value_to_js(&value)),
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
pub(super) async fn outcome(job: &JobFuture<Value>) -> Result<JsValue, JsValue> {
    job.settled().await;
    match job.result() {
        Some(Ok(value)) => Ok(value_to_js(&value)),
        Some(Err(error)) => Err(own_error(job, &error)),
        None => unreachable!("JavaScript jobs keep their results"),
    }
}

/// A submitted job: await it for the result (it is a thenable), or ask its state.
#[wasm_bindgen]
pub struct Job {
    future: JobFuture<Value>,
    promise: Promise,
}

impl Job {
    pub(super) fn new(future: JobFuture<Value>) -> Job {
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
        let _handled = NOOP.with(|noop| promise.unchecked_ref::<Thenable>().then_with(&JsValue::UNDEFINED, noop));
        JOBS.with(|jobs| {
            jobs.borrow_mut().insert(Entry {
                id,
                job: future.share(),
                settle: Some((resolve, reject)),
                callbacks: Vec::new(),
                error: None,
                dropped: false,
            })
        });
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
        let id = value.unchecked_ref::<WithId>().id().ok().and_then(|id| id.as_f64()).filter(|id| id.fract() == 0.0 && *id >= 0.0);
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
    pub fn then(&self, on_fulfilled: JsValue, on_rejected: JsValue) -> Promise {
        self.promise.unchecked_ref::<Thenable>().then_with(&on_fulfilled, &on_rejected)
    }

    #[wasm_bindgen(js_name = catch)]
    pub fn catch_(&self, on_rejected: JsValue) -> Promise {
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
        Ok(promise(async move { job.result_within(timeout).await.map(|v| value_to_js(&v)).map_err(|e| own_error(&job, &e)) }))
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

/// The Rust jobs behind JS `Job` objects.
pub(super) fn lookup_all(jobs: &[JsValue]) -> Result<Vec<JobFuture<Value>>, JsValue> {
    jobs.iter().map(Job::lookup).collect()
}
