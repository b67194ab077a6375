//! Small helpers for reading vendor JSON defensively: every accessor returns
//! `None` for a missing or mistyped field, so readers explain what was wrong
//! instead of panicking.

use serde_json::Value;

use super::time::seconds_to_ms;

/// A number or numeric string as f64.
pub fn num(v: Option<&Value>) -> Option<f64> {
    match v? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().trim_end_matches('s').parse().ok(),
        _ => None,
    }
}

/// Seconds (number or `"1.5"` / `"1.5s"`) → ms.
pub fn secs_ms(v: Option<&Value>) -> Option<u64> {
    num(v).and_then(seconds_to_ms)
}

/// Milliseconds (number or numeric string) → ms.
pub fn ms(v: Option<&Value>) -> Option<u64> {
    num(v)
        .filter(|x| x.is_finite() && *x >= 0.0 && *x < 1e15)
        .map(|x| x.round() as u64)
}

/// A label from a string or a number.
pub fn label(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

pub fn arr(v: Option<&Value>) -> Option<&Vec<Value>> {
    v?.as_array()
}

pub fn text(v: Option<&Value>) -> Option<&str> {
    v?.as_str()
}
