//! `flowguard handle-event`: the Lambda's path from stdin or a file, malformed input refused
//! or ignored, and an event of another account.

use super::{create_role, flowguard, state, statuses};
use flowguard_core::fake;
use flowguard_tests::{ACCOUNT, REGION, Seed, create_vpc_event, fixture, moto};
use serde_json::{Value, json};

#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn handle_event_runs_the_lambda_path() {
    let m = moto().await;
    create_role(&m).await;
    let seed = Seed::new(&m.clients(REGION).await);
    let vpc = seed.vpc().await;

    let event = create_vpc_event(&vpc).to_string();
    let out = flowguard(&m, &["handle-event"])
        .role()
        .stdin(event.clone())
        .run();
    out.expect(0);
    let report = out.json();
    assert_eq!(report["trigger"]["kind"], "vpc");
    assert_eq!(report["account"], ACCOUNT);
    assert_eq!(
        statuses(&report),
        vec![(vpc.clone(), "remediated".to_owned())]
    );
    let flow_logs = seed.flow_logs_of(&vpc).await;
    assert_eq!(flow_logs.len(), 1);
    assert_eq!(
        report["actions"].as_array().unwrap().last().unwrap()["flow_log_id"],
        flow_logs[0].flow_log_id().unwrap()
    );

    // The same event again, from a file: already compliant, nothing new.
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), &event).unwrap();
    let out = flowguard(&m, &["handle-event", file.path().to_str().unwrap()])
        .role()
        .run();
    out.expect(0);
    assert_eq!(
        statuses(&out.json()),
        vec![(vpc.clone(), "compliant".to_owned())]
    );
    assert_eq!(seed.flow_logs_of(&vpc).await.len(), 1);

    // --dry-run works without a role and changes nothing.
    let other = seed.vpc().await;
    let out = flowguard(&m, &["handle-event", "--dry-run", "-"])
        .stdin(create_vpc_event(&other).to_string())
        .run();
    out.expect(0);
    assert_eq!(out.json()["dry_run"], true);
    assert_eq!(
        statuses(&out.json()),
        vec![(other.clone(), "would_remediate".to_owned())]
    );
    assert!(seed.flow_logs_of(&other).await.is_empty());

    // Enforcing without a role is a configuration error.
    flowguard(&m, &["handle-event"])
        .stdin(event)
        .run()
        .expect(2)
        .stderr_has("FLOWGUARD_DELIVERY_ROLE_ARN");
}

/// What handle-event should make of an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Exit 2, this text on stderr.
    Invalid(&'static str),
    /// Exit 0, a report whose trigger is ignored.
    Ignored,
}

/// The bytes of an EventBridge envelope of `source` around `detail`.
fn event(detail_type: &str, source: &str, detail: Value) -> Vec<u8> {
    fake::event(source, detail_type, detail)
        .to_string()
        .into_bytes()
}

fn malformed_inputs() -> Vec<(&'static str, Vec<u8>, Expect)> {
    use Expect::{Ignored, Invalid};
    let api_call = "AWS API Call via CloudTrail";
    let mut huge = event(
        "Scheduled Event",
        "aws.events",
        json!({"pad": "a".repeat(2 * 1024 * 1024)}),
    );
    huge.extend(b"   ");
    vec![
        ("empty", Vec::new(), Invalid("empty")),
        ("whitespace", b" \n\t ".to_vec(), Invalid("empty")),
        ("not JSON", b"hello".to_vec(), Invalid("not JSON")),
        (
            "truncated JSON",
            br#"{"detail-type": "AWS API"#.to_vec(),
            Invalid("not JSON"),
        ),
        (
            "trailing garbage",
            br#"{"detail-type":"x","source":"y","detail":{}} z"#.to_vec(),
            Invalid("not JSON"),
        ),
        (
            "invalid UTF-8",
            b"{\"detail-type\": \"\xff\xfe\"}".to_vec(),
            Invalid("not JSON"),
        ),
        ("empty object", b"{}".to_vec(), Invalid("detail-type")),
        ("array", b"[]".to_vec(), Invalid("array")),
        ("null", b"null".to_vec(), Invalid("null")),
        ("number", b"42".to_vec(), Invalid("number")),
        (
            "detail-type a number",
            br#"{"detail-type":1,"source":"aws.ec2","detail":{}}"#.to_vec(),
            Invalid("detail-type"),
        ),
        (
            "source a list",
            br#"{"detail-type":"Scheduled Event","source":["aws.events"],"detail":{}}"#.to_vec(),
            Invalid("source"),
        ),
        (
            "detail a string",
            br#"{"detail-type":"Scheduled Event","source":"aws.events","detail":"x"}"#.to_vec(),
            Invalid("detail"),
        ),
        (
            "no detail",
            br#"{"detail-type":"Scheduled Event","source":"aws.events"}"#.to_vec(),
            Invalid("detail"),
        ),
        ("over 1 MiB", huge, Invalid("bytes")),
        (
            "100k nested arrays",
            vec![b'['; 100_000],
            Invalid("recursion limit"),
        ),
        (
            "100k nested objects",
            r#"{"a":"#.repeat(100_000).into_bytes(),
            Invalid("recursion limit"),
        ),
        (
            "unknown detail-type",
            event(
                "EC2 Instance State-change Notification",
                "aws.ec2",
                json!({"state": "running"}),
            ),
            Ignored,
        ),
        (
            "CloudTrail without eventName",
            event(api_call, "aws.ec2", json!({})),
            Ignored,
        ),
        (
            "eventName a number",
            event(api_call, "aws.ec2", json!({"eventName": 7})),
            Ignored,
        ),
        (
            "failed CreateVpc",
            fixture("variants/create_vpc_failed.json")
                .to_string()
                .into_bytes(),
            Ignored,
        ),
        (
            "failed DeleteFlowLogs",
            fixture("variants/delete_flow_logs_failed.json")
                .to_string()
                .into_bytes(),
            Ignored,
        ),
        (
            "errorCode not a string",
            event(
                api_call,
                "aws.ec2",
                json!({"eventName": "CreateVpc", "errorCode": {"x": 1}}),
            ),
            Ignored,
        ),
        (
            "unrelated S3 call",
            fixture("variants/unrelated_s3_call.json")
                .to_string()
                .into_bytes(),
            Ignored,
        ),
        (
            "DeleteLogGroup of another group",
            event(
                api_call,
                "aws.logs",
                json!({"eventName": "DeleteLogGroup", "requestParameters": {"logGroupName": "/not/ours"}}),
            ),
            Ignored,
        ),
    ]
}

