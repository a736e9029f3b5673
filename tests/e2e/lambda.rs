//! End to end: the built Lambda binary under `cargo lambda watch` (the Lambda runtime API
//! emulator), invoked with real events, acting on moto server.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use flowguard_tests::processes::{KillOnDrop, LambdaEmulator};
use flowguard_tests::proxy::{AwsRules, FaultProxy};
use flowguard_tests::{
    Moto, REGION, Seed, create_vpc_event, delivery_role, fixture, moto, workspace_binary,
};
use serde_json::Value;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// `cargo lambda watch --only-lambda-apis` on a free port, its log in the temp directory.
fn watch() -> LambdaEmulator {
    static STARTED: AtomicUsize = AtomicUsize::new(0);
    let n = STARTED.fetch_add(1, Ordering::Relaxed);
    let log = std::env::temp_dir().join(format!("flowguard-watch-{}-{n}.log", std::process::id()));
    LambdaEmulator::start(&log)
        .unwrap_or_else(|e| panic!("{e}\n(is cargo-lambda installed? ./scripts/test installs it)"))
}

/// The function binary, polling the emulator's runtime API, with moto's environment.
fn function(m: &Moto, emulator: &LambdaEmulator, config: &[(&str, &str)]) -> KillOnDrop {
    let mut env = m.env();
    env.extend(config.iter().map(|(k, v)| (*k, (*v).to_owned())));
    emulator.start_function(&env, "e2e", None).unwrap()
}

/// Invokes the function through the emulator: (HTTP status, body).
fn invoke(emulator: &LambdaEmulator, function: &mut KillOnDrop, payload: &[u8]) -> (u16, String) {
    emulator.invoke(function, payload).unwrap()
}

fn invoke_json(emulator: &LambdaEmulator, function: &mut KillOnDrop, event: &Value) -> Value {
    let (status, body) = invoke(emulator, function, event.to_string().as_bytes());
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn the_lambda_remediates_restores_and_survives_garbage() {
    let m = moto().await;
    let seed = Seed::new(&m.clients(REGION).await);
    let role = delivery_role(&m, "flowguard-delivery").await;
    let watch = watch();
    let mut function = function(&m, &watch, &[("FLOWGUARD_DELIVERY_ROLE_ARN", &role)]);

    // CreateVpc → the flow log exists.
    let vpc = seed.vpc().await;
    let report = invoke_json(&watch, &mut function, &create_vpc_event(&vpc));
    assert_eq!(report["vpcs"][0]["status"], "remediated", "{report}");
    let flow_logs = seed.flow_logs_of(&vpc).await;
    assert_eq!(flow_logs.len(), 1);
    assert_eq!(seed.retention("/vpc/flow-logs").await, Some(Some(365)));

    // Someone deletes it → DeleteFlowLogs → restored.
    let id = flow_logs[0].flow_log_id().unwrap().to_owned();
    seed.delete_flow_log(&id).await;
    let event = flowguard_tests::delete_flow_logs_event(&id);
    let report = invoke_json(&watch, &mut function, &event);
    assert_eq!(report["trigger"]["kind"], "sweep");
    assert_eq!(seed.flow_logs_of(&vpc).await.len(), 1, "{report}");

    // Garbage → an error response; the function keeps serving.
    let (status, body) = invoke(&watch, &mut function, b"this is not json");
    assert_eq!(status, 500, "{body}");
    let (status, body) = invoke(&watch, &mut function, b"{}");
    assert_eq!(status, 500, "{body}");
    let error: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(error["errorType"], "flowguard.PermanentFailure");
    assert!(
        error["errorMessage"]
            .as_str()
            .unwrap()
            .contains("invalid input"),
        "{body}"
    );

    let report = invoke_json(&watch, &mut function, &fixture("scheduled_event.json"));
    assert_eq!(report["summary"]["vpcs"]["failed"], 0, "{report}");
    assert_eq!(report["summary"]["actions"]["failed"], 0);
}

#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn in_dry_run_nothing_changes() {
    let m = moto().await;
    let seed = Seed::new(&m.clients(REGION).await);
    let watch = watch();
    // No role at all: a dry run starts anyway and says so.
    let mut function = function(&m, &watch, &[("FLOWGUARD_DRY_RUN", "true")]);
    let vpc = seed.vpc().await;

    let report = invoke_json(&watch, &mut function, &create_vpc_event(&vpc));

    assert_eq!(report["dry_run"], true);
    assert_eq!(report["vpcs"][0]["status"], "would_remediate", "{report}");
    assert_eq!(report["actions"][0]["result"], "planned");
    assert!(
        report["warnings"]
            .to_string()
            .contains("FLOWGUARD_DELIVERY_ROLE_ARN"),
        "{report}"
    );
    assert!(seed.all_flow_logs().await.is_empty());
    assert_eq!(seed.retention("/vpc/flow-logs").await, None);
}

