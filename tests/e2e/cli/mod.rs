//! The `flowguard` binary end to end against moto server: every subcommand, its output and
//! its exit code. The binary is the one `cargo build --workspace --bins` put next to this
//! test executable (`./scripts/test` builds it first); `FLOWGUARD_BIN` overrides the path.
//! Children get a cleared environment plus moto's (dummy credentials, endpoint, no instance
//! metadata), so no developer credentials can leak in.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use flowguard_tests::proxy::{AwsRules, FaultProxy};
use flowguard_tests::{ACCOUNT, Moto, REGION, Seed, create_vpc_event, fixture, moto};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

const ROLE_NAME: &str = "flowguard-delivery";
const MANAGED_GROUP: &str = "/vpc/flow-logs";

/// The `flowguard` binary: `FLOWGUARD_BIN`, else the workspace's own build.
fn binary() -> PathBuf {
    std::env::var_os("FLOWGUARD_BIN").map_or_else(
        || flowguard_tests::workspace_binary("flowguard"),
        PathBuf::from,
    )
}

/// What one run of the binary gave.
#[derive(Debug)]
struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Out {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    #[track_caller]
    fn expect(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "exit code\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    fn stderr_has(&self, needle: &str) -> &Self {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}:\n{}",
            self.stderr
        );
        self
    }
}

/// A run of `flowguard` with only moto's environment.
struct Flowguard {
    cmd: assert_cmd::Command,
    stdin: Vec<u8>,
}

fn flowguard(m: &Moto, args: &[&str]) -> Flowguard {
    let mut cmd = assert_cmd::Command::new(binary());
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .envs(m.env())
        .args(args)
        .timeout(Duration::from_secs(120));
    Flowguard {
        cmd,
        stdin: Vec::new(),
    }
}

impl Flowguard {
    fn env(mut self, key: &str, value: &str) -> Self {
        self.cmd.env(key, value);
        self
    }

    fn env_remove(mut self, key: &str) -> Self {
        self.cmd.env_remove(key);
        self
    }

    /// The delivery role that [`create_role`] makes.
    fn role(self) -> Self {
        self.env("FLOWGUARD_DELIVERY_ROLE_ARN", &role_arn())
    }

    fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.stdin = bytes.into();
        self
    }

    /// Runs it (stdin is always a pipe, never the terminal) and checks it did not panic.
    fn run(mut self) -> Out {
        let output = self.cmd.write_stdin(self.stdin).output().unwrap();
        let out = Out {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        };
        assert!(
            out.code != 101 && !out.stderr.contains("panicked"),
            "flowguard panicked:\n{}",
            out.stderr
        );
        assert!(!out.stderr.contains("RUST_BACKTRACE"), "{}", out.stderr);
        out
    }
}

fn role_arn() -> String {
    format!("arn:aws:iam::{ACCOUNT}:role/{ROLE_NAME}")
}

/// A delivery role in moto's IAM that trusts the flow-logs service, so that `init` and
/// `apply` accept it.
async fn create_role(m: &Moto) {
    let trust = json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "vpc-flow-logs.amazonaws.com"}, "Action": "sts:AssumeRole"}]
    });
    let clients = m.clients(REGION).await;
    clients
        .iam()
        .create_role()
        .role_name(ROLE_NAME)
        .assume_role_policy_document(trust.to_string())
        .send()
        .await
        .unwrap();
}

/// What a run could change: every flow log (id, resource, tags) and every log group with
/// its retention, in `region`.
async fn state(m: &Moto, region: &str) -> (Vec<String>, BTreeMap<String, Option<i32>>) {
    let seed = Seed::new(&m.clients(region).await);
    let mut flow_logs: Vec<String> = seed
        .all_flow_logs()
        .await
        .iter()
        .map(|fl| {
            format!(
                "{:?} {:?} {:?}",
                fl.flow_log_id(),
                fl.resource_id(),
                fl.tags()
            )
        })
        .collect();
    flow_logs.sort();
    let groups = seed.logs.describe_log_groups().send().await.unwrap();
    let groups = groups
        .log_groups()
        .iter()
        .map(|g| {
            (
                g.log_group_name().unwrap_or_default().to_owned(),
                g.retention_in_days(),
            )
        })
        .collect();
    (flow_logs, groups)
}

