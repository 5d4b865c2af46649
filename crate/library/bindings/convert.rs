//! Values between JavaScript and Rust, checked before they reach Rust; errors that
//! carry Python's class names.

use std::time::Duration;

use js_sys::Reflect;
use serde::Serialize;
use serde_json::Value;
use wasm_bindgen::prelude::*;

use crate::ExecutorError;
use crate::executors::error::MAX_WORKERS;
use crate::executors::job::{MAX_ARGUMENTS_JSON, PythonException};
use crate::platform;

pub fn to_js(value: &impl Serialize) -> JsValue {
    parse_json(serde_json::to_string(value).ok())
}

/// A job's JSON result as JavaScript: a null, a boolean, a number or a string directly,
/// anything else through `JSON.parse`. Most results are scalars, and text through
/// JSON costs a copy out of the shared memory, a decode and a parse per job.
pub fn value_to_js(value: &Value) -> JsValue {
    match value {
        Value::Null => JsValue::NULL,
        Value::Bool(b) => JsValue::from_bool(*b),
        Value::Number(n) => n.as_f64().map_or_else(|| to_js(value), JsValue::from_f64),
        Value::String(s) => JsValue::from_str(s),
        Value::Array(_) | Value::Object(_) => to_js(value),
    }
}

pub fn parse_json(json: Option<String>) -> JsValue {
    json.and_then(|json| js_sys::JSON::parse(&json).ok()).unwrap_or(JsValue::NULL)
}

