//! Organization mode: `audit` and `apply` over member accounts, an unreachable account, the
//! scope (organizational unit, exclusions) and bad organization flags.

use super::{MANAGED_GROUP, flowguard, statuses};
use flowguard_tests::proxy::{AwsRules, FaultProxy};
use flowguard_tests::{ACCOUNT, Moto, REGION, Seed, moto};
use serde_json::Value;

/// An organization in moto (the management account is moto's default one, the caller) with
/// two member accounts, `a` in the OU `unit` and `b` at the root, each with its delivery role
/// and a VPC of its own (and moto's default VPC) without a flow log.
pub(super) struct Members {
    pub(super) a: String,
    pub(super) b: String,
    unit: String,
    vpc_a: String,
    vpc_b: String,
}

/// The seeding clients of `account` through the member role, as the CLI gets them.
async fn member_seed(m: &Moto, account: &str) -> Seed {
    Seed::new(&member_clients(m, account).await)
}

pub(super) async fn members(m: &Moto) -> Members {
    use flowguard_tests::organizations::{create_account, create_organization, create_unit};
    let client = aws_sdk_organizations::Client::new(&m.config(REGION).await);
    let root = create_organization(&client).await;
    let unit = create_unit(&client, &root, "workloads").await;
    let ids = [
        create_account(&client, &root, "member-a", Some(&unit)).await,
        create_account(&client, &root, "member-b", None).await,
    ];
    flowguard_tests::member_delivery_roles(m, &[&ids[0], &ids[1]]).await;
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

/// `apply --yes --format json` over both member accounts, then `extra`.
fn apply_to_both<'a>(org: &'a Members, extra: &[&'a str]) -> Vec<&'a str> {
    let both = ["--account", org.a.as_str(), "--account", org.b.as_str()];
    [&["apply", "--yes", "--format", "json"][..], &both, extra].concat()
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
    let header = table.stdout.lines().next().unwrap();
    assert!(header.starts_with("account"), "{}", table.stdout);
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

    // Without a terminal, a line per finished account×region run on stderr; none with --quiet.
    for account in [a, b] {
        let line = format!("{account} {REGION}: 2 VPCs, 2 not compliant");
        assert!(
            table
                .stderr
                .lines()
                .any(|l| l.starts_with("[") && l.ends_with(&line)),
            "{line:?} in\n{}",
            table.stderr
        );
    }
    assert!(table.stderr.contains("[2/2] "), "{}", table.stderr);
    let quiet = flowguard(&m, &[&["audit", "--quiet"][..], &listed[..]].concat()).run();
    quiet.expect(1);
    assert_eq!(quiet.stderr, "");
    assert_eq!(quiet.stdout, table.stdout);

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
    let apply = flowguard(&m, &apply_to_both(&org, &[]))
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
    let unreachable = table
        .stdout
        .lines()
        .find(|l| l.starts_with(org.b.as_str()) && l.contains("UNREACHABLE"))
        .unwrap_or_else(|| panic!("no UNREACHABLE line for {}:\n{}", org.b, table.stdout));
    assert!(
        unreachable.contains(&format!("UNREACHABLE in {REGION} (AccessDenied): ")),
        "{}",
        table.stdout
    );
    assert!(table.stdout.contains(&org.vpc_a), "{}", table.stdout);
    let line = format!("{} {REGION}: unreachable: AccessDenied", org.b);
    assert!(
        table.stderr.lines().any(|l| l.ends_with(&line)),
        "{line:?} in\n{}",
        table.stderr
    );
}

#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn organization_scope_follows_the_organizational_unit_and_the_exclusions() {
    let m = moto().await;
    let org = members(&m).await;

    const AUDIT: [&str; 4] = ["audit", "--format", "json", "--organization"];
    let audit = flowguard(&m, &[&AUDIT[..], &["--ou", &org.unit]].concat()).run();
    audit.expect(1);
    let report = audit.json();
    assert_eq!(
        accounts_of(&report),
        [(org.a.clone(), "ok".to_owned())],
        "{report}"
    );

    // The whole organization: the management account (the caller) and both members.
    let audit = flowguard(&m, &AUDIT).run();
    let accounts: Vec<String> = accounts_of(&audit.json())
        .into_iter()
        .map(|(a, _)| a)
        .collect();
    let mut every = vec![ACCOUNT.to_owned(), org.a.clone(), org.b.clone()];
    every.sort();
    assert_eq!(accounts, every);

    let excluded = ["--exclude-account", ACCOUNT, "--exclude-account", &org.a];
    let audit = flowguard(&m, &[&AUDIT[..], &excluded[..]].concat()).run();
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
    // Each error names the flag typed (and the variable, when it is the variable that is set).
    for (args, flag) in [
        (vec!["audit", "--account", "123"], "--account \"123\""),
        (
            vec!["plan", "--organization", "--account", "111111111111"],
            "--account",
        ),
        (
            vec!["audit", "--organization", "--ou", "ou-bad"],
            "--ou \"ou-bad\"",
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
            "--concurrency \"0\"",
        ),
        // Single-account mode has no member role: it says how to turn organization mode on,
        // or how to act in this account through another role.
        (
            vec!["audit", "--role", "flowguard-member"],
            "--role \"flowguard-member\": only in organization mode: add --account ID",
        ),
    ] {
        let out = flowguard(&m, &args).run();
        out.expect(2).stderr_has(flag);
        assert_eq!(out.stdout, "", "{args:?}");
        assert_eq!(out.stderr.lines().count(), 1, "{args:?}: {}", out.stderr);
    }
    flowguard(&m, &["audit"])
        .env("FLOWGUARD_MEMBER_ROLE", "flowguard-member")
        .run()
        .expect(2)
        .stderr_has("FLOWGUARD_MEMBER_ROLE=\"flowguard-member\": only in organization mode");
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

/// `--organization --all-regions` sweeps each member in its own enabled regions (issue 26):
/// a member that has not opted in to a region is not swept there, whatever the caller has.
#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn all_regions_are_each_members_own_enabled_regions() {
    let m = moto().await;
    let org = members(&m).await;
    let enabled = |regions: &[&str]| regions.iter().map(|r| (*r).to_owned()).collect();
    let proxy = FaultProxy::with_aws_rules(
        &m.url,
        AwsRules {
            regions_of: [
                (org.a.clone(), enabled(&[REGION, "eu-west-1"])),
                (org.b.clone(), enabled(&[REGION])),
            ]
            .into(),
            ..AwsRules::default()
        },
    );
    let args = [
        "--organization",
        "--all-regions",
        "--exclude-account",
        ACCOUNT,
    ];
    let audit = flowguard(&m, &[&["audit", "--format", "json"][..], &args].concat())
        .env("AWS_ENDPOINT_URL", &proxy.url)
        .run();
    audit.expect(1);
    let report = audit.json();
    let mut runs: Vec<(String, String)> = report["accounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|run| {
            let field = |name: &str| run[name].as_str().unwrap().to_owned();
            (field("account"), field("region"))
        })
        .collect();
    runs.sort();
    let mut expected = vec![
        (org.a.clone(), "eu-west-1".to_owned()),
        (org.a.clone(), REGION.to_owned()),
        (org.b.clone(), REGION.to_owned()),
    ];
    expected.sort();
    assert_eq!(runs, expected, "{report}");
    assert_eq!(report["summary"]["accounts"]["unreachable"], 0, "{report}");
}