fn statuses(report: &Value) -> Vec<(String, String)> {
    report["vpcs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["vpc_id"].as_str().unwrap().to_owned(),
                v["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn audit_fails_then_apply_remediates_then_audit_passes() {
    let m = moto().await;
    create_role(&m).await;
    let seed = Seed::new(&m.clients(REGION).await);
    let vpc = seed.vpc().await;
    let vpcs = seed.vpc_ids().await;
    assert_eq!(vpcs.len(), 2, "moto's default VPC and ours");

    let audit = flowguard(&m, &["audit"]).run();
    audit.expect(1);
    assert!(
        audit.stdout.contains(&vpc) && audit.stdout.contains("NOT COMPLIANT"),
        "{}",
        audit.stdout
    );
    assert!(
        audit
            .stdout
            .contains("2 VPC(s) in 1 region: 2 NOT COMPLIANT"),
        "{}",
        audit.stdout
    );

    let apply = flowguard(&m, &["apply", "--yes"]).role().run();
    apply.expect(0);
    assert!(apply.stdout.contains("2 remediated"), "{}", apply.stdout);
    for id in &vpcs {
        let flow_logs = seed.flow_logs_of(id).await;
        assert_eq!(flow_logs.len(), 1, "{id}");
        let fl = &flow_logs[0];
        assert_eq!(fl.log_group_name(), Some(MANAGED_GROUP));
        assert_eq!(fl.traffic_type().map(|t| t.as_str()), Some("REJECT"));
        assert_eq!(fl.deliver_logs_permission_arn(), Some(role_arn().as_str()));
        assert!(
            fl.tags()
                .iter()
                .any(|t| t.key() == Some("managed-by") && t.value() == Some("flowguard")),
            "{fl:?}"
        );
    }
    assert_eq!(seed.retention(MANAGED_GROUP).await, Some(Some(365)));

    let audit = flowguard(&m, &["audit", "--format", "json"]).run();
    audit.expect(0);
    let report = audit.json();
    assert!(
        statuses(&report).iter().all(|(_, s)| s == "compliant"),
        "{report}"
    );
    assert_eq!(report["summary"]["vpcs"]["compliant"], 2);

    // A second apply changes nothing.
    let before = state(&m, REGION).await;
    let again = flowguard(&m, &["apply", "--yes", "--format", "json"])
        .role()
        .run();
    again.expect(0);
    assert_eq!(again.json()["actions"], json!([]));
    assert_eq!(state(&m, REGION).await, before);
}

#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn plan_lists_the_actions_and_changes_nothing() {
    let m = moto().await;
    create_role(&m).await;
    let seed = Seed::new(&m.clients(REGION).await);
    let vpc = seed.vpc().await;
    let before = state(&m, REGION).await;

    let plan = flowguard(&m, &["plan"]).role().run();
    plan.expect(0);
    assert!(
        plan.stdout.contains("would remediate") && plan.stdout.contains("create_flow_logs"),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("actions: 4 planned"),
        "{}",
        plan.stdout
    );

    let plan = flowguard(&m, &["plan", "--format", "json"]).role().run();
    plan.expect(0);
    let report = plan.json();
    assert_eq!(report["dry_run"], true);
    let creates: Vec<&Value> = report["actions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["action"] == "create_flow_logs")
        .collect();
    assert_eq!(creates.len(), 2);
    assert!(creates.iter().any(|a| a["target"] == vpc.as_str()));
    assert!(
        creates
            .iter()
            .all(|a| a["result"] == "planned" && a["permission"].is_string()),
        "{report}"
    );

    // Without the role the plan still works and says so.
    let plan = flowguard(&m, &["plan"]).run();
    plan.expect(0);
    assert!(
        plan.stdout
            .contains("FLOWGUARD_DELIVERY_ROLE_ARN is not set"),
        "{}",
        plan.stdout
    );

    assert_eq!(state(&m, REGION).await, before, "plan changed the emulator");
}

#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn apply_refuses_without_confirmation_or_role() {
    let m = moto().await;
    create_role(&m).await;
    Seed::new(&m.clients(REGION).await).vpc().await;
    let before = state(&m, REGION).await;

    let out = flowguard(&m, &["apply"]).role().run();
    out.expect(2)
        .stderr_has("not a terminal")
        .stderr_has("--yes");
    assert_eq!(out.stdout, "");

    flowguard(&m, &["apply", "--yes"])
        .run()
        .expect(2)
        .stderr_has("FLOWGUARD_DELIVERY_ROLE_ARN");

    let missing = format!("arn:aws:iam::{ACCOUNT}:role/not-there");
    flowguard(&m, &["apply", "--yes", "--delivery-role-arn", &missing])
        .run()
        .expect(2)
        .stderr_has("does not exist")
        .stderr_has("setup-role");

    flowguard(&m, &["apply", "--yes"])
        .role()
        .env("FLOWGUARD_DRY_RUN", "true")
        .run()
        .expect(2)
        .stderr_has("plan");

    assert_eq!(state(&m, REGION).await, before);
}

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

fn event(detail_type: &str, source: &str, detail: Value) -> Vec<u8> {
    json!({"version": "0", "id": "x", "detail-type": detail_type, "source": source, "account": ACCOUNT, "region": REGION, "detail": detail})
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
async fn setup_role_twice_gives_the_same_arn() {
    let m = moto().await;
    let first = flowguard(&m, &["setup-role"]).run();
    first.expect(0).stderr_has("created");
    let arn = first.stdout.trim().to_owned();
    assert_eq!(
        arn,
        format!("arn:aws:iam::{ACCOUNT}:role/flowguard-flow-logs-delivery")
    );

    let second = flowguard(&m, &["setup-role"]).run();
    second.expect(0).stderr_has("exists");
    assert_eq!(second.stdout.trim(), arn);

    let named = flowguard(&m, &["setup-role", "--name", "custom-delivery"]).run();
    named.expect(0);
    assert!(
        named.stdout.trim().ends_with(":role/custom-delivery"),
        "{}",
        named.stdout
    );

    // The role it made is one that apply accepts.
    Seed::new(&m.clients(REGION).await).vpc().await;
    flowguard(&m, &["apply", "--yes", "--delivery-role-arn", &arn])
        .run()
        .expect(0);
}

#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn repeated_regions_give_an_array_in_order() {
    let m = moto().await;
    let east = Seed::new(&m.clients(REGION).await).vpc().await;
    let west = Seed::new(&m.clients("eu-west-1").await).vpc().await;

    let out = flowguard(
        &m,
        &[
            "audit",
            "--region",
            REGION,
            "--region",
            "eu-west-1",
            "--format",
            "json",
        ],
    )
    .run();
    out.expect(1);
    let reports = out.json();
    let reports = reports.as_array().unwrap();
    assert_eq!(reports.len(), 2);
    assert_eq!(
        (reports[0]["region"].as_str(), reports[1]["region"].as_str()),
        (Some(REGION), Some("eu-west-1"))
    );
    assert!(statuses(&reports[0]).iter().any(|(id, _)| *id == east));
    assert!(statuses(&reports[1]).iter().any(|(id, _)| *id == west));

    // One region: one report, not an array; a repeated region counts once.
    let out = flowguard(
        &m,
        &[
            "audit",
            "--region",
            "eu-west-1",
            "--region",
            "eu-west-1",
            "--format",
            "json",
        ],
    )
    .run();
    assert_eq!(out.expect(1).json()["region"], "eu-west-1");

    // The table names both regions.
    let out = flowguard(&m, &["audit", "--region", REGION, "--region", "eu-west-1"]).run();
    assert!(
        out.expect(1).stdout.contains("4 VPC(s) in 2 regions"),
        "{}",
        out.stdout
    );
    assert_eq!(out.stderr, "", "no progress bar without a terminal");
}

#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn all_regions_sweeps_every_enabled_region() {
    let m = moto().await;
    let listed = m
        .clients(REGION)
        .await
        .ec2
        .describe_regions()
        .send()
        .await
        .unwrap();
    let mut expected: Vec<String> = listed
        .regions()
        .iter()
        .filter_map(|r| r.region_name().map(str::to_owned))
        .collect();
    expected.sort();
    assert!(expected.len() > 4, "moto lists {} regions", expected.len());

    let started = std::time::Instant::now();
    let out = flowguard(&m, &["audit", "--all-regions", "--format", "json"]).run();
    out.expect(1);
    let regions: Vec<String> = out
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["region"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(regions, expected);
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "took {:?}",
        started.elapsed()
    );

    // Conflicting flags are a usage error.
    flowguard(&m, &["audit", "--all-regions", "--region", REGION])
        .run()
        .expect(2);
}

