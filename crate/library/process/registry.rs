//! Jobs by name, with JSON arguments and results: how JavaScript submits work, and how
//! work crosses to a worker that shares no memory (as Python pickles a function by
//! name, and the worker imports the same module to find it).
//!
//! A program fills a [`Registry`] with its jobs and [`install`]s it when its wasm
//! starts: in the page and in every process worker, since each process worker is an
//! instance of the same wasm. The library itself registers nothing.

use std::sync::{Arc, OnceLock};

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::executors::job::{Call, call_label};
use crate::process::protocol::ByName;

type Entry = Box<dyn Fn(Value) -> Result<Value, String> + Send + Sync>;

/// A program's jobs by name: `registry.add("blocks", "n: integer", |(n,): (u64,)| blocks(n))`.
#[derive(Default)]
pub struct Registry {
    /// Name, parameters, function. (A program has a few jobs: a list, not a map.)
    jobs: Vec<(&'static str, &'static str, Entry)>,
}

impl Registry {
    pub fn new() -> Registry {
        Registry::default()
    }

    /// Registers `f` as `name`; its arguments arrive as a JSON array read into `A` (a
    /// tuple, or `[u8; 0]` for none); `params` is how error messages show them.
    pub fn add<A: DeserializeOwned + 'static, R: Serialize + 'static>(
        &mut self,
        name: &'static str,
        params: &'static str,
        f: fn(A) -> R,
    ) -> &mut Registry {
        self.add_fallible(name, params, move |args: A| Ok(f(args)))
    }

    /// Registers `f`, whose `Err(message)` fails the job.
    pub fn add_fallible<A: DeserializeOwned + 'static, R: Serialize + 'static>(
        &mut self,
        name: &'static str,
        params: &'static str,
        f: impl Fn(A) -> Result<R, String> + Send + Sync + 'static,
    ) -> &mut Registry {
        let entry: Entry = Box::new(move |args: Value| {
            let parsed: A = serde_json::from_value(args.clone()).map_err(|e| format!("{name} takes ({params}), got {args}: {e}"))?;
            serde_json::to_value(f(parsed)?).map_err(|e| format!("{name} gave a result JSON cannot hold: {e}"))
        });
        self.jobs.push((name, params, entry));
        self
    }

    /// The registered names, in the order they were added.
    pub fn names(&self) -> Vec<&'static str> {
        self.jobs.iter().map(|&(name, ..)| name).collect()
    }

    /// Runs job `name` with `args` on the calling thread: what a process worker does
    /// with each call it is sent.
    pub fn run(&self, name: &str, args: Vec<Value>) -> Result<Value, String> {
        let (.., entry) = self.jobs.iter().find(|(n, ..)| *n == name).ok_or_else(|| {
            let names = self.names();
            let known = if names.is_empty() { "none (install a Registry when the program starts)".to_owned() } else { names.join(", ") };
            format!("no job is registered as {name:?}; registered jobs: {known}")
        })?;
        entry(Value::Array(args))
    }
}

static INSTALLED: OnceLock<Arc<Registry>> = OnceLock::new();

/// Makes `registry` the program's jobs. Call it when the wasm starts (each process
/// worker's instance starts the same way). False, and `registry` dropped, if one was
/// installed already.
pub fn install(registry: Registry) -> bool {
    INSTALLED.set(Arc::new(registry)).is_ok()
}

/// The installed registry; an empty one until a program installs its own.
pub fn installed() -> Arc<Registry> {
    INSTALLED.get().cloned().unwrap_or_default()
}

/// A call of job `name` with `args`, labelled `name(args)`, that runs by the installed
/// registry. An unknown name or arguments that do not fit fail the job when it runs,
/// with a message saying why.
pub fn call(name: &str, args: Vec<Value>) -> Call<Value> {
    let by_name = ByName { name: name.to_owned(), args };
    let mut call = Call::fallible(call_label(name, &by_name.args), Value::to_string, {
        let by_name = by_name.clone();
        move || installed().run(&by_name.name, by_name.args)
    });
    call.by_name = Some(by_name);
    call
}

/// The jobs the library's own tests run: `square(n)`, `noop()`.
#[cfg(test)]
pub(crate) fn install_test_jobs() {
    let mut registry = Registry::new();
    registry.add("noop", "", |[]: [u8; 0]| ()).add("square", "n: integer", |(n,): (u64,)| n * n).add(
        "sleep_ms",
        "ms: integer",
        |(ms,): (u64,)| std::thread::sleep(std::time::Duration::from_millis(ms)),
    );
    install(registry);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jobs() -> Registry {
        let mut registry = Registry::new();
        registry
            .add("noop", "", |[]: [u8; 0]| ())
            .add("sum_sqrt", "n: integer", |(n,): (u64,)| (0..n).map(|i| (i as f64).sqrt()).sum::<f64>())
            .add_fallible("half", "n: integer", |(n,): (u64,)| if n % 2 == 0 { Ok(n / 2) } else { Err(format!("{n} is odd")) });
        registry
    }

    #[test]
    fn runs_a_job_by_name_with_json_arguments() {
        let expected = (0..5).map(|i| (i as f64).sqrt()).sum::<f64>();
        assert_eq!(jobs().run("sum_sqrt", vec![Value::from(5)]), Ok(Value::from(expected)));
        assert_eq!(jobs().run("half", vec![Value::from(6)]), Ok(Value::from(3)));
        assert_eq!(jobs().run("half", vec![Value::from(7)]), Err("7 is odd".into()));
    }

    #[test]
    fn a_call_by_name_is_labelled_as_python_shows_it() {
        let call = call("sum_sqrt", vec![Value::from(5), Value::from("x")]);
        assert_eq!(call.label, "sum_sqrt(5, \"x\")");
        assert_eq!(call.by_name().map(|b| b.name.as_str()), Some("sum_sqrt"));
    }

    #[test]
    fn a_job_without_arguments_takes_an_empty_list_only() {
        assert_eq!(jobs().run("noop", vec![]), Ok(Value::Null));
        let error = jobs().run("noop", vec![Value::from(1)]).unwrap_err();
        assert!(error.starts_with("noop takes (), got [1]"), "{error}");
    }

    #[test]
    fn an_unknown_name_lists_the_registered_jobs() {
        let error = jobs().run("nope", vec![]).unwrap_err();
        assert_eq!(error, "no job is registered as \"nope\"; registered jobs: noop, sum_sqrt, half");
        let error = Registry::new().run("nope", vec![]).unwrap_err();
        assert!(error.ends_with("registered jobs: none (install a Registry when the program starts)"), "{error}");
    }

    #[test]
    fn wrong_arguments_name_the_job_and_what_it_takes() {
        let error = jobs().run("half", vec![Value::from("x")]).unwrap_err();
        assert!(error.starts_with("half takes (n: integer), got [\"x\"]: invalid type"), "{error}");
        let error = jobs().run("half", vec![]).unwrap_err();
        assert!(error.starts_with("half takes (n: integer), got []"), "{error}");
        let error = jobs().run("half", vec![Value::from(-1)]).unwrap_err();
        assert!(error.contains("invalid value: integer `-1`"), "{error}");
    }
}