#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn an_account_without_its_delivery_role_fails_clearly_and_gets_no_flow_log() {
    let m = moto().await;
    let org = members(&m).await;
    // b's spoke never made its delivery role: EC2 would take flow logs naming it, and they
    // would never deliver.
    member_clients(&m, &org.b)
        .await
        .iam()
        .delete_role()
        .role_name("flowguard-delivery")
        .send()
        .await
        .unwrap();
    let proxy = FaultProxy::start(&m.url);
    let args = apply_to_both(&org, &["--region", REGION, "--region", "eu-west-1"]);
    let apply = flowguard(&m, &args)
        .env("AWS_ENDPOINT_URL", &proxy.url)
        .run();
    apply.expect(1);
    let report = apply.json();
    let role_b = format!("arn:aws:iam::{}:role/flowguard-delivery", org.b);
    for (account, _, status) in org_statuses(&report) {
        if account == org.a {
            assert_eq!(status, "remediated", "{report}");
        } else {
            assert_eq!(status, "failed", "{report}");
        }
    }
    // Each of b's VPCs says why, naming the role; not retryable: it waits for the role.
    let runs_of_b = report["accounts"].as_array().unwrap().iter();
    let runs_of_b: Vec<&Value> = runs_of_b
        .filter(|r| r["account"] == org.b.as_str())
        .collect();
    assert_eq!(runs_of_b.len(), 2, "{report}");
    for run in runs_of_b {
        for action in run["report"]["actions"].as_array().unwrap() {
            if action["action"] == "create_flow_logs" {
                assert_eq!(action["error_code"], "NoSuchEntity", "{action}");
                assert_eq!(action["retryable"], false, "{action}");
                let message = action["error_message"].as_str().unwrap();
                assert!(message.contains(&role_b), "{message}");
            }
        }
    }
    assert!(
        member_seed(&m, &org.b)
            .await
            .all_flow_logs()
            .await
            .is_empty(),
        "no flow log that would never deliver"
    );
    assert_eq!(
        member_seed(&m, &org.a)
            .await
            .flow_logs_of(&org.vpc_a)
            .await
            .len(),
        1
    );
    // Once per account, whatever the number of regions.
    let get_roles = proxy.log().iter().filter(|(op, _)| op == "GetRole").count();
    assert_eq!(get_roles, 2, "{:?}", proxy.log());
}

