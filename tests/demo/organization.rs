//! `./scripts/demo organization`: the same `flowguard-lambda` binary as a hub for an AWS
//! Organization (docs/design.md, "Organization mode"), on moto, in four steps:
//!
//! 1. an organization: the hub's account (the management account) and three member accounts in
//!    the OU `workloads`, each with a new VPC and no flow log;
//! 2. each member's `CreateVpc`, as the hub's bus delivers it, is remediated in that account,
//!    through its member role, and nowhere else;
//! 3. `flowguard audit --organization` from the CLI: the members' default VPCs are still not
//!    compliant (exit code 1);
//! 4. the scheduled sweep covers every account in scope; the organization audit exits 0.
//!
//! moto lets the member role be assumed in any account, and requests signed with the
//! credentials it returns act in that account, so one emulator holds the whole organization.

use crate::report::OrgReport;
use crate::show::{converged, evidence, step, tell};
use crate::{Demo, Stop, check, ensure, exit_code, relative};
use flowguard_aws::Clients;
use flowguard_aws::organization::{MemberAccess, session_name};
use flowguard_tests::organizations::{create_account, create_organization, create_unit};
use flowguard_tests::{
    ACCOUNT, REGION, Seed, config_for, create_vpc_event, delivery_role_with, fixture,
};
use std::path::Path;
use std::time::Instant;

/// The role that the hub assumes in each member account.
const MEMBER_ROLE: &str = "flowguard-member";

/// One member account of the demo: its id, its SDK clients (through the member role), its
/// new VPC and its default VPC.
struct Member {
    name: &'static str,
    account: String,
    seed: Seed,
    vpc: String,
    default_vpc: String,
}

pub async fn run(work: &Path) -> Result<(), Stop> {
    let started = Instant::now();
    let mut demo = Demo::start(work).await?;
    println!(
        "\n{}: one flowguard for every account of an AWS Organization, on a local emulator.",
        crate::show::bold("flowguard demo, organization mode")
    );
    let (unit, members) = organization(&demo).await?;

    step(
        2,
        "Each member creates a VPC: the hub fixes it in that account, and only there",
    );
    demo.function_env = vec![
        ("FLOWGUARD_ORGANIZATION", "true".to_owned()),
        ("FLOWGUARD_ORGANIZATIONAL_UNITS", unit.clone()),
        ("FLOWGUARD_EXCLUDE_ACCOUNTS", ACCOUNT.to_owned()),
        ("FLOWGUARD_MEMBER_ROLE", MEMBER_ROLE.to_owned()),
    ];
    demo.start_function(false)?;
    tell(&format!(
        "The hub function starts in organization mode, as the hub stack deploys it: the scope \
         is every ACTIVE account under {unit}, the hub's own account excluded, and it acts in a \
         member through the role '{MEMBER_ROLE}'. Each member's CreateVpc reaches the hub's bus \
         (a spoke rule forwards it) with that member's account id:"
    ));
    for member in &members {
        let mut event = create_vpc_event(&member.vpc);
        event["account"] = member.account.clone().into();
        event["detail"]["recipientAccountId"] = member.account.clone().into();
        let report = demo
            .deliver(&format!("2-create-vpc-{}", member.name), event)
            .await?;
        show_flow_logs(member).await;
        check(
            &report,
            report.account == member.account && report.status_of(&member.vpc) == Some("remediated"),
            &format!(
                "{}'s VPC is remediated in account {} through its member role",
                member.name, member.account
            ),
        )?;
    }
    for member in &members {
        let others = members.iter().filter(|m| m.account != member.account);
        for other in others {
            ensure(
                other.seed.flow_logs_of(&member.vpc).await.is_empty(),
                || format!("{} saw a flow log of {}'s VPC", other.name, member.name),
            )?;
        }
    }

    step(
        3,
        "The organization audit, from the CLI: the members' default VPCs are not compliant",
    );
    let audit = [
        "audit",
        "--organization",
        "--ou",
        &unit,
        "--exclude-account",
        ACCOUNT,
        "--role",
        MEMBER_ROLE,
    ];
    tell(&format!(
        "`flowguard {}` reads the organization, assumes the member role in each account in \
         scope and audits it. Every account also has moto's default VPC, which no event named:",
        audit.join(" ")
    ));
    let code = demo
        .flowguard(&[&audit[..], &["--format", "table"]].concat())
        .status()?
        .code();
    ensure(code == Some(1), || {
        format!(
            "the organization audit should exit 1, it exited {}",
            exit_code(code)
        )
    })?;
    let out = demo
        .flowguard(&[&audit[..], &["--format", "json"]].concat())
        .output()?;
    let report = save(&demo, "3-organization-audit", &out.stdout)?;
    let expected = members.iter().all(|m| {
        report.status_of(&m.account, &m.vpc) == Some("compliant")
            && report.status_of(&m.account, &m.default_vpc) == Some("would_remediate")
    });
    ensure(
        expected && report.summary.accounts.ok == members.len(),
        || {
            format!(
                "the audit should find 3 accounts, each with its new VPC compliant and its default \
             VPC not (report: {})",
                report.path
            )
        },
    )?;
    converged("exit 1: in all three accounts the new VPC complies and the default VPC does not");

    step(
        4,
        "The scheduled sweep covers every account in scope; the audit passes",
    );
    tell(
        "Events can be missed, and the default VPCs were never announced by one. The hub's \
         schedule sweeps every account in scope, at most FLOWGUARD_CONCURRENCY at a time; one \
         scheduled event is delivered now:",
    );
    let body = demo.invoke("4-scheduled", fixture("scheduled_event.json"))?;
    let sweep = save(&demo, "4-scheduled", body.as_bytes())?;
    for line in sweep.lines() {
        evidence(&line);
    }
    // The hub answers with the organization's summary: one default VPC remediated per account.
    let defaults_fixed = sweep.summary.vpcs.remediated == members.len();
    ensure(
        defaults_fixed && sweep.summary.accounts.ok == members.len(),
        || {
            format!(
                "the sweep did not remediate every default VPC (report: {})",
                sweep.path
            )
        },
    )?;
    converged("the sweep remediated the default VPC of each of the three accounts");
    tell("The organization audit again:");
    let code = demo
        .flowguard(&[&audit[..], &["--format", "table"]].concat())
        .status()?
        .code();
    ensure(code == Some(0), || {
        format!("the organization audit exited {}, not 0", exit_code(code))
    })?;
    converged("flowguard audit --organization exits 0: every VPC of every account complies");
    demo.stop_function();

    println!(
        "\n{}: every step converged. Logs, events and reports: {}/",
        crate::show::bold(&format!("Done in {}s", started.elapsed().as_secs())),
        relative(work)
    );
    println!("Deploying to an organization: docs/deploy-organization.md.");
    Ok(())
}