#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn bad_configuration_names_the_variable_the_value_and_what_is_allowed() {
    let m = moto().await;
    create_role(&m).await;
    flowguard(&m, &["apply", "--yes"]).role().run().expect(0);

    let out = flowguard(&m, &["audit"])
        .env("FLOWGUARD_RETENTION_DAYS", "30")
        .run();
    out.expect(2)
        .stderr_has("FLOWGUARD_RETENTION_DAYS")
        .stderr_has("\"30\"")
        .stderr_has("365, 400");
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    assert_eq!(out.stdout, "");

    // The flag beats the variable: 731 is valid, and the 365-day group is now too short.
    let out = flowguard(
        &m,
        &["audit", "--retention-days", "731", "--format", "json"],
    )
    .env("FLOWGUARD_RETENTION_DAYS", "30")
    .run();
    out.expect(1);
    assert!(
        out.json()["vpcs"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("731"),
        "{}",
        out.stdout
    );
    flowguard(&m, &["audit", "--retention-days", "30"])
        .env("FLOWGUARD_RETENTION_DAYS", "365")
        .run()
        .expect(2);
    flowguard(&m, &["audit"])
        .env("FLOWGUARD_RETENTION_DAYS", "365")
        .run()
        .expect(0);

    for (flag, value, variable) in [
        ("--traffic-type", "ACCEPT", "FLOWGUARD_TRAFFIC_TYPE"),
        (
            "--max-aggregation-interval",
            "300",
            "FLOWGUARD_MAX_AGGREGATION_INTERVAL",
        ),
        ("--log-group", "/vpc/{nope}", "FLOWGUARD_LOG_GROUP"),
        (
            "--delivery-role-arn",
            "my-role",
            "FLOWGUARD_DELIVERY_ROLE_ARN",
        ),
    ] {
        flowguard(&m, &["plan", flag, value])
            .run()
            .expect(2)
            .stderr_has(variable)
            .stderr_has(value);
    }
    let out = flowguard(&m, &["handle-event"])
        .env("FLOWGUARD_DRY_RUN", "maybe")
        .stdin(fixture("scheduled_event.json").to_string())
        .run();
    out.expect(2).stderr_has("FLOWGUARD_DRY_RUN");
}

