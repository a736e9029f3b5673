//! `./scripts/demo s3`: the same `flowguard-lambda` binary delivering flow logs into a central
//! S3 bucket (`FLOWGUARD_DESTINATION`, docs/design.md, "Destinations and integrations"), on moto, in
//! three steps:
//!
//! 1. a log-archive bucket, and a new VPC with no flow log;
//! 2. its `CreateVpc` is remediated with a flow log into the bucket, in Parquet with
//!    Hive-compatible prefixes: no delivery role, no log group, no retention step;
//! 3. the scheduled sweep fixes the rest, and `flowguard audit` exits 0, showing the S3
//!    retention as `unverified` (the bucket's lifecycle, in the log archive, keeps the records).

use crate::show::{converged, evidence, step, tell};
use crate::{Demo, Stop, check, ensure, exit_code, relative};
use flowguard_tests::{ACCOUNT, create_bucket, create_vpc_event, fixture};
use std::path::Path;
use std::time::Instant;

const BUCKET: &str = "demo-log-archive";

pub async fn run(work: &Path) -> Result<(), Stop> {
    let started = Instant::now();
    let mut demo = Demo::start(work).await?;
    println!(
        "\n{}: flow logs into the log archive's S3 bucket, on a local emulator.",
        crate::show::bold("flowguard demo, S3 destination")
    );

    step(1, "A log-archive bucket, and a new VPC that logs nothing");
    create_bucket(&demo.moto.url, ACCOUNT, BUCKET);
    let vpc = demo.seed.vpc().await;
    let default_vpc = demo.seed.default_vpc().await;
    evidence(&format!(
        "bucket {BUCKET} (in a landing zone: the log-archive account's, created by the \
         FlowGuardLogArchive stack); VPC {vpc} with no flow log"
    ));

    step(
        2,
        "CreateVpc: a flow log into the bucket, with no role and no log group",
    );
    let destination = format!("s3://{BUCKET}");
    demo.function_env = vec![
        ("FLOWGUARD_DESTINATION", destination.clone()),
        ("FLOWGUARD_S3_FILE_FORMAT", "parquet".to_owned()),
        ("FLOWGUARD_S3_HIVE_PARTITIONS", "true".to_owned()),
    ];
    demo.start_function(false)?;
    tell(&format!(
        "The function starts with FLOWGUARD_DESTINATION={destination}, Parquet objects under \
         Hive-compatible prefixes. EC2 takes no delivery role for S3 (the bucket policy admits \
         the flow-logs service), so none is configured:"
    ));
    let report = demo.deliver("2-create-vpc", create_vpc_event(&vpc)).await?;
    for fl in demo.seed.flow_logs_of(&vpc).await {
        evidence(&format!(
            "{} on {vpc}  traffic {}  type {}  into {}  role {}",
            fl.flow_log_id().unwrap_or("-"),
            fl.traffic_type().map_or("-", |t| t.as_str()),
            fl.log_destination_type().map_or("-", |t| t.as_str()),
            fl.log_destination().unwrap_or("-"),
            fl.deliver_logs_permission_arn().unwrap_or("none"),
        ));
    }
    let into_bucket = demo.seed.flow_logs_of(&vpc).await.iter().any(|fl| {
        fl.log_destination() == Some(&format!("arn:aws:s3:::{BUCKET}"))
            && fl.deliver_logs_permission_arn().is_none()
    });
    let only_create = report
        .actions
        .iter()
        .all(|a| a.action == "create_flow_logs");
    check(
        &report,
        report.status_of(&vpc) == Some("remediated") && into_bucket && only_create,
        "the new VPC's flow log delivers into the bucket, with no role and no log group",
    )?;
    let groups = demo.seed.retention("/vpc/flow-logs").await;
    ensure(groups.is_none(), || {
        "no log group should exist with an S3 destination".to_owned()
    })?;

    step(
        3,
        "The scheduled sweep fixes the rest; the audit passes, S3 retention unverified",
    );
    let body = demo.invoke("3-scheduled", fixture("scheduled_event.json"))?;
    let sweep = demo.save_report("3-scheduled", body.as_bytes())?;
    demo.show_report(&sweep).await;
    check(
        &sweep,
        sweep.status_of(&default_vpc) == Some("remediated"),
        "the sweep remediates the default VPC into the bucket",
    )?;
    let audit = ["audit", "--destination", &destination];
    tell(&format!(
        "`flowguard {}`: the retention column reads 'unverified (S3)', since a member account \
         cannot read the log archive's lifecycle:",
        audit.join(" ")
    ));
    let code = demo.flowguard(&audit).status()?.code();
    ensure(code == Some(0), || {
        format!("flowguard audit exited {}, not 0", exit_code(code))
    })?;
    converged("flowguard audit exits 0: every VPC delivers its rejected traffic into the bucket");
    demo.stop_function();

    println!(
        "\n{}: every step converged. Logs, events and reports: {}/",
        crate::show::bold(&format!("Done in {}s", started.elapsed().as_secs())),
        relative(work)
    );
    println!("The log-archive bucket and its policy: docs/deploy.md.");
    Ok(())
}
