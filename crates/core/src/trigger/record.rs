//! The CloudTrail record in an event's `detail`, read through `aws_lambda_events`'
//! [`AWSAPICall`] where the record allows it, and the readings of its request and response
//! that the routing asks for.
//!
//! `AWSAPICall` requires fields that some real records lack or hold in another shape (a
//! `userIdentity` whose `sessionContext` has an empty `sessionIssuer` and no `attributes`, as
//! in `tests/fixtures/events/variants/create_vpc_detail_region.json`); such a record, and any
//! record of a hand-made or hostile event, is read leniently instead: a field that is missing,
//! empty or of another type is absent. Both readings make the same [`Record`] (the tests below
//! check it on every sample event). What `AWSAPICall` has no field for (`errorCode`,
//! `recipientAccountId`) or would copy whole (`requestParameters`, `responseElements`) is read
//! from the parsed JSON in either case, the request and the response to a bounded depth.

use super::envelope::{Unread, text};
use crate::ids::{FlowLogId, VpcId};
use aws_lambda_events::cloudwatch_events::cloudtrail::AWSAPICall;
use serde::Deserialize;
use serde_json::Value;

/// A CloudTrail record as `aws_lambda_events` defines it, its request and response left in the
/// JSON.
type ApiCall = AWSAPICall<Unread, Unread>;

/// `AWSAPICall` copies `additionalEventData` whole: a record whose `additionalEventData` nests
/// deeper than this is read leniently instead. Real ones nest one or two levels; JSON text
/// that serde_json reads nests 128 at most, but `trigger_from_value` may be given any `Value`.
const MAX_COPIED_DEPTH: usize = 32;

/// The CloudTrail record in `detail` (empty for events that are not CloudTrail records).
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Record<'a> {
    pub(super) event_name: Option<String>,
    pub(super) event_id: Option<String>,
    pub(super) aws_region: Option<String>,
    pub(super) recipient_account_id: Option<&'a str>,
    error_code: Option<&'a Value>,
    response_elements: Option<&'a Value>,
    request_parameters: Option<&'a Value>,
}

impl<'a> Record<'a> {
    pub(super) fn read(detail: &'a Value) -> Self {
        Self::typed(detail).unwrap_or_else(|| Self::lenient(detail))
    }

    /// The record as an `AWSAPICall`, when it reads as one.
    fn typed(detail: &'a Value) -> Option<Self> {
        let extra = detail.get("additionalEventData");
        if extra.is_some_and(|extra| nests_deeper_than(extra, MAX_COPIED_DEPTH)) {
            return None;
        }
        let call = ApiCall::deserialize(detail).ok()?;
        let name = |s: String| (!s.is_empty()).then_some(s);
        Some(Self::with_names(
            detail,
            name(call.event_name),
            name(call.event_id),
            name(call.aws_region),
        ))
    }

    /// The record field by field, for one that does not read as an `AWSAPICall`.
    pub(super) fn lenient(detail: &'a Value) -> Self {
        let name = |key| text(detail, key).map(str::to_owned);
        Self::with_names(
            detail,
            name("eventName"),
            name("eventID"),
            name("awsRegion"),
        )
    }

    /// The names given, and from the JSON what `AWSAPICall` has no field for or would copy.
    fn with_names(
        detail: &'a Value,
        event_name: Option<String>,
        event_id: Option<String>,
        aws_region: Option<String>,
    ) -> Self {
        Self {
            event_name,
            event_id,
            aws_region,
            recipient_account_id: text(detail, "recipientAccountId"),
            error_code: detail.get("errorCode"),
            response_elements: detail.get("responseElements"),
            request_parameters: detail.get("requestParameters"),
        }
    }

    /// The error code of a failed call; `None` when the call succeeded (no code, null, "").
    pub(super) fn failure(&self) -> Option<String> {
        match self.error_code? {
            Value::Null => None,
            Value::String(code) if code.is_empty() => None,
            Value::String(code) => Some(code.chars().take(100).collect()),
            other => Some(other.to_string().chars().take(100).collect()),
        }
    }