#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn environment_problems_are_one_or_two_clear_lines() {
    let m = moto().await;

    let out = flowguard(&m, &["audit"])
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
        .run();
    out.expect(2)
        .stderr_has("http://127.0.0.1:1")
        .stderr_has("cannot reach");
    assert!(out.stderr.lines().count() <= 2, "{}", out.stderr);

    let out = flowguard(&m, &["audit"]).env_remove("AWS_REGION").run();
    out.expect(2)
        .stderr_has("no AWS region")
        .stderr_has("--region");

    let out = flowguard(&m, &["plan"])
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .run();
    out.expect(2).stderr_has("no AWS credentials");
    assert!(out.stderr.lines().count() <= 2, "{}", out.stderr);

    flowguard(&m, &["audit", "--region", "Not A Region"])
        .run()
        .expect(2)
        .stderr_has("not a region name");
    flowguard(&m, &["handle-event", "/no/such/file.json"])
        .run()
        .expect(2)
        .stderr_has("/no/such/file.json");
}

/// Replaces every id of `ids` (longest first) by its stable name.
fn stable(text: &str, ids: &[(String, &str)]) -> String {
    let mut ids = ids.to_vec();
    ids.sort_by_key(|(id, _)| std::cmp::Reverse(id.len()));
    ids.iter()
        .fold(text.to_owned(), |text, (id, name)| text.replace(id, name))
}

#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn report_json_shape_is_pinned() {
    let m = moto().await;
    create_role(&m).await;
    let seed = Seed::new(&m.clients(REGION).await);
    let default_vpc = seed.vpc_ids().await.remove(0);
    let exempt = seed.vpc().await;
    seed.tag(&exempt, "flowguard:exempt", "true").await;
    let compliant = seed.vpc().await;
    seed.log_group("/network/flow-logs", Some(400)).await;
    let theirs = seed
        .foreign_flow_log(
            &compliant,
            aws_sdk_ec2::types::TrafficType::All,
            "/network/flow-logs",
        )
        .await;
    let short = seed.vpc().await;
    seed.log_group("/short/flow-logs", Some(30)).await;
    let short_fl = seed
        .foreign_flow_log(
            &short,
            aws_sdk_ec2::types::TrafficType::Reject,
            "/short/flow-logs",
        )
        .await;
    let ids = [
        (default_vpc, "vpc-1-default"),
        (exempt, "vpc-2-exempt"),
        (compliant, "vpc-3-compliant"),
        (short, "vpc-4-short-retention"),
        (theirs, "fl-theirs"),
        (short_fl, "fl-short"),
    ];

    let out = flowguard(&m, &["plan", "--format", "json"]).role().run();
    out.expect(0);
    let mut report: Value = serde_json::from_str(&stable(&out.stdout, &ids)).unwrap();
    report["vpcs"]
        .as_array_mut()
        .unwrap()
        .sort_by_key(|v| v["vpc_id"].as_str().unwrap().to_owned());
    // The VPCs of one CreateFlowLogs batch come in the order of their (random) ids.
    sort_batch_actions(&mut report);
    // Key order depends on serde_json's features, which vary with what is built together.
    insta::with_settings!({ sort_maps => true }, {
        insta::assert_json_snapshot!("plan_report", report);
    });

    let out = flowguard(&m, &["apply", "--yes", "--format", "json"])
        .role()
        .run();
    out.expect(0);
    let mut text = stable(&out.stdout, &ids);
    for fl in seed.all_flow_logs().await {
        let id = fl.flow_log_id().unwrap();
        if !ids.iter().any(|(known, _)| known == id) {
            text = text.replace(id, "fl-created");
        }
    }
    let mut report: Value = serde_json::from_str(&text).unwrap();
    report["vpcs"]
        .as_array_mut()
        .unwrap()
        .sort_by_key(|v| v["vpc_id"].as_str().unwrap().to_owned());
    // The VPCs of one CreateFlowLogs batch come in the order of their (random) ids.
    sort_batch_actions(&mut report);
    // Key order depends on serde_json's features, which vary with what is built together.
    insta::with_settings!({ sort_maps => true }, {
        insta::assert_json_snapshot!("apply_report", report);
    });
}

// ---- Issue 11: setup-role, KMS per region, other accounts' events, shared VPCs ----

#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn setup_role_in_dry_run_creates_nothing() {
    let m = moto().await;
    let out = flowguard(&m, &["setup-role", "--dry-run"]).run();
    out.expect(0).stderr_has("would be created");
    assert!(out.stdout.trim().is_empty(), "{}", out.stdout);
    let exists = m
        .clients(REGION)
        .await
        .iam()
        .get_role()
        .role_name("flowguard-flow-logs-delivery")
        .send()
        .await;
    assert!(exists.is_err(), "no role was created");
}

