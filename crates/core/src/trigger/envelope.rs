//! The EventBridge envelope, read through `aws_lambda_events`' [`EventBridgeEvent`].
//!
//! The three fields that make an object an event (`detail-type`, `source`, `detail`) are
//! checked first, on the parsed JSON, so that an input that is not an event gets an error that
//! names the field. Then the envelope is read as an `EventBridgeEvent`, as every event that
//! EventBridge delivers reads. An event whose other fields are not of the types EventBridge
//! sends (a number `region`, a `time` that chrono refuses: hand-made or hostile input) is read
//! field by field instead, each mistyped field absent. Both readings make the same [`Event`]:
//! the tests below check it on every sample event, and on samples whose fields are changed at
//! random.
//!
//! Of the fields flowguard reads, `time` is the one not taken from `EventBridgeEvent`, which
//! reads it with chrono (and chrono also takes a space for the `T`): flowguard reads the same
//! string with the `time` crate ([`super::parse_rfc3339`]).

use super::InvalidEvent;
use super::record::Record;
use aws_lambda_events::eventbridge::EventBridgeEvent;
use serde::Serialize;
use serde::de::{Deserialize, Deserializer, IgnoredAny};
use serde_json::Value;

/// The parts of an EventBridge event that flowguard reads: the three that make an object an
/// event, and the rest, each absent when it is missing or empty. Each field is read here or in
/// [`Record`], once; nothing else walks the event.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Event<'a> {
    pub(super) detail_type: String,
    pub(super) source: String,
    pub(super) id: Option<String>,
    pub(super) region: Option<String>,
    pub(super) account: Option<String>,
    /// As written, for [`super::parse_rfc3339`].
    pub(super) time: Option<&'a str>,
    pub(super) detail: Record<'a>,
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
        Ok(Self::typed(event, detail)
            .unwrap_or_else(|| Self::lenient(event, detail_type, source, detail)))
    }

    /// The envelope as an `EventBridgeEvent`, when it reads as one.
    fn typed(event: &'a Value, detail: &'a Value) -> Option<Self> {
        let envelope = EventBridgeEvent::<Unread>::deserialize(event).ok()?;
        Some(Self {
            detail_type: envelope.detail_type,
            source: envelope.source,
            id: envelope.id.filter(|s| !s.is_empty()),
            region: envelope.region.filter(|s| !s.is_empty()),
            account: envelope.account.filter(|s| !s.is_empty()),
            time: text(event, "time"),
            detail: Record::read(detail),
        })
    }

    /// The envelope field by field, for an event that does not read as an `EventBridgeEvent`.
    fn lenient(event: &'a Value, detail_type: &str, source: &str, detail: &'a Value) -> Self {
        let owned = |key| text(event, key).map(str::to_owned);
        Self {
            detail_type: detail_type.to_owned(),
            source: source.to_owned(),
            id: owned("id"),
            region: owned("region"),
            account: owned("account"),
            time: text(event, "time"),
            detail: Record::read(detail),
        }
    }
}

/// A part of the event that a typed reading leaves where it is, in the parsed JSON, instead of
/// copying it: the envelope's `detail` (read by [`Record`]), the record's request and response
/// (read by the routing, to a bounded depth). Copying would walk whatever an event nests there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub(super) struct Unread;

