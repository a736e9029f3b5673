//! Hostile and malformed input for the event parser: regression tests of
//! `flowguard_core::trigger::{parse_event, trigger_from_value}`.
//!
//! The event is a hint, never trusted (docs/security.md): whatever the bytes, parsing ends in
//! either a permanent `InvalidEvent` that names the problem, or a trigger that says where to
//! look, and never panics, overflows the stack or hangs. Every case states its exact outcome.
//! The fuzz target `fuzz/fuzz_targets/parse_event.rs` (`./scripts/fuzz`) explores the same
//! function with coverage guidance; a crash it finds belongs here as a new case.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common::event;
use flowguard_core::trigger::{
    InvalidEvent, MAX_EVENT_BYTES, Target, Trigger, parse_event, trigger_from_value,
};
use flowguard_core::{LogGroupName, VpcId};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

const CLOUDTRAIL: &str = "AWS API Call via CloudTrail";

/// A CloudTrail event of `source` for `eventName` = `name`, with extra detail fields.
fn cloudtrail(source: &str, name: &str, extra: Value) -> Value {
    let mut detail = json!({
        "eventName": name,
        "eventSource": format!("{}.amazonaws.com", source.trim_start_matches("aws.")),
        "awsRegion": "us-east-1",
        "eventID": "9be08716-256d-4286-9378-8137d661109b",
    });
    if let (Value::Object(detail), Value::Object(extra)) = (&mut detail, extra) {
        detail.extend(extra);
    }
    event(source, CLOUDTRAIL, detail)
}

fn create_vpc(response_elements: Value) -> Value {
    cloudtrail(
        "aws.ec2",
        "CreateVpc",
        json!({ "responseElements": response_elements }),
    )
}

fn create_vpc_with_id(id: &str) -> Value {
    create_vpc(json!({ "vpc": { "vpcId": id, "state": "pending" } }))
}

/// One FlowLogId entry as CloudTrail records it: the id as `content`, and a `tag`.
fn id_entry(id: &str, tag: u32) -> Value {
    json!({ "content": id, "tag": tag })
}

fn delete_flow_logs(flow_log_id: Value) -> Value {
    cloudtrail(
        "aws.ec2",
        "DeleteFlowLogs",
        json!({
            "requestParameters": { "DeleteFlowLogsRequest": { "FlowLogId": flow_log_id } },
            "responseElements": { "DeleteFlowLogsResponse": { "unsuccessful": "" } },
        }),
    )
}

/// Parses the bytes of `value` and checks that the Lambda's path (`trigger_from_value`, on
/// JSON already parsed by the runtime) decides the same way.
fn parse(value: &Value) -> Result<Trigger, InvalidEvent> {
    let result = parse_event(&serde_json::to_vec(value).unwrap());
    assert_eq!(trigger_from_value(value), result, "the two paths disagree");
    result
}

#[track_caller]
fn assert_invalid(result: Result<Trigger, InvalidEvent>, expected: &InvalidEvent, names: &str) {
    match result {
        Err(error) => {
            assert_eq!(&error, expected);
            let message = error.to_string();
            assert!(
                message.contains(names),
                "{message:?} does not name {names:?}"
            );
        }
        Ok(trigger) => panic!("expected {expected:?}, got {trigger:?}"),
    }
}

#[track_caller]
fn assert_not_json(input: &[u8], names: &str) {
    match parse_event(input) {
        Err(InvalidEvent::NotJson(message)) => {
            assert!(
                message.contains(names),
                "{message:?} does not name {names:?}"
            );
            assert!(
                InvalidEvent::NotJson(message.clone())
                    .to_string()
                    .starts_with("the input is not JSON: "),
            );
        }
        other => panic!("expected NotJson naming {names:?}, got {other:?}"),
    }
}

#[track_caller]
fn assert_trigger(result: Result<Trigger, InvalidEvent>, target: &Target, reason: &str) -> Trigger {
    let trigger = result.unwrap_or_else(|e| panic!("expected {target:?}, got the error {e}"));
    assert_eq!(&trigger.target, target, "{trigger:?}");
    assert_eq!(trigger.reason, reason, "{trigger:?}");
    trigger
}

#[track_caller]
fn assert_ignored(result: Result<Trigger, InvalidEvent>, reason: &str) -> Trigger {
    assert_trigger(result, &Target::Ignored, reason)
}

#[track_caller]
fn assert_vpc(result: Result<Trigger, InvalidEvent>, id: &str) -> Trigger {
    assert_trigger(
        result,
        &Target::Vpcs(vec![VpcId::new(id)]),
        &format!("VPC {id} was created"),
    )
}

const CREATE_VPC_SWEEP: &str =
    "CreateVpc without a readable responseElements.vpc.vpcId: sweeping the region";
const FLOW_LOGS_UNREADABLE: &str = "flow logs were deleted (ids unreadable); the event cannot name their VPCs: sweeping the region";

fn flow_logs_named(ids: &str) -> String {
    format!("flow logs {ids} were deleted; the event cannot name their VPCs: sweeping the region")
}

/// Asserts that `value` sweeps, with a reason that names the deleted flow logs `ids`.
#[track_caller]
fn assert_sweep_naming(value: &Value, ids: &str) -> Trigger {
    assert_trigger(parse(value), &Target::Sweep, &flow_logs_named(ids))
}

/// Asserts that `value` sweeps because the ids of the deleted flow logs are unreadable.
#[track_caller]
fn assert_unreadable_ids(value: &Value) -> Trigger {
    assert_trigger(parse(value), &Target::Sweep, FLOW_LOGS_UNREADABLE)
}

/// A scheduled event: the smallest event there is, with an empty detail.
fn scheduled() -> Value {
    event("aws.events", "Scheduled Event", json!({}))
}