#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn setup_role_leaves_a_differing_role_alone_unless_forced() {
    let m = moto().await;
    // Someone's role of that name, trusting another service.
    let iam = m.clients(REGION).await.iam().clone();
    let theirs = json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]
    })
    .to_string();
    iam.create_role()
        .role_name("flowguard-flow-logs-delivery")
        .assume_role_policy_document(&theirs)
        .send()
        .await
        .unwrap();
    let trust = || async {
        let role = iam
            .get_role()
            .role_name("flowguard-flow-logs-delivery")
            .send()
            .await
            .unwrap();
        let doc = role
            .role()
            .unwrap()
            .assume_role_policy_document()
            .unwrap()
            .to_owned();
        flowguard_tests::percent_decode(&doc)
    };

    let out = flowguard(&m, &["setup-role"]).run();
    out.expect(1).stderr_has("differs").stderr_has("--force");
    assert!(trust().await.contains("ec2.amazonaws.com"), "left alone");

    flowguard(&m, &["setup-role", "--force", "--dry-run"])
        .run()
        .expect(1)
        .stderr_has("dry run");
    assert!(
        trust().await.contains("ec2.amazonaws.com"),
        "dry run changes nothing"
    );

    let out = flowguard(&m, &["setup-role", "--force"]).run();
    out.expect(0).stderr_has("overwrote");
    assert!(trust().await.contains("vpc-flow-logs.amazonaws.com"));
    flowguard(&m, &["setup-role"])
        .run()
        .expect(0)
        .stderr_has("matches");
}

/// Sorts the actions of each run of same-kind actions by target, keeping the order of kinds.
fn sort_batch_actions(report: &mut Value) {
    let actions = report["actions"].as_array_mut().unwrap();
    actions.sort_by_key(|a| {
        let rank = match a["action"].as_str().unwrap() {
            "create_log_group" => 0,
            "put_retention_policy" => 1,
            "delete_flow_logs" => 2,
            _ => 3,
        };
        (rank, a["target"].as_str().unwrap().to_owned())
    });
}

#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn a_kms_key_of_another_region_is_refused_at_start_up_and_a_template_is_not() {
    let m = moto().await;
    Seed::new(&m.clients(REGION).await).vpc().await;
    let literal = format!("arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd");
    let out = flowguard(&m, &["audit", "--region", REGION, "--region", "eu-west-1"])
        .env("FLOWGUARD_KMS_KEY_ARN", &literal)
        .run();
    out.expect(2)
        .stderr_has("FLOWGUARD_KMS_KEY_ARN")
        .stderr_has("eu-west-1");
    let out = flowguard(&m, &["audit", "--region", REGION, "--region", "eu-west-1"])
        .env(
            "FLOWGUARD_KMS_KEY_ARN",
            "arn:aws:kms:{region}:{account_id}:key/mrk-1234abcd",
        )
        .run();
    assert_eq!(
        out.code, 1,
        "audited (not compliant), not refused: {}",
        out.stderr
    );
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

#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn an_audit_with_a_shared_vpc_passes_once_the_owned_ones_comply() {
    use flowguard_tests::proxy::{AwsRules, FaultProxy};
    let m = moto().await;
    create_role(&m).await;
    let seed = Seed::new(&m.clients(REGION).await);
    let shared = seed.vpc().await;
    let proxy = FaultProxy::with_aws_rules(
        &m.url,
        AwsRules {
            shared_vpcs: [(shared.clone(), "210987654321".to_owned())].into(),
            ..AwsRules::default()
        },
    );
    flowguard(&m, &["apply", "--yes"])
        .role()
        .env("AWS_ENDPOINT_URL", &proxy.url)
        .run()
        .expect(0);
    let out = flowguard(&m, &["audit", "--format", "json"])
        .env("AWS_ENDPOINT_URL", &proxy.url)
        .run();
    out.expect(0);
    let report = out.json();
    let line = report["vpcs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["vpc_id"] == shared.as_str())
        .unwrap()
        .clone();
    assert_eq!(line["status"], "not_owned");
    assert_eq!(line["owner_id"], "210987654321");
    assert_eq!(proxy.refused(), [], "the shared VPC was never sent to EC2");
}

/// An organization in moto (the management account is moto's default one, the caller) with
/// two member accounts, `a` in the OU `unit` and `b` at the root, each with a VPC of its own
/// (and moto's default VPC) without a flow log.
struct Members {
    a: String,
    b: String,
    unit: String,
    vpc_a: String,
    vpc_b: String,
}

/// The clients of `account` through the member role, as the CLI gets them.
async fn member_seed(m: &Moto, account: &str) -> Seed {
    let access = flowguard_aws::organization::MemberAccess::new(
        m.config(REGION).await,
        ACCOUNT,
        "flowguard-member",
        None,
        flowguard_aws::organization::session_name("cli-test"),
    )
    .unwrap();
    let config = access.config(account, REGION).await.unwrap();
    Seed::new(&flowguard_aws::Clients::new(&config))
}

