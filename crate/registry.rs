//! Jobs by name, with JSON arguments and results: how JavaScript submits work, and how
//! work crosses to a worker that shares no memory (as Python pickles a function by name).
//!
//! Registering a job is one line in [`REGISTRY`]: its name, its parameters as the
//! error messages show them, and a function from a tuple of arguments.

use std::sync::LazyLock;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::job::{ByName, Call, call_label};
use crate::jobs;

type Entry = Box<dyn Fn(Value) -> Result<Value, String> + Send + Sync>;

struct Registry {
    /// Name, parameters, function; sorted by name. (A few jobs: a list, not a map.)
    jobs: Vec<(&'static str, &'static str, Entry)>,
}

impl Registry {
    /// Registers `f` as `name`; its arguments arrive as a JSON array read into `A`.
    fn add<A: DeserializeOwned + 'static, R: Serialize + 'static>(&mut self, name: &'static str, params: &'static str, f: fn(A) -> R) {
        self.add_fallible(name, params, move |args: A| Ok(f(args)));
    }

    /// Registers `f`, whose `Err(message)` fails the job.
    fn add_fallible<A: DeserializeOwned + 'static, R: Serialize + 'static>(
        &mut self,
        name: &'static str,
        params: &'static str,
        f: impl Fn(A) -> Result<R, String> + Send + Sync + 'static,
    ) {
        let entry: Entry = Box::new(move |args: Value| {
            let parsed: A = serde_json::from_value(args.clone())
                .map_err(|e| format!("{name} takes ({params}), got {args}: {e}"))?;
            serde_json::to_value(f(parsed)?).map_err(|e| format!("{name} gave a result JSON cannot hold: {e}"))
        });
        self.jobs.push((name, params, entry));
    }
}

static REGISTRY: LazyLock<Registry> = LazyLock::new(|| {
    let mut r = Registry { jobs: Vec::new() };
    // In name order, as `job_names` lists them.
    r.add("blocking_task", "ms: integer", |(ms,): (u64,)| jobs::blocking_task(ms));
    r.add_fallible("blocks", "n: integer", |(n,): (u64,)| jobs::blocks_arg(n).map(jobs::blocks));
    r.add_fallible("blocks_for", "n: integer, ms: integer", |(n, ms): (u64, u64)| {
        jobs::blocks_arg(n).map(|n| jobs::blocks_for(n, ms))
    });
    r.add("cpu_task", "n: integer", |(n,): (u64,)| jobs::cpu_task(n));
    #[cfg(target_arch = "wasm32")]
    r.add_fallible("http_get", "url: string", |(url,): (String,)| jobs::http_get(&url));
    r.add("noop", "", |[]: [u8; 0]| jobs::noop());
    r.add("panics", "message: string", |(message,): (String,)| jobs::panics(message));
    r.add("par_sum_sqrt", "n: integer", |(n,): (u64,)| jobs::par_sum_sqrt(n));
    r.add("set_worker_value", "value: string", |(value,): (String,)| jobs::set_worker_value(value));
    r.add("sum_sqrt", "n: integer", |(n,): (u64,)| jobs::sum_sqrt(n));
    r.add("sum_sqrt_range", "start: integer, end: integer", |(start, end): (u64, u64)| jobs::sum_sqrt_range(start, end));
    #[cfg(target_arch = "wasm32")]
    r.add("traps", "", |[]: [u8; 0]| jobs::traps());
    r.add("worker_value", "", |[]: [u8; 0]| jobs::worker_value());
    r
});

/// The registered job names, sorted.
pub fn job_names() -> Vec<&'static str> {
    REGISTRY.jobs.iter().map(|&(name, ..)| name).collect()
}

/// A call of job `name` with `args`, labelled `name(args)`. An unknown name or
/// arguments that do not fit fail the job when it runs, with a message saying why.
pub fn call(name: &str, args: Vec<Value>) -> Call<Value> {
    let by_name = ByName { name: name.to_owned(), args };
    let mut call = Call::fallible(call_label(name, &by_name.args), Value::to_string, {
        let by_name = by_name.clone();
        move || run(&by_name.name, by_name.args)
    });
    call.by_name = Some(by_name);
    call
}

/// Runs job `name` with `args` on the calling thread: what a process worker does with
/// each call it is sent.
pub fn run(name: &str, args: Vec<Value>) -> Result<Value, String> {
    let (.., entry) = REGISTRY.jobs.iter().find(|(n, ..)| *n == name).ok_or_else(|| {
        format!("no job is registered as {name:?}; registered jobs: {}", job_names().join(", "))
    })?;
    entry(Value::Array(args))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(call: Call<Value>) -> Result<Value, String> {
        (call.run)()
    }

    #[test]
    fn runs_a_job_by_name_with_json_arguments() {
        let call = call("sum_sqrt", vec![Value::from(5)]);
        assert_eq!(call.label, "sum_sqrt(5)");
        let expected = (0..5).map(|i| (i as f64).sqrt()).sum::<f64>();
        assert_eq!(run(call), Ok(Value::from(expected)));
    }

    #[test]
    fn a_job_without_arguments_takes_an_empty_list_only() {
        assert_eq!(run(call("noop", vec![])), Ok(Value::Null));
        let error = run(call("noop", vec![Value::from(1)])).unwrap_err();
        assert!(error.starts_with("noop takes (), got [1]"), "{error}");
    }

    #[test]
    fn jobs_are_registered_in_name_order() {
        let names = job_names();
        assert!(names.is_sorted(), "{names:?}");
        assert_eq!(names.len(), 11, "and http_get and traps in the browser");
    }

    #[test]
    fn an_unknown_name_lists_the_registered_jobs() {
        let error = run(call("nope", vec![])).unwrap_err();
        assert!(error.starts_with("no job is registered as \"nope\"; registered jobs: blocking_task, blocks, "), "{error}");
    }

    #[test]
    fn wrong_arguments_name_the_job_and_what_it_takes() {
        let error = run(call("blocks", vec![Value::from("x")])).unwrap_err();
        assert!(error.starts_with("blocks takes (n: integer), got [\"x\"]: invalid type"), "{error}");
        let error = run(call("blocks", vec![])).unwrap_err();
        assert!(error.starts_with("blocks takes (n: integer), got []"), "{error}");
        let error = run(call("blocks", vec![Value::from(-1)])).unwrap_err();
        assert!(error.contains("invalid value: integer `-1`"), "{error}");
    }

    #[test]
    fn blocks_refuses_an_n_whose_square_overflows() {
        let error = run(call("blocks_for", vec![Value::from(1u64 << 32), Value::from(0)])).unwrap_err();
        assert_eq!(error, "blocks(4294967296): n² does not fit in 64 bits; n must be at most 4294967295");
        let largest = jobs::MAX_BLOCKS_ARG;
        assert_eq!(run(call("blocks_for", vec![Value::from(largest), Value::from(0)])), Ok(Value::from(largest * largest)));
    }
}