    /// `responseElements.vpc.vpcId` of a `CreateVpc` record.
    pub(super) fn created_vpc_id(&self) -> Option<&'a str> {
        text(self.response_elements?.get("vpc")?, "vpcId")
    }

    /// The `vpcId` anywhere in the response of a `CreateDefaultVpc` record.
    pub(super) fn created_default_vpc_id(&self) -> Option<String> {
        find_vpc_id(self.response_elements?, 6)
    }

    /// `requestParameters.logGroupName` of a CloudWatch Logs record.
    pub(super) fn log_group_name(&self) -> Option<&'a str> {
        text(self.request_parameters?, "logGroupName")
    }

    /// The flow-log ids of a `DeleteFlowLogs` record: `{"content": "fl-…"}`, a list of those,
    /// or plain strings, under `DeleteFlowLogsRequest.FlowLogId` or `flowLogIds`.
    pub(super) fn deleted_flow_log_ids(&self) -> Vec<String> {
        let params = self.request_parameters;
        let raw = params
            .and_then(|p| p.get("DeleteFlowLogsRequest"))
            .and_then(|r| r.get("FlowLogId"))
            .or_else(|| {
                params
                    .and_then(|p| p.get("flowLogIds"))
                    .and_then(|f| f.get("item").or(Some(f)))
            });
        let one = |v: &Value| -> Option<String> {
            let id = v
                .as_str()
                .or_else(|| v.get("content").and_then(Value::as_str))
                .or_else(|| v.get("flowLogId").and_then(Value::as_str))?;
            FlowLogId::is_well_formed(id).then(|| id.to_owned())
        };
        match raw {
            Some(Value::Array(items)) => items.iter().filter_map(one).collect(),
            Some(value) => one(value).into_iter().collect(),
            None => Vec::new(),
        }
    }
}

/// Looks for a `vpcId` string anywhere under `value`, to a bounded depth.
fn find_vpc_id(value: &Value, depth: u8) -> Option<String> {
    match value {
        Value::Object(map) => {
            if let Some(id) = map
                .get("vpcId")
                .and_then(Value::as_str)
                .filter(|id| VpcId::is_well_formed(id))
            {
                return Some(id.to_owned());
            }
            if depth == 0 {
                return None;
            }
            map.values().find_map(|v| find_vpc_id(v, depth - 1))
        }
        Value::Array(items) if depth > 0 => items.iter().find_map(|v| find_vpc_id(v, depth - 1)),
        _ => None,
    }
}

/// Whether `value` holds more than `limit` levels of arrays and objects: found without
/// recursion, and without looking further down than `limit` levels.
fn nests_deeper_than(value: &Value, limit: usize) -> bool {
    // Each array or object still to look at, with the number of levels above it.
    let mut stack = vec![(value, 0)];
    while let Some((value, above)) = stack.pop() {
        match value {
            Value::Array(_) | Value::Object(_) if above >= limit => return true,
            Value::Array(items) => stack.extend(items.iter().map(|v| (v, above + 1))),
            Value::Object(map) => stack.extend(map.values().map(|v| (v, above + 1))),
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::super::envelope::tests::samples;
    use super::*;
    use serde_json::json;

    #[test]
    fn sample_records_read_as_an_awsapicall_where_they_allow_it_and_as_the_lenient_reading_does() {
        // The one sample record that AWSAPICall refuses: its sessionContext has an empty
        // sessionIssuer and no attributes. A scheduled event's detail is no record at all.
        let not_api_calls = ["create_vpc_detail_region.json", "scheduled_event.json"];
        for (name, event) in samples() {
            let detail = &event["detail"];
            let typed = Record::typed(detail);
            assert_eq!(
                typed.is_none(),
                not_api_calls.contains(&name.as_str()),
                "{name}"
            );
            if let Some(typed) = typed {
                assert_eq!(typed, Record::lenient(detail), "{name}");
            }
        }
    }

    #[test]
    fn deeply_nested_additional_event_data_is_not_copied() {
        let mut detail = samples()
            .into_iter()
            .find(|(name, _)| name == "create_vpc.json")
            .unwrap()
            .1["detail"]
            .clone();
        detail["additionalEventData"] = json!({ "a": [1, { "b": 2 }] });
        assert!(Record::typed(&detail).is_some());
        let mut deep = json!(1);
        for _ in 0..=MAX_COPIED_DEPTH {
            deep = json!([deep]);
        }
        detail["additionalEventData"] = deep;
        assert!(Record::typed(&detail).is_none());
        assert_eq!(
            Record::read(&detail).event_name.as_deref(),
            Some("CreateVpc")
        );
    }

    #[test]
    fn nesting_is_counted_in_levels_of_arrays_and_objects() {
        assert!(!nests_deeper_than(&json!("x"), 0));
        assert!(nests_deeper_than(&json!([]), 0));
        assert!(!nests_deeper_than(&json!([]), 1));
        assert!(!nests_deeper_than(&json!({ "a": [1], "b": { "c": 2 } }), 2));
        assert!(nests_deeper_than(&json!({ "a": [1], "b": { "c": [] } }), 2));
    }
}