async fn members(m: &Moto) -> Members {
    use flowguard_tests::organizations::{create_account, create_organization, create_unit};
    let client = aws_sdk_organizations::Client::new(&m.config(REGION).await);
    let root = create_organization(&client).await;
    let unit = create_unit(&client, &root, "workloads").await;
    let ids = [
        create_account(&client, &root, "member-a", Some(&unit)).await,
        create_account(&client, &root, "member-b", None).await,
    ];
    let vpc_a = member_seed(m, &ids[0]).await.vpc().await;
    let vpc_b = member_seed(m, &ids[1]).await.vpc().await;
    Members {
        a: ids[0].clone(),
        b: ids[1].clone(),
        unit,
        vpc_a,
        vpc_b,
    }
}

/// The (account, VPC, status) of every VPC of an organization report.
fn org_statuses(report: &Value) -> Vec<(String, String, String)> {
    let mut found = Vec::new();
    for run in report["accounts"].as_array().unwrap() {
        if run["status"] != "ok" {
            continue;
        }
        for (vpc, status) in statuses(&run["report"]) {
            found.push((run["account"].as_str().unwrap().to_owned(), vpc, status));
        }
    }
    found
}

/// The (account, status) of every run of an organization report, sorted.
fn accounts_of(report: &Value) -> Vec<(String, String)> {
    let mut runs: Vec<(String, String)> = report["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|run| {
            (
                run["account"].as_str().unwrap().to_owned(),
                run["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    runs.sort();
    runs
}

/// `(account, status)` pairs, sorted as [`accounts_of`] gives them.
fn runs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut runs: Vec<(String, String)> = expected
        .iter()
        .map(|(a, s)| ((*a).to_owned(), (*s).to_owned()))
        .collect();
    runs.sort();
    runs
}

#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn organization_audit_then_apply_covers_each_member_account() {
    let m = moto().await;
    let org = members(&m).await;
    let (a, b) = (org.a.as_str(), org.b.as_str());
    let listed = ["--account", a, "--account", b, "--role", "flowguard-member"];

    let audit = flowguard(
        &m,
        &[&["audit", "--format", "json"][..], &listed[..]].concat(),
    )
    .run();
    audit.expect(1);
    let report = audit.json();
    assert_eq!(
        accounts_of(&report),
        runs(&[(a, "ok"), (b, "ok")]),
        "{report}"
    );
    let found = org_statuses(&report);
    assert!(
        found.iter().all(|(.., s)| s == "would_remediate"),
        "{report}"
    );
    assert!(found.contains(&(
        a.to_owned(),
        org.vpc_a.clone(),
        "would_remediate".to_owned()
    )));
    assert!(found.contains(&(
        b.to_owned(),
        org.vpc_b.clone(),
        "would_remediate".to_owned()
    )));
    assert_eq!(report["summary"]["accounts"]["ok"], 2);
    assert_eq!(report["dry_run"], true);

    // The table: an account column, one row per VPC, the summary over both accounts.
    let table = flowguard(&m, &[&["audit"][..], &listed[..]].concat()).run();
    table.expect(1);
    let header = table.stdout.lines().nth(1).unwrap();
    assert!(header.contains("account"), "{}", table.stdout);
    for (account, vpc) in [(a, &org.vpc_a), (b, &org.vpc_b)] {
        let row = table
            .stdout
            .lines()
            .find(|l| l.contains(vpc.as_str()))
            .unwrap();
        assert!(
            row.contains(account) && row.contains("NOT COMPLIANT"),
            "{}",
            table.stdout
        );
    }

    // Nothing was changed in the hub: its own VPCs are not in scope.
    let hub = Seed::new(&m.clients(REGION).await);
    assert!(hub.all_flow_logs().await.is_empty());

    let apply = flowguard(
        &m,
        &[
            "apply",
            "--yes",
            "--format",
            "json",
            "--account",
            a,
            "--account",
            b,
        ],
    )
    .run();
    apply.expect(0);
    let report = apply.json();
    assert_eq!(report["dry_run"], false);
    let found = org_statuses(&report);
    assert!(found.iter().all(|(.., s)| s == "remediated"), "{report}");
    for (account, vpc) in [(a, &org.vpc_a), (b, &org.vpc_b)] {
        let seed = member_seed(&m, account).await;
        let flow_logs = seed.flow_logs_of(vpc).await;
        assert_eq!(flow_logs.len(), 1, "{account} {vpc}");
        assert_eq!(flow_logs[0].log_group_name(), Some(MANAGED_GROUP));
        let role = format!("arn:aws:iam::{account}:role/flowguard-delivery");
        assert_eq!(
            flow_logs[0].deliver_logs_permission_arn(),
            Some(role.as_str())
        );
        assert_eq!(seed.retention(MANAGED_GROUP).await, Some(Some(365)));
    }
    assert!(hub.all_flow_logs().await.is_empty(), "the hub is untouched");

    let audit = flowguard(
        &m,
        &[&["audit", "--format", "json"][..], &listed[..]].concat(),
    )
    .run();
    audit.expect(0);
    assert!(
        org_statuses(&audit.json())
            .iter()
            .all(|(.., s)| s == "compliant")
    );
}

#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn an_account_whose_role_is_refused_is_unreachable_and_the_others_are_done() {
    let m = moto().await;
    let org = members(&m).await;
    let proxy = FaultProxy::with_aws_rules(
        &m.url,
        AwsRules {
            refused_roles: [org.b.clone()].into(),
            ..AwsRules::default()
        },
    );
    let args = [
        "apply",
        "--yes",
        "--format",
        "json",
        "--account",
        &org.a,
        "--account",
        &org.b,
    ];
    let apply = flowguard(&m, &args)
        .env("AWS_ENDPOINT_URL", &proxy.url)
        .run();
    apply.expect(2).stderr_has("could not be checked");
    let report = apply.json();
    assert_eq!(
        accounts_of(&report),
        runs(&[(&org.a, "ok"), (&org.b, "unreachable")]),
        "{report}"
    );
    let refused = report["accounts"].as_array().unwrap().iter();
    let refused = refused.filter(|run| run["account"] == org.b.as_str());
    let error = refused
        .map(|run| run["error"].as_str().unwrap())
        .collect::<String>();
    assert!(
        error.contains("AssumeRole") && error.contains("AccessDenied"),
        "{error}"
    );
    assert_eq!(report["summary"]["accounts"]["unreachable"], 1);
    assert_eq!(
        member_seed(&m, &org.a)
            .await
            .flow_logs_of(&org.vpc_a)
            .await
            .len(),
        1,
        "the reachable account is remediated"
    );
    assert!(
        member_seed(&m, &org.b)
            .await
            .flow_logs_of(&org.vpc_b)
            .await
            .is_empty()
    );

    // The table says which account could not be checked, and why.
    let table = flowguard(&m, &["audit", "--account", &org.a, "--account", &org.b])
        .env("AWS_ENDPOINT_URL", &proxy.url)
        .run();
    table.expect(2);
    let line = format!("UNREACHABLE: account {} in {REGION}: ", org.b);
    assert!(table.stdout.contains(&line), "{}", table.stdout);
    assert!(table.stdout.contains(&org.vpc_a), "{}", table.stdout);
}

