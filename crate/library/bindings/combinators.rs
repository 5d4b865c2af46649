//! Python's `wait`, `as_completed` and `gather` over JS jobs, and `map`'s results.

use std::cell::RefCell;
use std::panic::AssertUnwindSafe;
use std::rc::Rc;

use js_sys::{Array, Promise, Reflect};
use serde_json::Value;
use wasm_bindgen::prelude::*;

use super::convert::{Options, python_error, type_error, value_error, value_to_js};
use super::jobs::{lookup_all, outcome, promise};
use crate::ReturnWhen;
use crate::executors::combinators::{CompletionOrder, MapResults, gathered};
use crate::executors::job::JobFuture;

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
pub struct MapJobs(pub(super) AssertUnwindSafe<Rc<RefCell<MapResults<Value>>>>);

#[wasm_bindgen]
impl MapJobs {
    /// Resolves to `{ value }` for the next result in input order, or to `undefined`
    /// after the last; rejects with the job's error, or `TimeoutError` when map's
    /// timeout passes first (the jobs after it are then cancelled).
    // Held across the await on purpose: a second `next` before the first resolves finds
    // it borrowed and is refused (the iterator never asks twice at once).
    #[allow(clippy::await_holding_refcell_ref)]
    pub fn next(&self) -> Promise {
        let results = self.0.0.clone();
        promise(async move {
            // One `next` at a time: the iterator awaits each before asking again.
            let mut results =
                results.try_borrow_mut().map_err(|_| type_error("map: next() called again before the last one resolved".into()))?;
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

    /// The results in now, in input order, up to the first job that failed or is not
    /// done: what the iterator hands out before it awaits `next()` again.
    #[wasm_bindgen(js_name = takeReady)]
    pub fn take_ready(&self) -> Result<Array, JsValue> {
        let mut results = self.0.0.try_borrow_mut().map_err(|_| type_error("map: takeReady() called while next() is pending".into()))?;
        Ok(results.ready().iter().map(value_to_js).collect())
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