/// The clients of `account` through the member role, as the CLI gets them.
async fn member_clients(m: &Moto, account: &str) -> flowguard_aws::Clients {
    let access = flowguard_aws::organization::MemberAccess::new(
        m.config(REGION).await,
        ACCOUNT,
        "flowguard-member",
        None,
        flowguard_aws::organization::session_name("cli-test"),
    )
    .unwrap();
    flowguard_aws::Clients::new(&access.config(account, REGION).await.unwrap())
}

#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn a_kms_alias_names_each_members_own_key() {
    let m = moto().await;
    let org = members(&m).await;
    // Each member has its own key behind the same alias, as an operator's StackSet makes them.
    let mut keys = Vec::new();
    for account in [&org.a, &org.b] {
        let kms = member_clients(&m, account).await.kms().clone();
        let key = kms.create_key().send().await.unwrap();
        let key = key.key_metadata().unwrap();
        kms.create_alias()
            .alias_name("alias/flowguard-logs")
            .target_key_id(key.key_id())
            .send()
            .await
            .unwrap();
        keys.push(key.arn().unwrap().to_owned());
    }
    let (a, b) = (org.a.as_str(), org.b.as_str());
    let key = ["--kms-key-arn", "alias/flowguard-logs"];
    let apply = [
        "apply",
        "--yes",
        "--format",
        "json",
        "--account",
        a,
        "--account",
        b,
    ];
    flowguard(&m, &[&apply[..], &key[..]].concat())
        .run()
        .expect(0);
    for (account, key) in [a, b].into_iter().zip(&keys) {
        let logs = member_clients(&m, account).await.logs;
        let groups = logs
            .describe_log_groups()
            .log_group_name_prefix(MANAGED_GROUP)
            .send()
            .await
            .unwrap();
        let group = &groups.log_groups()[0];
        assert_eq!(group.kms_key_id(), Some(key.as_str()), "{account}");
    }

    // A key ARN with {account_id} names no key in a second account: refused before anything.
    flowguard_tests::reset(&m.url);
    let org = members(&m).await;
    let template = "arn:aws:kms:{region}:{account_id}:key/mrk-1234abcd";
    let refused = [
        "apply",
        "--yes",
        "--account",
        &org.a,
        "--kms-key-arn",
        template,
    ];
    flowguard(&m, &refused)
        .run()
        .expect(2)
        .stderr_has("--kms-key-arn")
        .stderr_has("alias/flowguard-logs");
    let seed = member_seed(&m, &org.a).await;
    assert!(seed.all_flow_logs().await.is_empty());
}