#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn organization_scope_follows_the_organizational_unit_and_the_exclusions() {
    let m = moto().await;
    let org = members(&m).await;

    let audit = flowguard(
        &m,
        &[
            "audit",
            "--format",
            "json",
            "--organization",
            "--ou",
            &org.unit,
        ],
    )
    .run();
    audit.expect(1);
    let report = audit.json();
    assert_eq!(
        accounts_of(&report),
        [(org.a.clone(), "ok".to_owned())],
        "{report}"
    );

    // The whole organization: the management account (the caller) and both members.
    let audit = flowguard(&m, &["audit", "--format", "json", "--organization"]).run();
    let accounts: Vec<String> = accounts_of(&audit.json())
        .into_iter()
        .map(|(a, _)| a)
        .collect();
    let mut every = vec![ACCOUNT.to_owned(), org.a.clone(), org.b.clone()];
    every.sort();
    assert_eq!(accounts, every);

    let audit = flowguard(
        &m,
        &[
            "audit",
            "--format",
            "json",
            "--organization",
            "--exclude-account",
            ACCOUNT,
            "--exclude-account",
            &org.a,
        ],
    )
    .run();
    assert_eq!(
        accounts_of(&audit.json()),
        [(org.b.clone(), "ok".to_owned())]
    );

    // The variables do the same as the flags.
    let audit = flowguard(&m, &["audit", "--format", "json"])
        .env("FLOWGUARD_ORGANIZATION", "true")
        .env("FLOWGUARD_ORGANIZATIONAL_UNITS", &org.unit)
        .run();
    assert_eq!(
        accounts_of(&audit.json()),
        [(org.a.clone(), "ok".to_owned())]
    );
}

#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn bad_organization_flags_name_the_variable_and_exit_2() {
    let m = moto().await;
    for (args, variable) in [
        (vec!["audit", "--account", "123"], "FLOWGUARD_ACCOUNTS"),
        (
            vec!["plan", "--organization", "--account", "111111111111"],
            "FLOWGUARD_ACCOUNTS",
        ),
        (
            vec!["audit", "--organization", "--ou", "ou-bad"],
            "FLOWGUARD_ORGANIZATIONAL_UNITS",
        ),
        (
            vec![
                "apply",
                "--yes",
                "--account",
                "111111111111",
                "--concurrency",
                "0",
            ],
            "FLOWGUARD_CONCURRENCY",
        ),
        (
            vec!["audit", "--role", "flowguard-member"],
            "FLOWGUARD_MEMBER_ROLE",
        ),
    ] {
        let out = flowguard(&m, &args).run();
        out.expect(2).stderr_has(variable);
        assert_eq!(out.stdout, "", "{args:?}");
        assert_eq!(out.stderr.lines().count(), 1, "{args:?}: {}", out.stderr);
    }
    // One account's delivery role for every account: refused before any AWS call.
    let out = flowguard(&m, &["apply", "--yes", "--account", "111111111111"])
        .env(
            "FLOWGUARD_DELIVERY_ROLE_ARN",
            "arn:aws:iam::222222222222:role/flowguard-delivery",
        )
        .run();
    out.expect(2).stderr_has("FLOWGUARD_DELIVERY_ROLE_ARN");
    assert!(out.stderr.contains("{account_id}"), "{}", out.stderr);
    assert_eq!(out.stdout, "");
}