/// The arguments of one call as JSON values, each measured before it is copied into the
/// wasm: together they may take at most [`MAX_ARGUMENTS_JSON`] characters.
pub fn args_from_js(args: impl IntoIterator<Item = JsValue>, what: &str) -> Result<Vec<Value>, JsValue> {
    let mut left = MAX_ARGUMENTS_JSON;
    args.into_iter()
        .map(|value| {
            if let Some(scalar) = scalar_from_js(&value) {
                return Ok(scalar);
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

/// `undefined`, `null`, a boolean or a number as the JSON value `JSON.stringify` would
/// give (a number whole and in range is an integer, as the JSON reader makes it), with
/// no text between: a map's items are mostly such. `None` for anything else.
fn scalar_from_js(value: &JsValue) -> Option<Value> {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if value.is_undefined() || value.is_null() {
        return Some(Value::Null);
    }
    if let Some(b) = value.as_bool() {
        return Some(Value::Bool(b));
    }
    let n = value.as_f64()?;
    Some(match n {
        _ if !n.is_finite() => Value::Null,
        _ if n.fract() != 0.0 => Value::from(n),
        _ if (0.0..2.0 * TWO_63).contains(&n) => Value::from(n as u64),
        _ if (-TWO_63..0.0).contains(&n) => Value::from(n as i64),
        _ => Value::from(n),
    })
}

/// A JavaScript `Error` whose `name` is the Python exception's class name, so that
/// `catch (e) { if (e.name === 'TimeoutError') … }` works as `except TimeoutError`.
pub fn py_error(name: &str, message: &str) -> JsValue {
    let js = js_sys::Error::new(message);
    js.set_name(name);
    js.into()
}

/// Any of the library's errors, as the JavaScript error that Python's class names.
pub fn python_error(error: &impl PythonException) -> JsValue {
    py_error(error.python_name(), &error.to_string())
}

/// A string argument, checked before it reaches Rust: wasm-bindgen's copy of a `&str`
/// reads any other value as a string's bytes and traps the module.
pub fn text_arg(value: &JsValue, owner: &str, param: &str) -> Result<String, JsValue> {
    value.as_string().ok_or_else(|| type_error(format!("{owner}: {param} must be a string (got {})", Options::shown(value))))
}

/// A wrong type of value (Python's `TypeError`).
pub fn type_error(message: String) -> JsValue {
    js_sys::TypeError::new(&message).into()
}

/// A value of the right type out of range (Python's `ValueError`).
pub fn value_error(message: String) -> JsValue {
    py_error("ValueError", &message)
}

/// An options object: only the named keys, each checked by its reader. Messages
/// begin with the owner (`ThreadPoolExecutor: …`) unless it is empty, and name each
/// key as `names` says, for a caller whose user wrote other names (a widget's
/// attributes: `block-ms` for `blockMs`).
pub struct Options<'a> {
    value: JsValue,
    pub owner: &'a str,
    names: JsValue,
}

impl<'a> Options<'a> {
    pub fn read(value: &JsValue, owner: &'a str, known: &[&str]) -> Result<Self, JsValue> {
        if value.is_undefined() || value.is_null() {
            return Ok(Self { value: js_sys::Object::new().into(), owner, names: JsValue::UNDEFINED });
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
        Ok(Self { value: value.clone(), owner, names: JsValue::UNDEFINED })
    }

    /// These options, their keys named in messages as `names` (an object of key to
    /// name) says; a key it does not name keeps its own.
    pub fn named(self, names: JsValue) -> Self {
        Self { names, ..self }
    }

    /// `key` as messages name it.
    pub fn name(&self, key: &str) -> String {
        Reflect::get(&self.names, &key.into()).ok().and_then(|n| n.as_string()).unwrap_or_else(|| key.to_owned())
    }

    /// What a message begins with: `owner: `, or nothing.
    pub fn at(&self) -> String {
        if self.owner.is_empty() { String::new() } else { format!("{}: ", self.owner) }
    }

    pub fn get(&self, key: &str) -> Option<JsValue> {
        Reflect::get(&self.value, &key.into()).ok().filter(|v| !v.is_undefined())
    }

    pub fn shown(value: &JsValue) -> String {
        // JSON shows NaN and Infinity as null: show numbers as JavaScript writes them.
        if value.as_f64().is_some() {
            return value.unchecked_ref::<js_sys::Number>().to_string_with_radix(10).map(String::from).unwrap_or_default();
        }
        js_sys::JSON::stringify(value).ok().and_then(|s| s.as_string()).unwrap_or_else(|| platform::kind_of(value))
    }

    /// A whole number ≥ 1 (and exact: at most 2^53); `rule` is the message for numbers
    /// below 1. Upper limits are the caller's, which know the rule.
    pub fn count(&self, key: &str, rule: &str) -> Result<Option<u64>, JsValue> {
        const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53
        let Some(value) = self.get(key) else { return Ok(None) };
        match value.as_f64() {
            Some(n) if n.fract() == 0.0 && (1.0..=EXACT).contains(&n) => Ok(Some(n as u64)),
            Some(n) if n.fract() == 0.0 && n < 1.0 => Err(value_error(format!("{}{rule} (got {}: {n})", self.at(), self.name(key)))),
            _ => Err(type_error(format!(
                "{}{} must be a whole number greater than 0 (got {})",
                self.at(),
                self.name(key),
                Self::shown(&value)
            ))),
        }
    }

    /// `maxWorkers`, within what a pool allows ([`MAX_WORKERS`]).
    pub fn max_workers(&self) -> Result<Option<usize>, JsValue> {
        match self.count("maxWorkers", "max_workers must be greater than 0")? {
            Some(n) if n > MAX_WORKERS as u64 => {
                let error = ExecutorError::TooManyWorkers(n);
                Err(py_error(error.python_name(), &format!("{}{error}", self.at())))
            }
            n => Ok(n.map(|n| n as usize)),
        }
    }

    /// A whole number ≥ 0.
    pub fn amount(&self, key: &str) -> Result<Option<u64>, JsValue> {
        let Some(value) = self.get(key) else { return Ok(None) };
        match value.as_f64() {
            Some(n) if n.fract() == 0.0 && (0.0..=u32::MAX as f64).contains(&n) => Ok(Some(n as u64)),
            _ => {
                Err(type_error(format!("{}{} must be a whole number, 0 or more (got {})", self.at(), self.name(key), Self::shown(&value))))
            }
        }
    }

    pub fn string(&self, key: &str) -> Result<Option<String>, JsValue> {
        let Some(value) = self.get(key) else { return Ok(None) };
        match value.as_string() {
            Some(s) if !s.is_empty() => Ok(Some(s)),
            _ => Err(type_error(format!("{}{} must be a non-empty string (got {})", self.at(), self.name(key), Self::shown(&value)))),
        }
    }

    pub fn flag(&self, key: &str, default: bool) -> Result<bool, JsValue> {
        let Some(value) = self.get(key) else { return Ok(default) };
        value
            .as_bool()
            .ok_or_else(|| type_error(format!("{}{} must be true or false (got {})", self.at(), self.name(key), Self::shown(&value))))
    }

    /// Seconds, as Python's `timeout`: a number ≥ 0, or absent (or null) for no limit.
    /// A timeout beyond what the platform's timers count (24.8 days) never fires.
    pub fn seconds(&self, key: &str) -> Result<Option<Duration>, JsValue> {
        const NEVER_S: f64 = 2_147_483.647;
        let Some(value) = self.get(key) else { return Ok(None) };
        if value.is_null() {
            return Ok(None);
        }
        let message = || format!("{}{} must be a number of seconds, 0 or more (got {})", self.at(), self.name(key), Self::shown(&value));
        match value.as_f64() {
            Some(s) if s >= NEVER_S => Ok(None),
            Some(s) if s >= 0.0 => Ok(Some(Duration::from_secs_f64(s))),
            Some(_) => Err(value_error(message())),
            None => Err(type_error(message())),
        }
    }

    /// The `timeout` option alone, of a call that takes only it.
    pub fn timeout_of(value: &JsValue, owner: &str) -> Result<Option<Duration>, JsValue> {
        Options::read(value, owner, &["timeout"])?.seconds("timeout")
    }
}