/// A configuration error fails the init with one clear message.
#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn a_bad_configuration_fails_the_init() {
    let m = moto().await;
    let role = delivery_role(&m, "flowguard-delivery").await;
    let cases: [(&[(&str, &str)], &str); 3] = [
        (
            &[
                ("FLOWGUARD_DELIVERY_ROLE_ARN", &role),
                ("FLOWGUARD_RETENTION_DAYS", "30"),
            ],
            "FLOWGUARD_RETENTION_DAYS=\"30\"",
        ),
        (&[], "FLOWGUARD_DELIVERY_ROLE_ARN"),
        (
            &[(
                "FLOWGUARD_DELIVERY_ROLE_ARN",
                "arn:aws:iam::123456789012:role/missing",
            )],
            "does not exist",
        ),
    ];
    for (config, needle) in cases {
        let output = Command::new(workspace_binary("flowguard-lambda"))
            .env_clear()
            .envs(m.env())
            .envs(config.iter().map(|(k, v)| (*k, *v)))
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(!output.status.success(), "{text}");
        assert!(text.contains(needle), "{needle:?} not in {text}");
        assert!(!text.contains("panicked"), "{text}");
    }
}

/// A member account's event, as the hub's bus delivers it: the envelope and the CloudTrail
/// record name the member account.
fn of_account(mut event: Value, account: &str) -> Value {
    event["account"] = account.into();
    event["detail"]["recipientAccountId"] = account.into();
    event
}

/// An organization in moto: its root, an OU `workloads` holding an account for each of
/// `names` (in that order), and a `sandbox` account outside the OU; and the member accounts'
/// seeding clients as the hub reaches them (moto lets the member role be assumed).
struct Organization {
    unit: String,
    members: Vec<String>,
    outside_unit: String,
    access: flowguard_aws::organization::MemberAccess,
}

async fn organization(m: &Moto, names: &[&str]) -> Organization {
    use flowguard_aws::organization::{MemberAccess, session_name};
    use flowguard_tests::organizations::{create_account, create_organization, create_unit};
    let organizations = aws_sdk_organizations::Client::new(&m.config(REGION).await);
    let root = create_organization(&organizations).await;
    let unit = create_unit(&organizations, &root, "workloads").await;
    let mut members = Vec::new();
    for name in names {
        members.push(create_account(&organizations, &root, name, Some(&unit)).await);
    }
    let outside_unit = create_account(&organizations, &root, "sandbox", None).await;
    let accounts: Vec<&str> = members
        .iter()
        .chain([&outside_unit])
        .map(String::as_str)
        .collect();
    flowguard_tests::member_delivery_roles(m, &accounts).await;
    let access = MemberAccess::new(
        m.config(REGION).await,
        flowguard_tests::ACCOUNT,
        "flowguard-member",
        None,
        session_name("e2e"),
    )
    .unwrap();
    Organization {
        unit,
        members,
        outside_unit,
        access,
    }
}

impl Organization {
    /// Seeding clients in `account`, through its member role.
    async fn seed(&self, account: &str) -> Seed {
        let config = self.access.config(account, REGION).await.unwrap();
        Seed::new(&flowguard_aws::Clients::new(&config))
    }
}