/// Asserts that a scheduled event whose envelope `field` is `value` is not an event, for
/// the reason `"{field}" is {kind}, not {expected}`, and that the error names it.
#[track_caller]
fn assert_wrong_type(field: &str, value: Value, kind: &str, expected: &str) {
    let mut event = scheduled();
    event[field] = value;
    let message = format!("\"{field}\" is {kind}, not {expected}");
    assert_invalid(
        parse(&event),
        &InvalidEvent::NotAnEvent(message.clone()),
        &message,
    );
}

/// `open` repeated `levels` times, then `leaf`, then `close` repeated `levels` times.
fn nested(open: &str, leaf: &str, close: &str, levels: usize) -> String {
    format!("{}{leaf}{}", open.repeat(levels), close.repeat(levels))
}

/// A `Value` nested `levels` deep, built without recursion.
fn deep_value(levels: usize, leaf: Value) -> Value {
    (0..levels).fold(leaf, |inner, i| {
        if i % 2 == 0 {
            Value::Array(vec![inner])
        } else {
            Value::Object(Map::from_iter([("a".to_owned(), inner)]))
        }
    })
}

/// Drops a `Value` without recursion: dropping 100 000 levels recursively would overflow the
/// test's stack in serde_json's destructor, not in flowguard.
fn dismantle(value: Value) {
    let mut stack = vec![value];
    while let Some(value) = stack.pop() {
        match value {
            Value::Array(items) => stack.extend(items),
            Value::Object(map) => stack.extend(map.into_iter().map(|(_, v)| v)),
            _ => {}
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Size, nesting and bytes that are not JSON
// ---------------------------------------------------------------------------------------------

#[test]
fn empty_and_whitespace_only_inputs_are_empty() {
    for input in [&b""[..], b" ", b"\n\t\r \x0c"] {
        assert_invalid(parse_event(input), &InvalidEvent::Empty, "empty");
    }
}

#[test]
fn an_input_over_one_mib_is_refused_before_parsing() {
    // Valid JSON, a real event padded with spaces: its size alone refuses it.
    let mut bytes = serde_json::to_vec(&create_vpc_with_id("vpc-1")).unwrap();
    bytes.resize(MAX_EVENT_BYTES + 1, b' ');
    assert_invalid(
        parse_event(&bytes),
        &InvalidEvent::TooLarge(MAX_EVENT_BYTES + 1),
        "more than the 1048576 bytes",
    );
    // Not JSON, and whitespace only: the size check comes first in both cases.
    assert_invalid(
        parse_event(&vec![0xff; 64 * MAX_EVENT_BYTES]),
        &InvalidEvent::TooLarge(64 * MAX_EVENT_BYTES),
        "67108864 bytes",
    );
    assert_invalid(
        parse_event(&vec![b' '; MAX_EVENT_BYTES + 1]),
        &InvalidEvent::TooLarge(MAX_EVENT_BYTES + 1),
        "1048577 bytes",
    );
}

#[test]
fn an_event_of_exactly_one_mib_is_read() {
    let mut bytes = serde_json::to_vec(&create_vpc_with_id("vpc-1")).unwrap();
    bytes.resize(MAX_EVENT_BYTES, b'\n');
    assert_vpc(parse_event(&bytes), "vpc-1");
}

#[test]
fn a_huge_string_value_under_the_limit_is_read_and_not_echoed() {
    // 1 MiB less a little, in one field that flowguard does not read.
    let mut value = create_vpc_with_id("vpc-1");
    value["detail"]["userAgent"] = json!("A".repeat(MAX_EVENT_BYTES - 4096));
    let t = assert_vpc(parse(&value), "vpc-1");
    assert!(t.reason.len() < 100);
}

#[test]
fn many_keys_and_a_huge_array_under_the_limit_are_read() {
    let mut value = create_vpc_with_id("vpc-1");
    let wide: Map<String, Value> = (0..20_000).map(|i| (format!("k{i}"), json!(i))).collect();
    value["detail"]["requestParameters"] = Value::Object(wide);
    value["resources"] = json!(vec![0; 100_000]);
    assert_vpc(parse(&value), "vpc-1");
}

#[test]
fn arrays_nested_100_000_deep_are_not_json_and_do_not_overflow_the_stack() {
    let input = nested("[", "", "]", 100_000);
    assert_not_json(input.as_bytes(), "recursion limit exceeded");
}

#[test]
fn objects_nested_100_000_deep_are_not_json_and_do_not_overflow_the_stack() {
    let input = nested("{\"a\":", "1", "}", 100_000);
    assert_not_json(input.as_bytes(), "recursion limit exceeded");
}

#[test]
fn deep_nesting_inside_a_valid_event_is_not_json() {
    // The envelope is fine; a field flowguard never reads nests 100 000 levels, arrays and
    // objects alternating.
    let deep = nested("[{\"a\":", "0", "}]", 50_000);
    let input = format!(
        r#"{{"detail-type":"{CLOUDTRAIL}","source":"aws.ec2","detail":{{"eventName":"CreateVpc","requestParameters":{deep}}}}}"#
    );
    assert!(input.len() < MAX_EVENT_BYTES);
    assert_not_json(input.as_bytes(), "recursion limit exceeded");
}

#[test]
fn nesting_within_serde_jsons_limit_is_read() {
    // The envelope and detail take 2 of serde_json's 128 levels; 120 more are fine.
    let deep = nested("[", "0", "]", 120);
    let input = format!(
        r#"{{"detail-type":"Scheduled Event","source":"aws.events","detail":{{"x":{deep}}}}}"#
    );
    assert_trigger(
        parse_event(input.as_bytes()),
        &Target::Sweep,
        "scheduled sweep",
    );
    assert_not_json(
        nested("[", "", "]", 129).as_bytes(),
        "recursion limit exceeded",
    );
}

#[test]
fn a_100_000_deep_value_given_to_trigger_from_value_is_not_walked() {
    // The Lambda's runtime parses with serde_json too (same 128-level limit), but
    // trigger_from_value is public: it must read only the paths it needs, to a bounded depth.
    let mut value = cloudtrail(
        "aws.ec2",
        "CreateDefaultVpc",
        json!({ "requestParameters": {}, "responseElements": {} }),
    );
    value["detail"]["requestParameters"] = deep_value(100_000, json!("vpc-0123"));
    value["detail"]["responseElements"] = deep_value(100_000, json!({ "vpcId": "vpc-0123" }));
    let result = trigger_from_value(&value);
    dismantle(value);
    assert_trigger(
        result,
        &Target::Sweep,
        "CreateDefaultVpc without a readable vpcId: sweeping the region",
    );
}

#[test]
fn a_100_000_deep_additional_event_data_given_to_trigger_from_value_is_not_copied() {
    // A record that reads as aws_lambda_events' AWSAPICall would have its additionalEventData
    // copied whole; nested this deep, it is read leniently instead, to the same trigger.
    let mut value = create_vpc_with_id("vpc-1");
    for (key, field) in [
        ("eventVersion", "1.05"),
        ("eventTime", "2019-02-25T15:33:07Z"),
        ("sourceIPAddress", "203.0.113.1"),
        ("userAgent", "aws-cli"),
        ("requestID", "r-1"),
        ("eventType", "AwsApiCall"),
    ] {
        value["detail"][key] = json!(field);
    }
    value["detail"]["userIdentity"] = json!({ "type": "IAMUser" });
    value["detail"]["requestParameters"] = json!({});
    value["detail"]["additionalEventData"] = deep_value(100_000, json!(1));
    let result = trigger_from_value(&value);
    dismantle(value);
    assert_vpc(result, "vpc-1");
}

#[test]
fn invalid_utf8_is_not_json() {
    // In a string value, in a key, and outside any string.
    let in_value =
        b"{\"detail-type\":\"Scheduled Event\",\"source\":\"aws.events\xff\",\"detail\":{}}";
    assert_not_json(in_value, "invalid unicode code point");
    let in_key =
        b"{\"detail-type\":\"Scheduled Event\",\"sou\xc3\x28rce\":\"aws.events\",\"detail\":{}}";
    assert_not_json(in_key, "invalid unicode code point");
    assert_not_json(b"\xfe\xff{}", "expected value at line 1 column 1");
    // Lone surrogates, escaped: valid JSON syntax, not Unicode scalar values.
    let lone = |escape: &str| {
        format!(
            r#"{{"detail-type":"Scheduled Event","source":"aws.events{escape}","detail":{{}}}}"#
        )
    };
    assert_not_json(lone(r"\ud800").as_bytes(), "unexpected end of hex escape");
    assert_not_json(lone(r"\ud800\u0041").as_bytes(), "lone leading surrogate");
    assert_not_json(lone(r"\udc00").as_bytes(), "lone leading surrogate");
}

#[test]
fn a_utf8_byte_order_mark_is_not_json() {
    // RFC 8259 lets a parser refuse the BOM; EventBridge never sends one. A file saved with a
    // BOM (`flowguard handle-event`) is refused as not JSON, at its first byte.
    let mut input = b"\xef\xbb\xbf".to_vec();
    input.extend(serde_json::to_vec(&scheduled()).unwrap());
    assert_not_json(&input, "expected value at line 1 column 1");
}

#[test]
fn nul_bytes_are_not_json() {
    let valid = serde_json::to_vec(&scheduled()).unwrap();
    let mut before = b"\0".to_vec();
    before.extend(&valid);
    assert_not_json(&before, "expected value at line 1 column 1");
    let mut after = valid.clone();
    after.push(0);
    assert_not_json(&after, "trailing characters");
    // A raw NUL inside a string is a control character, which JSON forbids.
    let inside = b"{\"detail-type\":\"Scheduled Event\",\"source\":\"aws.events\0\",\"detail\":{}}";
    assert_not_json(inside, "control character");
    assert_not_json(b"\0\0\0\0", "expected value");
}

#[test]
fn escaped_nul_characters_make_ids_unreadable() {
    // `\u0000` is valid JSON; an id that contains it is not an id.
    assert_trigger(
        parse(&create_vpc_with_id("vpc-0123\u{0}")),
        &Target::Sweep,
        CREATE_VPC_SWEEP,
    );
    // In the detail-type: not the CloudTrail detail-type, so not ours.
    assert_ignored(
        parse(&event("aws.events", "Scheduled Event\u{0}", json!({}))),
        "not an event flowguard acts on: aws.events \"Scheduled Event\u{0}\"",
    );
}

#[test]
fn a_second_document_after_the_event_is_not_json() {
    let one = serde_json::to_vec(&scheduled()).unwrap();
    let mut two = one.clone();
    two.extend(&one);
    assert_not_json(&two, "trailing characters");
    assert_not_json(b"{} {}", "trailing characters");
}

#[test]
fn json_that_is_not_an_object_is_refused_with_its_type() {
    let cases: [(&[u8], &'static str); 6] = [
        (b"[]", "array"),
        (
            br#"[{"detail-type":"Scheduled Event","source":"aws.events","detail":{}}]"#,
            "array",
        ),
        (b"\"Scheduled Event\"", "string"),
        (b"-0.5e3", "number"),
        (b"null", "null"),
        (b"true", "boolean"),
    ];
    for (input, kind) in cases {
        assert_invalid(
            parse_event(input),
            &InvalidEvent::NotAnObject(kind),
            &format!("the input is a JSON {kind}, not an EventBridge event object"),
        );
    }
    // A number out of f64's range is refused while parsing.
    assert_not_json(b"1e400", "number out of range");
}

// ---------------------------------------------------------------------------------------------
// The envelope: wrong types, nulls, missing fields, duplicate keys
// ---------------------------------------------------------------------------------------------

#[test]
fn numbers_where_the_envelope_has_strings_are_not_an_event() {
    assert_wrong_type("detail-type", json!(1), "a number", "a string");
    assert_wrong_type("source", json!(12.5), "a number", "a string");
    assert_wrong_type("detail", json!(0), "a number", "an object");
}

#[test]
fn nulls_in_the_envelope_are_not_an_event() {
    for (field, expected) in [
        ("detail-type", "a string"),
        ("source", "a string"),
        ("detail", "an object"),
    ] {
        assert_wrong_type(field, Value::Null, "null", expected);
    }
}

#[test]
fn nulls_everywhere_else_are_lenient() {
    // Every optional field null: an event all the same, and nothing is made up.
    let value = json!({
        "version": null, "id": null, "detail-type": CLOUDTRAIL, "source": "aws.ec2",
        "account": null, "time": null, "region": null, "resources": null,
        "detail": {
            "eventName": "CreateVpc", "eventID": null, "awsRegion": null,
            "recipientAccountId": null, "errorCode": null, "responseElements": null,
        },
    });
    let t = assert_trigger(parse(&value), &Target::Sweep, CREATE_VPC_SWEEP);
    assert_eq!(
        (t.event_id, t.region, t.account, t.time),
        (None, None, None, None)
    );
    assert_eq!(t.event_name.as_deref(), Some("CreateVpc"));
}

#[test]
fn a_null_event_name_is_a_cloudtrail_event_without_a_name() {
    let mut value = create_vpc_with_id("vpc-1");
    value["detail"]["eventName"] = Value::Null;
    let t = assert_ignored(
        parse(&value),
        "a CloudTrail event from aws.ec2 without an eventName",
    );
    assert_eq!(t.event_name, None);
}

#[test]
fn arrays_where_the_envelope_has_objects_or_strings_are_not_an_event() {
    assert_wrong_type("detail", json!([{}]), "an array", "an object");
    assert_wrong_type("source", json!(["aws.events"]), "an array", "a string");
}

#[test]
fn a_string_detail_is_not_an_event() {
    // PutEvents takes Detail as a JSON string; EventBridge delivers it parsed. A string that
    // holds JSON is not an object, and is not parsed a second time.
    let detail = json!("{\"eventName\":\"CreateVpc\"}");
    assert_wrong_type("detail", detail, "a string", "an object");
}

#[test]
fn missing_envelope_fields_are_named() {
    for (field, message) in [
        ("detail-type", "no \"detail-type\""),
        ("source", "no \"source\""),
        ("detail", "no \"detail\""),
    ] {
        let mut value = scheduled();
        value.as_object_mut().unwrap().remove(field);
        assert_invalid(
            parse(&value),
            &InvalidEvent::NotAnEvent(message.to_owned()),
            message,
        );
    }
}

#[test]
fn wrong_types_in_optional_envelope_fields_fall_back() {
    // A number region, account, id and time: each is unread, and the detail's values serve.
    let mut value = create_vpc_with_id("vpc-1");
    value["region"] = json!(1);
    value["account"] = json!(123_456_789_012_u64);
    value["id"] = json!({ "x": 1 });
    value["time"] = json!(1_728_378_514);
    value["detail"]["recipientAccountId"] = json!("210987654321");
    let t = assert_vpc(parse(&value), "vpc-1");
    assert_eq!(t.region.as_deref(), Some("us-east-1"));
    assert_eq!(t.account.as_deref(), Some("210987654321"));
    assert_eq!(
        t.event_id.as_deref(),
        Some("9be08716-256d-4286-9378-8137d661109b")
    );
    assert_eq!(t.time, None);
    // Empty strings count as missing too.
    value["region"] = json!("");
    value["detail"]["awsRegion"] = json!("");
    assert_eq!(parse(&value).unwrap().region, None);
}

#[test]
fn unreadable_times_are_none_and_never_panic() {
    for time in [
        "yesterday",
        "2024-10-08",
        "2024-10-08 09:08:34Z",
        "2024-13-08T09:08:34Z",
        "2024-10-08T24:00:00Z",
        "20٢4-10-08T09:08:34Z",
        "2024-1é-08T09:08:34Z",
        "2024-10-éT09:08:34Z",
    ] {
        let mut value = create_vpc_with_id("vpc-1");
        value["time"] = json!(time);
        assert_eq!(parse(&value).unwrap().time, None, "{time}");
    }
    // Odd but well-formed: read as given.
    let mut value = create_vpc_with_id("vpc-1");
    value["time"] = json!("0000-01-01T00:00:00Z");
    assert_eq!(parse(&value).unwrap().time, Some(-62_167_219_200));
}

#[test]
fn duplicate_keys_keep_the_last_value() {
    // serde_json keeps the last of duplicate keys. Only AWS services emit `aws.*` events,
    // and they do not repeat keys; whichever value wins, the routing rules below apply to it.
    let input = br#"{"detail-type":"Scheduled Event","source":"aws.events","detail":{},"source":"aws.ec2"}"#;
    assert_ignored(
        parse_event(input),
        "not an event flowguard acts on: aws.ec2 \"Scheduled Event\"",
    );
    let input = br#"{"detail-type":"AWS API Call via CloudTrail","source":"aws.ec2","detail":{"eventName":"CreateVpc","errorCode":"Client.UnauthorizedOperation","responseElements":{"vpc":{"vpcId":"vpc-1"}},"errorCode":null}}"#;
    assert_vpc(parse_event(input), "vpc-1");
    let input = br#"{"detail-type":"AWS API Call via CloudTrail","source":"aws.ec2","detail":{"eventName":"CreateVpc","responseElements":{"vpc":{"vpcId":"vpc-1","vpcId":"vpc-2"}}}}"#;
    assert_vpc(parse_event(input), "vpc-2");
}

#[test]
fn escaped_key_names_are_the_same_keys() {
    // `\u002d` is `-`: JSON escapes name the same key, as EventBridge reads it too.
    let input = br#"{"detail\u002dtype":"Scheduled Event","\u0073ource":"aws.events","detail":{}}"#;
    assert_trigger(parse_event(input), &Target::Sweep, "scheduled sweep");
}

// ---------------------------------------------------------------------------------------------
// detail-type, source: case and spoofing
// ---------------------------------------------------------------------------------------------

#[test]
fn detail_type_and_source_match_exactly_not_ignoring_case() {
    // EventBridge matches rules case-sensitively and AWS spells these one way: a variant is
    // not an AWS event, so not ours.
    assert_ignored(
        parse(&event(
            "aws.ec2",
            "aws api call via cloudtrail",
            json!({ "eventName": "CreateVpc", "responseElements": { "vpc": { "vpcId": "vpc-1" } } }),
        )),
        "not an event flowguard acts on: aws.ec2 \"aws api call via cloudtrail\"",
    );
    assert_ignored(
        parse(&event("aws.events", "scheduled event", json!({}))),
        "not an event flowguard acts on: aws.events \"scheduled event\"",
    );
    assert_ignored(
        parse(&cloudtrail(
            "AWS.EC2",
            "CreateVpc",
            json!({ "responseElements": { "vpc": { "vpcId": "vpc-1" } } }),
        )),
        "not an event flowguard acts on: AWS.EC2 CreateVpc",
    );
    // eventName too: `createvpc` is not an EC2 API.
    assert_ignored(
        parse(&cloudtrail(
            "aws.ec2",
            "createvpc",
            json!({ "responseElements": { "vpc": { "vpcId": "vpc-1" } } }),
        )),
        "not an event flowguard acts on: aws.ec2 createvpc",
    );
}

#[test]
fn a_scheduled_event_from_another_source_is_not_the_schedule() {
    // Only `aws.events` sends "Scheduled Event". An `aws.ec2` one does not exist, and a custom
    // source (`custom.app`, which PutEvents allows) must not be able to start sweeps.
    assert_ignored(
        parse(&event("aws.ec2", "Scheduled Event", json!({}))),
        "not an event flowguard acts on: aws.ec2 \"Scheduled Event\"",
    );
    assert_ignored(
        parse(&event("custom.app", "Scheduled Event", json!({}))),
        "not an event flowguard acts on: custom.app \"Scheduled Event\"",
    );
}

#[test]
fn a_custom_source_with_a_cloudtrail_shape_is_ignored() {
    // PutEvents refuses sources that start with "aws.", so anyone can send `custom.app` with
    // a perfect CreateVpc detail. flowguard's rules only match aws.ec2 / aws.logs, and the
    // routing checks the source again: such events are ignored, never acted on.
    let detail = json!({ "responseElements": { "vpc": { "vpcId": "vpc-1" } } });
    assert_ignored(
        parse(&cloudtrail("custom.app", "CreateVpc", detail.clone())),
        "not an event flowguard acts on: custom.app CreateVpc",
    );
    // The source of a different AWS service does not do either.
    assert_ignored(
        parse(&cloudtrail("aws.logs", "CreateVpc", detail)),
        "not an event flowguard acts on: aws.logs CreateVpc",
    );
    assert_ignored(
        parse(&cloudtrail(
            "aws.ec2",
            "DeleteLogGroup",
            json!({ "requestParameters": { "logGroupName": "/vpc/flow-logs" } }),
        )),
        "not an event flowguard acts on: aws.ec2 DeleteLogGroup",
    );
}

#[test]
fn a_cloudtrail_detail_type_from_aws_events_is_ignored() {
    assert_ignored(
        parse(&cloudtrail(
            "aws.events",
            "CreateVpc",
            json!({ "responseElements": { "vpc": { "vpcId": "vpc-1" } } }),
        )),
        "not an event flowguard acts on: aws.events CreateVpc",
    );
}

// ---------------------------------------------------------------------------------------------
// errorCode
// ---------------------------------------------------------------------------------------------

#[test]
fn error_code_null_means_the_call_succeeded() {
    let mut value = create_vpc_with_id("vpc-1");
    value["detail"]["errorCode"] = Value::Null;
    assert_vpc(parse(&value), "vpc-1");
}

#[test]
fn error_code_empty_string_means_no_error() {
    // Like every other empty string in an event (see `str_at`), an empty errorCode carries
    // nothing: the call is not known to have failed, and the event is acted on (a re-read
    // costs nothing; ignoring a real CreateVpc leaves the VPC unlogged until the next sweep).
    let mut value = create_vpc_with_id("vpc-1");
    value["detail"]["errorCode"] = json!("");
    assert_vpc(parse(&value), "vpc-1");
}

#[test]
fn error_code_string_means_the_call_failed() {
    let mut value = create_vpc(Value::Null);
    value["detail"]["errorCode"] = json!("Client.UnauthorizedOperation");
    value["detail"]["errorMessage"] = json!("You are not authorized to perform this operation.");
    assert_ignored(
        parse(&value),
        "CreateVpc failed (Client.UnauthorizedOperation): nothing changed",
    );
}

#[test]
fn error_code_of_another_type_means_the_call_failed() {
    // Not a shape AWS sends; it is set, so the call is taken to have failed, and the report
    // shows the value as JSON.
    let cases = [
        (json!({ "code": "Client.X" }), r#"{"code":"Client.X"}"#),
        (json!(["Client.X"]), r#"["Client.X"]"#),
        (json!(0), "0"),
        (json!(false), "false"),
    ];
    for (code, shown) in cases {
        let mut value = create_vpc_with_id("vpc-1");
        value["detail"]["errorCode"] = code;
        assert_ignored(
            parse(&value),
            &format!("CreateVpc failed ({shown}): nothing changed"),
        );
    }
}

#[test]
fn a_failed_call_is_ignored_even_when_its_response_looks_successful() {
    let mut value = delete_flow_logs(json!({ "content": "fl-1", "tag": 1 }));
    value["detail"]["errorCode"] = json!("Client.InvalidFlowLogId.NotFound");
    assert_ignored(
        parse(&value),
        "DeleteFlowLogs failed (Client.InvalidFlowLogId.NotFound): nothing changed",
    );
}

// ---------------------------------------------------------------------------------------------
// CreateVpc and CreateDefaultVpc: responseElements and the VPC id
// ---------------------------------------------------------------------------------------------

#[test]
fn create_vpc_response_elements_null_missing_or_not_an_object_sweeps() {
    let shapes = [
        Value::Null,
        json!("vpc-0123"),
        json!(["vpc-0123"]),
        json!(42),
        json!({}),
        json!({ "vpc": null }),
        json!({ "vpc": "vpc-0123" }),
        json!({ "vpc": { "vpcId": null } }),
        json!({ "vpc": { "vpcId": 123 } }),
        json!({ "vpc": { "vpcId": ["vpc-0123"] } }),
        json!({ "vpc": { "vpcId": "" } }),
        json!({ "vpc": [{ "vpcId": "vpc-0123" }] }),
        json!({ "CreateVpcResponse": { "vpc": { "vpcId": "vpc-0123" } } }),
    ];
    for shape in shapes {
        assert_trigger(
            parse(&create_vpc(shape.clone())),
            &Target::Sweep,
            CREATE_VPC_SWEEP,
        );
    }
    let mut missing = create_vpc(Value::Null);
    missing["detail"]
        .as_object_mut()
        .unwrap()
        .remove("responseElements");
    assert_trigger(parse(&missing), &Target::Sweep, CREATE_VPC_SWEEP);
}

#[test]
fn vpc_ids_with_injection_attempts_are_not_ids() {
    // An id reaches AWS API calls and the report: only `vpc-` and 1 to 32 ASCII letters or
    // digits is an id. Anything else is unreadable, and the region is swept instead.
    let hostile = [
        "vpc-123; rm -rf /",
        "vpc-../../",
        "vpc-123/../../etc/passwd",
        "vpc-123\nvpc-456",
        "vpc-123 ",
        " vpc-123",
        "vpc-123\"}",
        "vpc-$(id)",
        "vpc-`id`",
        "vpc-123&Action=DeleteVpc",
        "vpc-%2e%2e",
        "vpc-*",
        "vpc-",
        "VPC-123",
        "vpc_123",
        "fl-123",
        "subnet-123",
        "vpc-123\u{202e}",
    ];
    for id in hostile {
        assert_trigger(
            parse(&create_vpc_with_id(id)),
            &Target::Sweep,
            CREATE_VPC_SWEEP,
        );
    }
}

#[test]
fn unicode_vpc_ids_are_not_ids() {
    // Letters and digits of other scripts, full-width forms, combining marks, emoji.
    for id in [
        "vpc-١٢٣",
        "vpc-１２３",
        "vpc-0123é",
        "vpc-0123e\u{301}",
        "vpc-🙂",
        "vpc-ǅ",
        "vрc-0123",
    ] {
        assert_trigger(
            parse(&create_vpc_with_id(id)),
            &Target::Sweep,
            CREATE_VPC_SWEEP,
        );
    }
}

#[test]
fn vpc_id_length_is_bounded() {
    // 8 and 17 hex digits are what AWS issues; up to 32 is accepted, 33 is not.
    for len in [1, 8, 17, 32] {
        let id = format!("vpc-{}", "a".repeat(len));
        assert_vpc(parse(&create_vpc_with_id(&id)), &id);
    }
    for len in [33, 1000, 500_000] {
        let id = format!("vpc-{}", "a".repeat(len));
        assert_trigger(
            parse(&create_vpc_with_id(&id)),
            &Target::Sweep,
            CREATE_VPC_SWEEP,
        );
    }
}

#[test]
fn create_default_vpc_finds_a_vpc_id_to_a_bounded_depth() {
    let default_vpc = |response: Value| {
        cloudtrail(
            "aws.ec2",
            "CreateDefaultVpc",
            json!({ "responseElements": response }),
        )
    };
    let found = |id: &str| {
        (
            Target::Vpcs(vec![VpcId::new(id)]),
            format!("default VPC {id} was created"),
        )
    };
    let sweep = (
        Target::Sweep,
        "CreateDefaultVpc without a readable vpcId: sweeping the region".to_owned(),
    );
    // Six levels under responseElements are searched; a seventh is not.
    let six = json!({ "a": { "b": { "c": { "d": { "e": { "f": { "vpcId": "vpc-6" } } } } } } });
    let seven =
        json!({ "a": { "b": { "c": { "d": { "e": { "f": { "g": { "vpcId": "vpc-7" } } } } } } } });
    let cases = [
        (json!({ "vpc": { "vpcId": "vpc-1" } }), found("vpc-1")),
        (json!({ "vpcId": "vpc-0" }), found("vpc-0")),
        (json!([{ "vpc": { "vpcId": "vpc-2" } }]), found("vpc-2")),
        (six, found("vpc-6")),
        (seven, sweep.clone()),
        // A hostile id is skipped and the search goes on to a well-formed one.
        (
            json!({ "a": { "vpcId": "vpc-1; rm -rf" }, "b": { "vpcId": "vpc-2" } }),
            found("vpc-2"),
        ),
        (json!({ "vpc": { "vpcId": "vpc-../../" } }), sweep.clone()),
        (json!({ "vpcId": 1 }), sweep.clone()),
        (json!("vpc-1"), sweep.clone()),
        (Value::Null, sweep.clone()),
    ];
    for (response, (target, reason)) in cases {
        assert_trigger(parse(&default_vpc(response)), &target, &reason);
    }
}

// ---------------------------------------------------------------------------------------------
// DeleteFlowLogs: FlowLogId in all its shapes
// ---------------------------------------------------------------------------------------------

#[test]
fn flow_log_id_as_one_object() {
    let id = id_entry("fl-07a9b55570fe770b6", 1);
    assert_sweep_naming(&delete_flow_logs(id), "fl-07a9b55570fe770b6");
}

#[test]
fn flow_log_id_as_a_list_of_objects() {
    let ids = json!([id_entry("fl-1", 1), id_entry("fl-2", 2)]);
    assert_sweep_naming(&delete_flow_logs(ids), "fl-1, fl-2");
}

#[test]
fn flow_log_id_as_a_plain_string() {
    assert_sweep_naming(&delete_flow_logs(json!("fl-0abc")), "fl-0abc");
}

#[test]
fn flow_log_id_unreadable_shapes_still_sweep() {
    // Something was deleted in the region: whatever the shape of the ids, look.
    for shape in [
        json!(12345),
        Value::Null,
        json!(true),
        json!([]),
        json!({}),
        json!({ "content": null }),
        json!({ "content": 1 }),
        json!({ "content": { "content": "fl-1" } }),
        json!("vpc-0123"),
        json!(""),
        json!([[{ "content": "fl-1" }]]),
    ] {
        assert_unreadable_ids(&delete_flow_logs(shape.clone()));
    }
    // No requestParameters at all, or not an object.
    for params in [Value::Null, json!("fl-1"), json!(["fl-1"])] {
        let value = cloudtrail(
            "aws.ec2",
            "DeleteFlowLogs",
            json!({ "requestParameters": params }),
        );
        assert_unreadable_ids(&value);
    }
}

#[test]
fn flow_log_id_list_with_garbage_keeps_the_readable_ids() {
    let ids = json!([
        null,
        7,
        { "content": "fl-1", "tag": 1 },
        "not-an-id",
        [],
        { "content": { "x": 1 } },
        "fl-2",
        { "flowLogId": "fl-3" },
    ]);
    assert_sweep_naming(&delete_flow_logs(ids), "fl-1, fl-2, fl-3");
}

#[test]
fn flow_log_ids_under_the_lowercase_request_shape() {
    // `requestParameters.flowLogIds.item[].flowLogId`, the shape of older EC2 records.
    let value = cloudtrail(
        "aws.ec2",
        "DeleteFlowLogs",
        json!({ "requestParameters": { "flowLogIds": { "item": [{ "flowLogId": "fl-9" }] } } }),
    );
    assert_sweep_naming(&value, "fl-9");
    let value = cloudtrail(
        "aws.ec2",
        "DeleteFlowLogs",
        json!({ "requestParameters": { "flowLogIds": ["fl-8", "fl-9"] } }),
    );
    assert_sweep_naming(&value, "fl-8, fl-9");
}

#[test]
fn flow_log_ids_with_injection_attempts_are_not_named() {
    // The ids only go into the report's reason, but that is logged: like VPC ids, only
    // `fl-` and 1 to 32 ASCII letters or digits is an id. Nothing else from the request is
    // echoed into the log (no newlines, no terminal escapes, no bidi overrides, no megabytes).
    for id in [
        "fl-123; rm -rf /",
        "fl-../../",
        "fl-1\n{\"level\":\"ERROR\",\"message\":\"forged\"}",
        "fl-\u{1b}[2J",
        "fl-1\u{202e}",
        "fl-",
        "fl-١٢٣",
        &format!("fl-{}", "a".repeat(33)),
        &format!("fl-{}", "a".repeat(200_000)),
    ] {
        assert_unreadable_ids(&delete_flow_logs(id_entry(id, 1)));
    }
    // A hostile id next to a good one: only the good one is named.
    let ids = json!([id_entry("fl-1\r\nforged: line", 1), id_entry("fl-0abc", 2)]);
    assert_sweep_naming(&delete_flow_logs(ids), "fl-0abc");
}

// ---------------------------------------------------------------------------------------------
// Log-group events
// ---------------------------------------------------------------------------------------------

#[test]
fn log_group_events_without_a_readable_name_sweep() {
    for params in [
        Value::Null,
        json!({}),
        json!({ "logGroupName": null }),
        json!({ "logGroupName": "" }),
        json!({ "logGroupName": 5 }),
        json!({ "logGroupName": ["/vpc/flow-logs"] }),
        json!("/vpc/flow-logs"),
    ] {
        let value = cloudtrail(
            "aws.logs",
            "PutRetentionPolicy",
            json!({ "requestParameters": params, "retentionInDays": 1 }),
        );
        assert_trigger(
            parse(&value),
            &Target::Sweep,
            "PutRetentionPolicy without a readable logGroupName: sweeping the region",
        );
    }
}

#[test]
fn log_group_names_are_taken_as_given_and_only_compared() {
    // A log-group name is matched against the policy's template and used as a read filter
    // (reconcile::scope); a name CloudWatch would refuse never appears in a successful call's
    // record. Unicode and odd characters are carried through unchanged.
    for name in [
        "/vpc/flow-logs",
        "/vpc/flow-logs/日本",
        "/vpc/../flow-logs",
        "x",
    ] {
        let value = cloudtrail(
            "aws.logs",
            "DeleteLogGroup",
            json!({ "requestParameters": { "logGroupName": name } }),
        );
        assert_trigger(
            parse(&value),
            &Target::LogGroup(LogGroupName::new(name)),
            &format!("DeleteLogGroup on log group {name}"),
        );
    }
}

#[test]
fn unrelated_log_events_are_ignored() {
    let value = cloudtrail(
        "aws.logs",
        "CreateLogGroup",
        json!({ "requestParameters": { "logGroupName": "/vpc/flow-logs" } }),
    );
    assert_ignored(
        parse(&value),
        "not an event flowguard acts on: aws.logs CreateLogGroup",
    );
}

// ---------------------------------------------------------------------------------------------
// Properties: no input panics
// ---------------------------------------------------------------------------------------------

fn fixtures() -> Vec<Vec<u8>> {
    let root = format!("{}/../../tests/fixtures/events", env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for dir in [root.clone(), format!("{root}/variants")] {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "json") {
                files.push(std::fs::read(&path).unwrap());
            }
        }
    }
    files.sort();
    assert!(files.len() >= 16, "fixtures not found under {root}");
    files
}

/// What every successful parse guarantees (fuzz/fuzz_targets/parse_event.rs checks the same).
fn check_invariants(input: &[u8], result: &Result<Trigger, InvalidEvent>) {
    match result {
        Err(InvalidEvent::TooLarge(n)) => assert!(*n == input.len() && *n > MAX_EVENT_BYTES),
        Err(InvalidEvent::Empty) => assert!(input.iter().all(u8::is_ascii_whitespace)),
        Err(error) => assert!(!error.to_string().is_empty()),
        Ok(trigger) => {
            assert!(!trigger.reason.is_empty());
            match &trigger.target {
                Target::Vpcs(ids) => {
                    assert!(!ids.is_empty());
                    assert!(ids.iter().all(|id| VpcId::is_well_formed(id.as_str())));
                }
                Target::LogGroup(name) => assert!(!name.as_str().is_empty()),
                Target::Sweep | Target::Ignored => {}
            }
        }
    }
}

/// JSON values shaped like events: the keys flowguard reads, at any depth, any type.
fn event_like() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        Just("detail-type"),
        Just("source"),
        Just("detail"),
        Just("eventName"),
        Just("errorCode"),
        Just("responseElements"),
        Just("requestParameters"),
        Just("vpc"),
        Just("vpcId"),
        Just("DeleteFlowLogsRequest"),
        Just("FlowLogId"),
        Just("flowLogIds"),
        Just("item"),
        Just("content"),
        Just("logGroupName"),
        Just("region"),
        Just("time"),
    ]
    .prop_map(str::to_owned);
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        prop_oneof![
            Just("aws.ec2"),
            Just("aws.logs"),
            Just("aws.events"),
            Just(CLOUDTRAIL),
            Just("Scheduled Event"),
            Just("CreateVpc"),
            Just("CreateDefaultVpc"),
            Just("DeleteFlowLogs"),
            Just("DeleteLogGroup"),
            Just("PutRetentionPolicy"),
            Just("vpc-0123"),
            Just("fl-0123"),
            Just("/vpc/flow-logs"),
            Just("2024-10-08T09:08:34Z"),
            Just(""),
        ]
        .prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(8, 64, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(key.clone(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_bytes_up_to_64_kib_never_panic(input in prop::collection::vec(any::<u8>(), 0..=64 * 1024)) {
        let result = parse_event(&input);
        check_invariants(&input, &result);
    }

    #[test]
    fn mutated_fixtures_never_panic(
        pick in any::<prop::sample::Index>(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..16),
        cut in any::<prop::sample::Index>(),
    ) {
        let all = fixtures();
        let mut input = pick.get(&all).clone();
        for (at, byte) in edits {
            let i = at.index(input.len());
            input[i] = byte;
        }
        input.truncate(cut.index(input.len() + 1));
        let result = parse_event(&input);
        check_invariants(&input, &result);
    }

    #[test]
    fn event_shaped_json_never_panics(detail in event_like(), envelope in event_like()) {
        let mut value = envelope;
        if let Value::Object(map) = &mut value {
            map.insert("detail".to_owned(), detail);
        }
        let input = serde_json::to_vec(&value).unwrap();
        let result = parse_event(&input);
        check_invariants(&input, &result);
        prop_assert_eq!(trigger_from_value(&value), result);
    }

    #[test]
    fn cloudtrail_events_with_arbitrary_detail_never_panic(
        source in prop_oneof![Just("aws.ec2"), Just("aws.logs")],
        name in prop_oneof![
            Just("CreateVpc"), Just("CreateDefaultVpc"), Just("DeleteFlowLogs"),
            Just("DeleteLogGroup"), Just("PutRetentionPolicy"), Just("DeleteRetentionPolicy"),
        ],
        extra in event_like(),
    ) {
        let extra = match extra {
            object @ Value::Object(_) => object,
            other => json!({ "responseElements": other.clone(), "requestParameters": other }),
        };
        let value = cloudtrail(source, name, extra);
        let input = serde_json::to_vec(&value).unwrap();
        let result = parse_event(&input);
        check_invariants(&input, &result);
        // A recognised CloudTrail event of ours is never an error, whatever its detail holds.
        prop_assert!(result.is_ok(), "{:?}", result);
    }
}

#[test]
fn every_fixture_parses_the_same_way_on_both_paths() {
    for bytes in fixtures() {
        let value: Value = serde_json::from_slice(&bytes).unwrap();
        let result = parse_event(&bytes);
        assert!(result.is_ok(), "{result:?}");
        assert_eq!(trigger_from_value(&value), result);
    }
}