/// `flowguard audit --format asff`: what it prints, Security Hub's `BatchImportFindings`
/// takes as it is (moto's Security Hub), and `GetFindings` reads it back, one finding per VPC
/// with the compliance status of flowguard's verdict.
#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn the_asff_export_imports_into_security_hub_and_reads_back() {
    use aws_sdk_securityhub::types::AwsSecurityFinding;
    let m = moto().await;
    let seed = Seed::new(&m.clients(REGION).await);
    let bare = seed.vpc().await;
    seed.log_group(MANAGED_GROUP, Some(365)).await;
    let logged = seed.vpc().await;
    seed.foreign_flow_log(
        &logged,
        aws_sdk_ec2::types::TrafficType::Reject,
        MANAGED_GROUP,
    )
    .await;

    let out = flowguard(&m, &["audit", "--format", "asff"]).run();
    out.expect(1);
    let findings = out.json();
    let findings = findings.as_array().unwrap();
    assert_eq!(findings.len(), 3, "one per VPC (moto's default VPC too)");

    let hub = aws_sdk_securityhub::Client::new(&m.config(REGION).await);
    // The SDK's own JSON shape of a finding is not public: import through the wire format,
    // as `aws securityhub batch-import-findings --findings file://…` does.
    let imported: Vec<AwsSecurityFinding> = findings.iter().map(asff_finding).collect();
    let answer = hub
        .batch_import_findings()
        .set_findings(Some(imported))
        .send()
        .await
        .unwrap();
    assert_eq!(
        (answer.success_count(), answer.failed_count()),
        (Some(3), Some(0))
    );

    let back = hub.get_findings().send().await.unwrap();
    let status = |vpc: &str| {
        back.findings()
            .iter()
            .find(|f| {
                f.resources()
                    .iter()
                    .any(|r| r.id().is_some_and(|id| id.ends_with(vpc)))
            })
            .and_then(|f| f.compliance())
            .and_then(|c| c.status())
            .map(|s| s.as_str().to_owned())
    };
    assert_eq!(status(&bare).as_deref(), Some("FAILED"));
    assert_eq!(status(&logged).as_deref(), Some("PASSED"));
}

/// One ASFF finding of the export, as the SDK type (the fields BatchImportFindings requires,
/// and the compliance status the test reads back).
fn asff_finding(f: &Value) -> aws_sdk_securityhub::types::AwsSecurityFinding {
    use aws_sdk_securityhub::types::{
        AwsSecurityFinding, Compliance, ComplianceStatus, Resource, Severity, SeverityLabel,
    };
    let s = |key: &str| {
        f[key]
            .as_str()
            .unwrap_or_else(|| panic!("{key} in {f}"))
            .to_owned()
    };
    let resource = &f["Resources"][0];
    AwsSecurityFinding::builder()
        .schema_version(s("SchemaVersion"))
        .id(s("Id"))
        .product_arn(s("ProductArn"))
        .generator_id(s("GeneratorId"))
        .aws_account_id(s("AwsAccountId"))
        .set_types(Some(
            f["Types"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t.as_str().unwrap().to_owned())
                .collect(),
        ))
        .created_at(s("CreatedAt"))
        .updated_at(s("UpdatedAt"))
        .severity(
            Severity::builder()
                .label(SeverityLabel::from(
                    f["Severity"]["Label"].as_str().unwrap(),
                ))
                .build(),
        )
        .title(s("Title"))
        .description(s("Description"))
        .resources(
            Resource::builder()
                .r#type(resource["Type"].as_str().unwrap())
                .id(resource["Id"].as_str().unwrap())
                .build(),
        )
        .compliance(
            Compliance::builder()
                .status(ComplianceStatus::from(
                    f["Compliance"]["Status"].as_str().unwrap(),
                ))
                .build(),
        )
        .build()
}

#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn the_csv_and_ocsf_exports_have_one_finding_per_vpc() {
    let m = moto().await;
    let seed = Seed::new(&m.clients(REGION).await);
    let vpc = seed.vpc().await;

    let csv = flowguard(&m, &["audit", "--format", "csv"]).run();
    csv.expect(1);
    let lines: Vec<&str> = csv.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "a header and two VPCs:\n{}", csv.stdout);
    assert!(
        lines
            .iter()
            .any(|l| l.contains(&vpc) && l.contains("FAILED")),
        "{}",
        csv.stdout
    );

    let ocsf = flowguard(&m, &["audit", "--format", "ocsf"]).run();
    ocsf.expect(1);
    let events = ocsf.json();
    let events = events.as_array().unwrap();
    assert_eq!(events.len(), 2);
    assert!(
        events.iter().all(|e| e["class_uid"] == 2003),
        "{}",
        ocsf.stdout
    );
}