/// Organization mode, configured as the CDK hub configures it (the organization's accounts
/// under one OU, the hub's own account excluded): the function is the hub. An event is handled
/// in its own account (through the member role) when that account is in scope and ignored
/// otherwise; the schedule sweeps every account in scope.
#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn as_an_organization_hub_the_lambda_acts_in_the_events_account_only() {
    use flowguard_tests::ACCOUNT;
    let m = moto().await;
    let org = organization(&m, &["member-one", "member-two"]).await;
    let (unit, members, outside_unit) = (&org.unit, &org.members, &org.outside_unit);
    let mut seeds = Vec::new();
    for account in members.iter().chain([outside_unit]) {
        seeds.push(org.seed(account).await);
    }
    let (one, two, sandbox) = (&seeds[0], &seeds[1], &seeds[2]);
    let (vpc_one, vpc_two, vpc_sandbox) = (one.vpc().await, two.vpc().await, sandbox.vpc().await);
    let hub = Seed::new(&m.clients(REGION).await);
    let hub_vpc = hub.vpc().await;

    let watch = watch();
    let mut function = function(
        &m,
        &watch,
        &[
            ("FLOWGUARD_ORGANIZATION", "true"),
            ("FLOWGUARD_ORGANIZATIONAL_UNITS", unit),
            ("FLOWGUARD_EXCLUDE_ACCOUNTS", ACCOUNT),
            ("FLOWGUARD_MEMBER_ROLE", "flowguard-member"),
            ("FLOWGUARD_CONCURRENCY", "4"),
        ],
    );

    // CreateVpc of a member account: remediated there, and only there.
    let event = of_account(create_vpc_event(&vpc_one), &members[0]);
    let report = invoke_json(&watch, &mut function, &event);
    assert_eq!(report["account"], members[0].as_str(), "{report}");
    assert_eq!(report["vpcs"][0]["status"], "remediated", "{report}");
    let flow_logs = one.flow_logs_of(&vpc_one).await;
    assert_eq!(flow_logs.len(), 1);
    assert!(two.flow_logs_of(&vpc_two).await.is_empty());

    // Someone deletes it in the member account → DeleteFlowLogs → restored there.
    let id = flow_logs[0].flow_log_id().unwrap().to_owned();
    one.delete_flow_log(&id).await;
    let event = of_account(flowguard_tests::delete_flow_logs_event(&id), &members[0]);
    let report = invoke_json(&watch, &mut function, &event);
    assert_eq!(report["account"], members[0].as_str(), "{report}");
    assert_eq!(one.flow_logs_of(&vpc_one).await.len(), 1, "{report}");

    // Events of accounts out of scope: outside the organization, outside the OU, and the hub's
    // own (excluded). Each is ignored with its reason; nothing changes anywhere.
    for (account, why) in [
        ("999988887777", "not in flowguard's scope"),
        (outside_unit.as_str(), "not in flowguard's scope"),
        (ACCOUNT, "is excluded (FLOWGUARD_EXCLUDE_ACCOUNTS)"),
    ] {
        let event = of_account(create_vpc_event(&vpc_sandbox), account);
        let report = invoke_json(&watch, &mut function, &event);
        assert_eq!(report["trigger"]["kind"], "ignored", "{report}");
        let reason = report["trigger"]["reason"].as_str().unwrap();
        assert!(reason.contains(account) && reason.contains(why), "{report}");
    }
    assert!(sandbox.flow_logs_of(&vpc_sandbox).await.is_empty());
    assert!(hub.flow_logs_of(&hub_vpc).await.is_empty());
    assert!(two.flow_logs_of(&vpc_two).await.is_empty());

    // The schedule: every account in scope swept, and only those. The hub answers with the
    // organization's summary (each account's report is a log line of its own).
    let report = invoke_json(&watch, &mut function, &fixture("scheduled_event.json"));
    assert_eq!(report["summary"]["accounts"]["ok"], 2, "{report}");
    assert_eq!(report["summary"]["accounts"]["unreachable"], 0, "{report}");
    assert!(
        report.get("accounts").is_none(),
        "the summary only: {report}"
    );
    assert_eq!(two.flow_logs_of(&vpc_two).await.len(), 1, "{report}");
    assert_eq!(one.flow_logs_of(&vpc_one).await.len(), 1, "{report}");
    assert!(sandbox.flow_logs_of(&vpc_sandbox).await.is_empty());
    assert!(hub.flow_logs_of(&hub_vpc).await.is_empty());
}

