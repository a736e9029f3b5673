//! The default table at 80 and 120 columns (`COLUMNS`: stdout is not a terminal), in one
//! account and in an organization, pinned by snapshots. moto's ids are random: each stands in
//! as an id of the same length (`vpc-00000000000000001`, `111111111111`), also where the table
//! cut it with `…`, so that the columns line up as they did. The order of the rows follows the
//! real ids: it is checked on the real output, and the snapshot sorts each block's rows.

use super::organization::members;
use super::{create_role, flowguard};
use flowguard_tests::proxy::{AwsRules, FaultProxy};
use flowguard_tests::{ACCOUNT, REGION, Seed, moto};
use serde_json::Value;

/// An id of the same length as `id` that says `n`: its prefix (`vpc-`, `fl-`) then `n` in
/// digits, or for an account `n` repeated (`222222222222`).
fn stand_in(id: &str, n: usize) -> String {
    match id.find('-') {
        Some(dash) => format!("{}{n:0>width$}", &id[..=dash], width = id.len() - dash - 1),
        None => n
            .to_string()
            .repeat(id.len())
            .chars()
            .take(id.len())
            .collect(),
    }
}

/// `text` with each id replaced by its stand-in, also where the table cut it with `…`.
fn replaced(text: &str, pairs: &[(String, String)]) -> String {
    let mut text = text.to_owned();
    for (id, stand_in) in pairs {
        text = text.replace(id.as_str(), stand_in);
    }
    let longest = pairs.iter().map(|(id, _)| id.len()).max().unwrap_or(0);
    for keep in (4..longest).rev() {
        for (id, stand_in) in pairs.iter().filter(|(id, _)| keep < id.len()) {
            let cut = format!("{}…", &id[..keep]);
            text = text.replace(&cut, &format!("{}…", &stand_in[..keep]));
        }
    }
    text
}

/// The rows of the table's first block (up to the first blank line or the summary line) in
/// the order printed, split into cells.
fn rows(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .skip(1)
        .take_while(|l| !l.is_empty() && !l.contains(" VPC(s) in "))
        .map(|l| l.split_whitespace().map(str::to_owned).collect())
        .collect()
}

/// `text` with the rows of each block (below its header line) sorted, the last line (the
/// summary) in place.
fn with_sorted_rows(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let (summary, lines) = lines.split_last().unwrap();
    let mut out = Vec::new();
    for block in lines.split(|l| l.is_empty()) {
        let (header, rows) = block.split_first().unwrap();
        let mut rows = rows.to_vec();
        rows.sort();
        out.push(header.to_string());
        out.extend(rows.iter().map(|r| r.to_string()));
        out.push(String::new());
    }
    out.pop();
    out.push(summary.to_string());
    out.join("\n")
}

/// Each line of `text` but the summary line is at most `columns` wide.
#[track_caller]
fn fits(text: &str, columns: &str) {
    let columns: usize = columns.parse().unwrap();
    for line in text.lines().filter(|l| !l.contains(" VPC(s) in ")) {
        assert!(line.chars().count() <= columns, "over {columns}: {line}");
    }
}

#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn one_accounts_table_fits_80_and_120_columns() {
    let m = moto().await;
    create_role(&m).await;
    let seed = Seed::new(&m.clients(REGION).await);
    let default_vpc = seed.vpc_ids().await.remove(0);
    let exempt = seed.vpc().await;
    seed.tag(&exempt, "flowguard:exempt", "true").await;
    let (compliant, theirs) = seed
        .vpc_logging_into(
            "/network/flow-logs",
            Some(400),
            aws_sdk_ec2::types::TrafficType::All,
        )
        .await;
    seed.tag(&compliant, "Name", "payments-prod").await;
    let (short, short_fl) = seed
        .vpc_logging_into(
            "/short/flow-logs",
            Some(30),
            aws_sdk_ec2::types::TrafficType::Reject,
        )
        .await;
    let pairs: Vec<(String, String)> = [
        (default_vpc, 1),
        (exempt, 2),
        (compliant, 3),
        (short, 4),
        (theirs, 1),
        (short_fl, 2),
    ]
    .into_iter()
    .map(|(id, n)| {
        let stand_in = stand_in(&id, n);
        (id, stand_in)
    })
    .collect();
    for columns in ["80", "120"] {
        let out = flowguard(&m, &["audit"]).env("COLUMNS", columns).run();
        out.expect(1);
        fits(&out.stdout, columns);
        // Sorted by VPC id (one account, one region).
        let vpcs: Vec<String> = rows(&out.stdout).iter().map(|r| r[1].clone()).collect();
        assert!(vpcs.is_sorted(), "{}", out.stdout);
        let text = with_sorted_rows(&replaced(&out.stdout, &pairs));
        insta::assert_snapshot!(format!("one_account_{columns}"), text);
    }
}

#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn an_organizations_table_fits_80_and_120_columns() {
    let m = moto().await;
    let org = members(&m).await;
    // The second member refuses the hub: its run is unreachable.
    let proxy = FaultProxy::with_aws_rules(
        &m.url,
        AwsRules {
            refused_roles: [org.b.clone()].into(),
            ..AwsRules::default()
        },
    );
    let accounts = [
        "--account",
        ACCOUNT,
        "--account",
        &org.a,
        "--account",
        &org.b,
    ];
    let json = flowguard(
        &m,
        &[&["audit", "--format", "json"][..], &accounts].concat(),
    )
    .env("AWS_ENDPOINT_URL", &proxy.url)
    .run();
    // The caller's account is 1, the members 2 and 3; each account's VPCs n1, n2, … (all
    // alike here: moto's default VPC and one without a flow log).
    let runs = json.expect(2).json();
    let mut pairs = Vec::new();
    for (n, account) in [ACCOUNT, &org.a, &org.b].into_iter().enumerate() {
        pairs.push((account.to_owned(), stand_in(account, n + 1)));
        let run = runs["accounts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|run| run["account"] == account)
            .cloned()
            .unwrap_or(Value::Null);
        let mut vpcs: Vec<String> = run["report"]["vpcs"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|vpc| vpc["vpc_id"].as_str().unwrap().to_owned())
            .collect();
        vpcs.sort();
        for (i, vpc) in vpcs.into_iter().enumerate() {
            let stand_in = stand_in(&vpc, (n + 1) * 10 + i + 1);
            pairs.push((vpc, stand_in));
        }
    }
    for columns in ["80", "120"] {
        let out = flowguard(&m, &[&["audit", "--quiet"][..], &accounts].concat())
            .env("AWS_ENDPOINT_URL", &proxy.url)
            .env("COLUMNS", columns)
            .run();
        out.expect(2);
        fits(&out.stdout, columns);
        // Sorted by account, then VPC id (one region).
        let keys: Vec<(String, String)> = rows(&out.stdout)
            .iter()
            .map(|r| (r[0].clone(), r[2].clone()))
            .collect();
        assert!(keys.is_sorted(), "{}", out.stdout);
        let text = with_sorted_rows(&replaced(&out.stdout, &pairs));
        insta::assert_snapshot!(format!("organization_{columns}"), text);
    }
}