/// Step 1: the organization, its OU `workloads` and three member accounts, each with a VPC.
async fn organization(demo: &Demo) -> Result<(String, Vec<Member>), Stop> {
    step(
        1,
        "An organization: three member accounts in the OU 'workloads'",
    );
    let config = config_for(&demo.moto.url, REGION).await;
    let organizations = aws_sdk_organizations::Client::new(&config);
    let root = create_organization(&organizations).await;
    let unit = create_unit(&organizations, &root, "workloads").await;
    // The member accounts as the hub sees them.
    let access = MemberAccess::new(config, ACCOUNT, MEMBER_ROLE, None, session_name("demo"))
        .map_err(|e| Stop::Error(e.to_string()))?;
    let mut members = Vec::new();
    for (name, cidr) in [
        ("payments", "10.1.0.0/16"),
        ("analytics", "10.2.0.0/16"),
        ("web", "10.3.0.0/16"),
    ] {
        let account = create_account(&organizations, &root, name, Some(&unit)).await;
        let member_config = access
            .config(&account, REGION)
            .await
            .map_err(|e| Stop::Error(e.to_string()))?;
        // What each spoke's stack creates: the role that delivers its flow logs.
        delivery_role_with(&member_config, "flowguard-delivery").await;
        let seed = Seed::new(&Clients::new(&member_config));
        let vpc = seed.named_vpc(name, cidr, &[]).await;
        let default_vpc = seed.default_vpc().await;
        members.push(Member {
            name,
            account,
            seed,
            vpc,
            default_vpc,
        });
    }
    tell(&format!(
        "The hub is the organization's management account {ACCOUNT}. Under the OU {unit}, \
         three member accounts each have the spoke's delivery role, moto's default VPC and a \
         VPC of their own with no flow log:"
    ));
    for m in &members {
        evidence(&format!(
            "account {} ({}): VPC {} ({}), default VPC {}",
            m.account, m.name, m.vpc, m.name, m.default_vpc
        ));
    }
    Ok((unit, members))
}

/// What EC2 says about the flow logs of the member's VPC, in the member's account.
async fn show_flow_logs(member: &Member) {
    let flow_logs = member.seed.flow_logs_of(&member.vpc).await;
    if flow_logs.is_empty() {
        evidence(&format!(
            "account {}: no flow log on {}",
            member.account, member.vpc
        ));
    }
    for fl in flow_logs {
        evidence(&format!(
            "account {}: {} on {}  traffic {}  into {}",
            member.account,
            fl.flow_log_id().unwrap_or("-"),
            member.vpc,
            fl.traffic_type().map_or("-", |t| t.as_str()),
            fl.log_group_name().unwrap_or("-"),
        ));
    }
}

/// Saves an organization report as `reports/NAME.json` and reads it.
fn save(demo: &Demo, name: &str, json: &[u8]) -> Result<OrgReport, Stop> {
    let path = demo.work.join(format!("reports/{name}.json"));
    std::fs::write(&path, json)?;
    OrgReport::parse(json, relative(&path)).map_err(|e| {
        let text = String::from_utf8_lossy(json);
        let start: String = text.chars().take(200).collect();
        Stop::NotConverged(format!(
            "not an organization report ({e}): {} ({start})",
            relative(&path)
        ))
    })
}