impl<'de> Deserialize<'de> for Unread {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // On a `&Value`, serde_json answers this without looking inside.
        deserializer
            .deserialize_ignored_any(IgnoredAny)
            .map(|_| Self)
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

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    /// Every sample event (tests/fixtures/events and its variants), by file name.
    pub(in crate::trigger) fn samples() -> Vec<(String, Value)> {
        let root = format!("{}/../../tests/fixtures/events", env!("CARGO_MANIFEST_DIR"));
        let mut samples = Vec::new();
        for dir in [root.clone(), format!("{root}/variants")] {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.extension().is_some_and(|e| e == "json") {
                    let name = path.file_name().unwrap().to_string_lossy().into_owned();
                    let value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
                    samples.push((name, value));
                }
            }
        }
        samples.sort_by(|a, b| a.0.cmp(&b.0));
        assert!(samples.len() >= 16, "samples not found under {root}");
        samples
    }

    #[test]
    fn every_sample_envelope_reads_as_an_eventbridge_event_and_as_the_lenient_reading_does() {
        for (name, event) in samples() {
            let detail = &event["detail"];
            let typed = Event::typed(&event, detail);
            assert!(typed.is_some(), "{name}: not an EventBridgeEvent");
            let detail_type = event["detail-type"].as_str().unwrap();
            let source = event["source"].as_str().unwrap();
            let lenient = Event::lenient(&event, detail_type, source, detail);
            assert_eq!(typed, Some(lenient), "{name}");
        }
    }

    #[test]
    fn an_envelope_with_a_field_of_another_type_is_read_field_by_field() {
        let detail = json!({});
        let mut event = json!({
            "detail-type": "Scheduled Event", "source": "aws.events", "detail": detail,
            "id": "e-1", "region": 1, "account": "123456789012", "time": "yesterday",
        });
        assert_eq!(Event::typed(&event, &detail), None);
        let read = Event::read(&event).unwrap();
        assert_eq!(
            (read.id.as_deref(), read.region, read.account.as_deref()),
            (Some("e-1"), None, Some("123456789012"))
        );
        assert_eq!(read.time, Some("yesterday"));
        // Empty strings are absent on both readings.
        event["region"] = json!("");
        event["time"] = json!("2024-10-08T09:08:34Z");
        let typed = Event::typed(&event, &detail).unwrap();
        assert_eq!(typed.region, None);
        assert_eq!(typed, Event::read(&event).unwrap());
    }

    /// What a field of a sample event may become: unchanged (`None`), absent (`Some(None)`), or
    /// a JSON value of the type that EventBridge sends or of another.
    fn field() -> impl Strategy<Value = Option<Option<Value>>> {
        let value = proptest::option::weighted(
            0.9,
            prop_oneof![
                4 => "[ -~]{0,12}".prop_map(Value::from),
                2 => Just(json!("2024-10-08T09:08:34Z")),
                1 => Just(json!("2024-10-08 09:08:34Z")),
                1 => Just(json!("2026-02-31T00:00:00Z")),
                1 => Just(json!("")),
                1 => Just(Value::Null),
                1 => any::<i64>().prop_map(Value::from),
                1 => Just(json!(["x"])),
                1 => Just(json!({ "x": 1 })),
            ],
        );
        proptest::option::of(value)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// The typed readings never change what is read: whatever the fields hold, the event
        /// reads as the lenient readings alone read it.
        #[test]
        fn the_typed_readings_agree_with_the_lenient_ones(
            envelope in proptest::collection::vec(field(), 5),
            record in proptest::collection::vec(field(), 4),
        ) {
            let samples = samples();
            let mut event = samples.iter().find(|(name, _)| name == "create_vpc.json").unwrap().1.clone();
            for (key, value) in ["id", "region", "account", "time", "resources"].iter().zip(envelope) {
                set(&mut event, key, value);
            }
            let detail = &mut event["detail"];
            for (key, value) in ["eventName", "eventID", "awsRegion", "eventVersion"].iter().zip(record) {
                set(detail, key, value);
            }
            let detail = &event["detail"];
            prop_assert_eq!(Record::read(detail), Record::lenient(detail));
            let lenient = Event::lenient(&event, "AWS API Call via CloudTrail", "aws.ec2", detail);
            prop_assert_eq!(Event::read(&event).unwrap(), lenient);
        }
    }

    fn set(object: &mut Value, key: &str, value: Option<Option<Value>>) {
        let Value::Object(map) = object else { return };
        match value {
            None => None,
            Some(Some(value)) => map.insert(key.to_owned(), value),
            Some(None) => map.remove(key),
        };
    }

    #[test]
    fn the_detail_is_not_copied_by_the_typed_reading() {
        // `Unread` takes any detail without looking inside it.
        let event = json!({ "detail-type": "x", "source": "y", "detail": [[[[1]]]] });
        let envelope = EventBridgeEvent::<Unread>::deserialize(&event).unwrap();
        assert_eq!(envelope.detail, Unread);
    }
}