/// A cold hub's first sweep lists the organization as it goes (26 accounts: two pages of
/// `ListAccounts`) and sweeps every account in scope; when the listing is denied, the sweep
/// fails the invocation, naming the call, and acts nowhere.
#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn a_cold_hub_sweeps_the_organization_as_it_lists_it() {
    use flowguard_tests::ACCOUNT;
    let m = moto().await;
    let names: Vec<String> = (1..=24).map(|i| format!("member-{i:02}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    organization(&m, &names).await;
    let hub = [
        ("FLOWGUARD_ORGANIZATION", "true"),
        ("FLOWGUARD_EXCLUDE_ACCOUNTS", ACCOUNT),
        ("FLOWGUARD_DRY_RUN", "true"),
        ("FLOWGUARD_CONCURRENCY", "8"),
    ];
    let watch = watch();
    let schedule = fixture("scheduled_event.json");
    let mut cold = function(&m, &watch, &hub);
    let report = invoke_json(&watch, &mut cold, &schedule);
    // The 24 members and the sandbox account; the hub's own is excluded.
    assert_eq!(report["summary"]["accounts"]["ok"], 25, "{report}");
    assert_eq!(report["summary"]["accounts"]["unreachable"], 0, "{report}");
    assert_eq!(report["warnings"], serde_json::json!([]), "{report}");
    drop(cold);

    let denied = FaultProxy::with_aws_rules(
        &m.url,
        AwsRules {
            denied_operations: ["ListAccounts".to_owned()].into(),
            ..AwsRules::default()
        },
    );
    let through = [hub.as_slice(), &[("AWS_ENDPOINT_URL", denied.url.as_str())]].concat();
    let mut cold = function(&m, &watch, &through);
    let (status, body) = invoke(&watch, &mut cold, schedule.to_string().as_bytes());
    assert_eq!(status, 500, "{body}");
    let error: Value = serde_json::from_str(&body).unwrap();
    let message = error["errorMessage"].as_str().unwrap();
    assert!(
        message.contains("ListAccounts") && message.contains("AccessDenied"),
        "{body}"
    );
    assert_eq!(
        denied.refused(),
        [(
            "ListAccounts".to_owned(),
            "AccessDeniedException".to_owned()
        )]
    );
}

/// `flowguard handle-event`, configured as the hub, replays a member's event exactly as the hub
/// handles it: the same report, field for field (both in dry run, so that neither changes what
/// the other reads).
#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn handle_event_replays_a_hub_event_with_the_hubs_report() {
    use flowguard_tests::ACCOUNT;
    let m = moto().await;
    let org = organization(&m, &["member-one"]).await;
    let (unit, member) = (&org.unit, &org.members[0]);
    let seed = org.seed(member).await;
    let vpc = seed.vpc().await;
    let hub = [
        ("FLOWGUARD_ORGANIZATION", "true"),
        ("FLOWGUARD_ORGANIZATIONAL_UNITS", unit.as_str()),
        ("FLOWGUARD_EXCLUDE_ACCOUNTS", ACCOUNT),
        ("FLOWGUARD_DRY_RUN", "true"),
    ];
    let event = of_account(create_vpc_event(&vpc), member);

    let watch = watch();
    let mut function = function(&m, &watch, &hub);
    let from_hub = invoke_json(&watch, &mut function, &event);
    assert_eq!(from_hub["account"], member.as_str(), "{from_hub}");
    assert_eq!(
        from_hub["vpcs"][0]["status"], "would_remediate",
        "{from_hub}"
    );

    let output = Command::new(workspace_binary("flowguard"))
        .env_clear()
        .envs(m.env())
        .envs(hub)
        .args(["handle-event", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(event.to_string().as_bytes())?;
            child.wait_with_output()
        })
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let replayed: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(replayed, from_hub, "stderr: {stderr}");
    assert!(
        seed.flow_logs_of(&vpc).await.is_empty(),
        "dry runs change nothing"
    );
}
