//! The EventBridge envelope: the three fields that make an object an event, checked strictly,
//! and the rest read leniently. Each field is read here or in [`super::record`], once; nothing
//! else walks the event.

use super::InvalidEvent;
use super::record::Record;
use serde_json::Value;

/// The parts of an EventBridge event that flowguard reads, from the parsed JSON: the three
/// that make an object an event (checked strictly), and the rest read leniently (a field that
/// is missing, empty or of another type is absent).
pub(super) struct Event<'a> {
    pub(super) detail_type: &'a str,
    pub(super) source: &'a str,
    pub(super) detail: Record<'a>,
    pub(super) id: Option<&'a str>,
    pub(super) region: Option<&'a str>,
    pub(super) account: Option<&'a str>,
    pub(super) time: Option<&'a str>,
}

impl<'a> Event<'a> {
    pub(super) fn read(event: &'a Value) -> Result<Self, InvalidEvent> {
        let Some(envelope) = event.as_object() else {
            return Err(InvalidEvent::NotAnObject(json_type(event)));
        };
        let detail_type = required(envelope, "detail-type", "a string", Value::as_str)?;
        let source = required(envelope, "source", "a string", Value::as_str)?;
        let detail = required(envelope, "detail", "an object", |v| {
            v.is_object().then_some(v)
        })?;
        Ok(Self {
            detail_type,
            source,
            detail: Record::read(detail),
            id: text(event, "id"),
            region: text(event, "region"),
            account: text(event, "account"),
            time: text(event, "time"),
        })
    }
}

/// A non-empty string at `key`, or nothing.
pub(super) fn text<'a>(object: &'a Value, key: &str) -> Option<&'a str> {
    object.get(key)?.as_str().filter(|s| !s.is_empty())
}

/// One of the fields that make an object an event: present, and of the right JSON type.
fn required<'a, T: ?Sized>(
    envelope: &'a serde_json::Map<String, Value>,
    key: &str,
    what: &str,
    read: impl Fn(&'a Value) -> Option<&'a T>,
) -> Result<&'a T, InvalidEvent> {
    let value = envelope
        .get(key)
        .ok_or_else(|| InvalidEvent::NotAnEvent(format!("no \"{key}\"")))?;
    read(value).ok_or_else(|| {
        InvalidEvent::NotAnEvent(format!("\"{key}\" is {}, not {what}", a_json_type(value)))
    })
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// The JSON type with its article, for messages: "an array", "a number", "null".
fn a_json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