#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn handle_event_refuses_or_ignores_malformed_input_and_changes_nothing() {
    let m = moto().await;
    create_role(&m).await;
    let seed = Seed::new(&m.clients(REGION).await);
    let vpc = seed.vpc().await;
    let before = state(&m, REGION).await;

    for (name, input, expect) in malformed_inputs() {
        let out = flowguard(&m, &["handle-event"]).role().stdin(input).run();
        match expect {
            Expect::Invalid(needle) => {
                assert_eq!(out.code, 2, "{name}: {out:?}");
                assert!(
                    out.stderr.contains("invalid input") && out.stderr.contains(needle),
                    "{name}: {}",
                    out.stderr
                );
                assert!(out.stderr.lines().count() <= 2, "{name}: {}", out.stderr);
                assert_eq!(out.stdout, "", "{name}");
            }
            Expect::Ignored => {
                assert_eq!(out.code, 0, "{name}: {out:?}");
                let kind = out.json()["trigger"]["kind"].clone();
                // A log-group event on another group is not ignored by the router but has
                // nothing to do; anything else must be ignored.
                assert!(
                    kind == "ignored" || kind == "log_group",
                    "{name}: {}",
                    out.stdout
                );
                assert_eq!(out.json()["actions"], json!([]), "{name}");
            }
        }
        assert_eq!(
            state(&m, REGION).await,
            before,
            "{name} changed the emulator"
        );
    }

    // A CreateVpc without a readable vpcId sweeps the region: handled, exit 0.
    for bad_id in [json!(null), json!(12), json!("vpc-../../etc"), json!("")] {
        let mut event = fixture("create_vpc.json");
        event["detail"]["responseElements"]["vpc"]["vpcId"] = bad_id.clone();
        let out = flowguard(&m, &["handle-event", "--dry-run"])
            .stdin(event.to_string())
            .run();
        out.expect(0);
        assert_eq!(out.json()["trigger"]["kind"], "sweep", "{bad_id}");
        assert!(statuses(&out.json()).contains(&(vpc.clone(), "would_remediate".to_owned())));
    }
    assert_eq!(state(&m, REGION).await, before);
}

#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn handle_event_ignores_an_event_of_another_account() {
    let m = moto().await;
    create_role(&m).await;
    let vpc = Seed::new(&m.clients(REGION).await).vpc().await;
    let before = state(&m, REGION).await;
    let mut event = create_vpc_event(&vpc);
    event["account"] = "210987654321".into();
    let out = flowguard(&m, &["handle-event"])
        .role()
        .stdin(event.to_string())
        .run();
    out.expect(0);
    let report = out.json();
    assert_eq!(report["trigger"]["kind"], "ignored");
    assert_eq!(report["account"], ACCOUNT);
    assert!(
        report["trigger"]["reason"]
            .as_str()
            .unwrap()
            .contains("210987654321")
    );
    assert_eq!(state(&m, REGION).await, before, "nothing changed");
}
