//! `flowguard-demo`, run by `./scripts/demo`: flowguard's main job, locally, in six steps.
//! The real `flowguard-lambda` binary polls the Lambda runtime API emulator (`cargo lambda
//! watch`) and acts on a local AWS emulator (moto server); it gets CloudTrail events of the
//! real shape (the fixtures of `tests/fixtures/events`, stamped with new ids and the time
//! now), and the `flowguard` CLI audits before and after:
//!
//! 1. audit an account with a few VPCs, some not compliant (exit code 1);
//! 2. a VPC is created: `CreateVpc`, and the function adds its flow log;
//! 3. someone deletes that flow log: `DeleteFlowLogs`, the function sweeps, it comes back;
//! 4. someone lowers the log group's retention: `PutRetentionPolicy`, back to 365 days;
//! 5. dry run: the plan for a new VPC, its permission checked, and nothing changes;
//! 6. enforcing again: the scheduled sweep catches up; the final audit exits 0.
//!
//! Each step shows its evidence (the function's report, what EC2 and CloudWatch Logs say)
//! and checks the outcome over the parsed report ([`report::Report`]): a ✓ line, or a ✗ line
//! and exit code 1. No AWS account can be reached: the binaries run with a cleared
//! environment holding dummy credentials and the emulator's endpoint
//! ([`flowguard_tests::child_env`]), and the demo's own SDK clients are the test support's,
//! which reach only moto. Every process started here is a [`KillOnDrop`]: stopped on the way
//! out, on Ctrl-C too. Logs, events and reports stay in `.tmp/demo/`.

mod organization;
mod report;
mod s3;
mod show;

use aws_sdk_ec2::types::TrafficType;
use flowguard_tests::processes::{KillOnDrop, LambdaEmulator, MotoServer, workspace_root};
use flowguard_tests::{
    REGION, Seed, child_env, config_for, create_vpc_event, delete_flow_logs_event, fixture,
    put_retention_policy_event, stamped, workspace_binary,
};
use report::Report;
use serde_json::Value;
use show::{converged, evidence, say, step, tell};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

/// The log group that flowguard creates and keeps.
const GROUP: &str = "/vpc/flow-logs";

/// Why the demo stopped before the end.
#[derive(Debug)]
enum Stop {
    /// What the demo runs on failed: an emulator, a binary, a file.
    Error(String),
    /// A step did not reach the state it shows.
    NotConverged(String),
}

impl From<std::io::Error> for Stop {
    fn from(e: std::io::Error) -> Self {
        Self::Error(e.to_string())
    }
}

impl From<serde_json::Error> for Stop {
    fn from(e: serde_json::Error) -> Self {
        Self::Error(e.to_string())
    }
}

/// Goes on when `ok`; otherwise the step did not converge, for the reason `why()`.
fn ensure(ok: bool, why: impl FnOnce() -> String) -> Result<(), Stop> {
    if ok {
        Ok(())
    } else {
        Err(Stop::NotConverged(why()))
    }
}

/// A check over a report: a ✓ line, or the step did not converge.
fn check(report: &Report, ok: bool, what: &str) -> Result<(), Stop> {
    ensure(ok, || {
        format!("did not converge: {what} (report: {})", report.path)
    })?;
    converged(what);
    Ok(())
}

/// Which demo: the account's six steps, organization mode, or the S3 destination.
#[derive(Debug, Clone, Copy)]
enum Variant {
    Account,
    Organization,
    S3,
}

#[tokio::main]
async fn main() -> ExitCode {
    let variant = std::env::args().nth(1);
    let (dir, variant) = match variant.as_deref() {
        None => (".tmp/demo", Variant::Account),
        Some("organization") => (".tmp/demo-organization", Variant::Organization),
        Some("s3") => (".tmp/demo-s3", Variant::S3),
        Some(other) => {
            eprintln!(
                "error: unknown demo {other:?}: run ./scripts/demo, ./scripts/demo organization \
                 or ./scripts/demo s3"
            );
            return ExitCode::from(2);
        }
    };
    let work = workspace_root().join(dir);
    // Whichever ends first; the other future is dropped, and with it every process it started.
    let outcome = tokio::select! {
        biased;
        signal = interrupted() => Err(signal),
        outcome = async {
            match variant {
                Variant::Account => run(&work).await,
                Variant::Organization => organization::run(&work).await,
                Variant::S3 => s3::run(&work).await,
            }
        } => Ok(outcome),
    };
    match outcome {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(Stop::NotConverged(why))) => {
            show::not_converged(&why, &relative(&work));
            ExitCode::FAILURE
        }
        Ok(Err(Stop::Error(e))) => {
            eprintln!("error: {e}");
            eprintln!("logs: {}", relative(&work));
            ExitCode::FAILURE
        }
        Err(code) => ExitCode::from(code),
    }
}

/// Waits for Ctrl-C or SIGTERM; the shell's exit code for it (128 + the signal).
async fn interrupted() -> u8 {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut terminate) => tokio::select! {
            _ = tokio::signal::ctrl_c() => 130,
            _ = terminate.recv() => 143,
        },
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            130
        }
    }
}

/// `path` relative to the workspace root, as the demo shows it.
fn relative(path: &Path) -> String {
    let root = workspace_root();
    path.strip_prefix(&root)
        .unwrap_or(path)
        .display()
        .to_string()
}

async fn run(work: &Path) -> Result<(), Stop> {
    let started = Instant::now();
    let mut demo = Demo::start(work).await?;
    demo.role = demo.setup_role()?;
    say(&format!("delivery role for VPC Flow Logs: {}", demo.role));

    println!(
        "\n{}: a local AWS account (moto, {REGION}, dummy credentials), the real Lambda",
        show::bold("flowguard demo")
    );
    println!("binary under the Lambda runtime API emulator, and real CloudTrail event shapes.");

    let vpcs = demo.audit().await?;
    let (web, web_flow_log) = demo.create_vpc().await?;
    demo.delete_flow_log(&vpcs, &web, &web_flow_log).await?;
    demo.lower_retention().await?;
    let staging = demo.dry_run().await?;
    demo.sweep(&staging).await?;
    demo.stop_function();

    println!(
        "\n{}: every step converged. Logs, events and reports: {}/",
        show::bold(&format!("Done in {}s", started.elapsed().as_secs())),
        relative(work)
    );
    println!("Deploying for real: docs/deploy.md. Operating it: docs/runbook.md.");
    Ok(())
}

/// The account of step 1.
#[derive(Debug)]
struct Vpcs {
    default: String,
    payments: String,
    /// The network team's flow log of `payments`, never to be touched.
    payments_flow_log: String,
    analytics: String,
    sandbox: String,
    lab: String,
}

/// What the steps share. Fields drop in order: the function first, then the emulators.
#[derive(Debug)]
struct Demo {
    /// The running `flowguard-lambda`, enforcing or in dry run.
    function: Option<KillOnDrop>,
    lambda: LambdaEmulator,
    moto: MotoServer,
    /// Seeding and looking, over the SDK.
    seed: Seed,
    /// The delivery role that `flowguard setup-role` created.
    role: String,
    /// `.tmp/demo`
    work: PathBuf,
    /// More variables for the function (organization mode's).
    function_env: Vec<(&'static str, String)>,
}

impl Demo {
    /// A fresh `work` directory, moto server and the Lambda runtime API emulator.
    async fn start(work: &Path) -> Result<Self, Stop> {
        match std::fs::remove_dir_all(work) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
            _ => {}
        }
        std::fs::create_dir_all(work.join("events"))?;
        std::fs::create_dir_all(work.join("reports"))?;
        let moto = MotoServer::start(&work.join("moto.log"))?;
        say(&format!("moto server on {}", moto.url));
        let lambda = LambdaEmulator::start(&work.join("watch.log"))?;
        say(&format!(
            "Lambda runtime API emulator (cargo lambda watch) on http://127.0.0.1:{}",
            lambda.port
        ));
        let clients = flowguard_aws::Clients::new(&config_for(&moto.url, REGION).await);
        Ok(Self {
            function: None,
            lambda,
            seed: Seed::new(&clients),
            moto,
            role: String::new(),
            work: work.to_owned(),
            function_env: Vec::new(),
        })
    }

    /// Step 1: an account where some VPCs do not log their rejected traffic, audited.
    async fn audit(&mut self) -> Result<Vpcs, Stop> {
        step(
            1,
            "Audit: an account where some VPCs do not log their rejected traffic",
        );
        let vpcs = self.seed_account().await;
        tell(
            "The account has moto's default VPC and four more: 'payments' has a flow log of the \
             network team (REJECT, into a group kept 365 days); 'analytics' logs only ACCEPTed \
             traffic; 'sandbox' has no flow log; 'lab' is tagged flowguard:exempt=true. \
             `flowguard audit` checks each one against the CIS control and changes nothing:",
        );
        evidence(&format!(
            "default VPC {}, payments {}, analytics {},",
            vpcs.default, vpcs.payments, vpcs.analytics
        ));
        evidence(&format!("sandbox {}, lab {}", vpcs.sandbox, vpcs.lab));
        // Straight to the terminal, so that the table fits its width.
        let code = self
            .flowguard(&["audit", "--format", "table"])
            .status()?
            .code();
        ensure(code == Some(1), || {
            format!(
                "flowguard audit should exit 1 (some VPCs not compliant), it exited {}",
                exit_code(code)
            )
        })?;
        let out = self.flowguard(&["audit", "--format", "json"]).output()?;
        let audit = self.save_report("audit-1", &out.stdout)?;
        let statuses = [
            &vpcs.default,
            &vpcs.analytics,
            &vpcs.sandbox,
            &vpcs.payments,
            &vpcs.lab,
        ]
        .map(|vpc| audit.status_of(vpc));
        let expected = [
            "would_remediate",
            "would_remediate",
            "would_remediate",
            "compliant",
            "exempt",
        ]
        .map(Some);
        check(
            &audit,
            statuses == expected,
            "flowguard audit exits 1: default, analytics, sandbox NOT COMPLIANT; payments \
             compliant; lab exempt",
        )?;
        Ok(vpcs)
    }

    /// Step 2: `CreateVpc`, and the enforcing function adds the flow log. Returns the VPC and
    /// its new flow log.
    async fn create_vpc(&mut self) -> Result<(String, String), Stop> {
        step(
            2,
            "A VPC is created: CreateVpc → the function adds its flow log",
        );
        self.start_function(false)?;
        let web = self.seed.named_vpc("web", "10.5.0.0/16", &[]).await;
        tell(&format!(
            "Someone creates the VPC 'web' ({web}). CloudTrail records CreateVpc and \
             EventBridge delivers it to the flowguard function (the enforcing one, started \
             with the delivery role):"
        ));
        let report = self.deliver("2-create-vpc", create_vpc_event(&web)).await?;
        let log = std::fs::read_to_string(self.work.join("function.log"))?;
        for line in report::function_log(&log) {
            evidence(&line);
        }
        tell("What EC2 and CloudWatch Logs now say about 'web':");
        self.show_flow_logs(&web).await;
        let created = report.actions_of("create_flow_logs").next();
        check(
            &report,
            report.status_of(&web) == Some("remediated")
                && created.is_some_and(|a| a.result == "applied"),
            "web is remediated: a REJECT flow log into /vpc/flow-logs, kept 365 days",
        )?;
        let managed = self.managed_flow_logs(&web).await;
        let retention = self.retention(GROUP).await;
        match managed.as_slice() {
            [flow_log] if retention == "365" => Ok((web, flow_log.clone())),
            _ => Err(Stop::NotConverged(format!(
                "no flowguard flow log on {web}, or /vpc/flow-logs is not kept 365 days"
            ))),
        }
    }

    /// Step 3: the flow log of `web` deleted; `DeleteFlowLogs` makes the function sweep.
    async fn delete_flow_log(&mut self, vpcs: &Vpcs, web: &str, deleted: &str) -> Result<(), Stop> {
        step(
            3,
            "Someone deletes that flow log: DeleteFlowLogs → it comes back",
        );
        self.seed.delete_flow_log(deleted).await;
        tell(&format!(
            "Someone deletes {deleted}. The DeleteFlowLogs event names only the flow log, not \
             its VPC (that is gone with it), so the function sweeps the region: 'web' gets a \
             new flow log, and the VPCs that the audit found not compliant are fixed on the \
             way. 'payments' keeps its own flow log, untouched; 'lab' is exempt."
        ));
        let report = self
            .deliver("3-delete-flow-logs", delete_flow_logs_event(deleted))
            .await?;
        tell("'web' now:");
        self.show_flow_logs(web).await;
        let restored = self.managed_flow_logs(web).await;
        ensure(restored.len() == 1 && restored[0] != deleted, || {
            format!("the flow log of {web} did not come back")
        })?;
        let remediated = [web, &vpcs.default, &vpcs.analytics, &vpcs.sandbox]
            .iter()
            .all(|vpc| report.status_of(vpc) == Some("remediated"));
        check(
            &report,
            report.trigger.kind == "sweep"
                && remediated
                && report.status_of(&vpcs.payments) == Some("compliant")
                && report.status_of(&vpcs.lab) == Some("exempt"),
            &format!(
                "web has a flow log again ({}); default, analytics and sandbox remediated",
                restored[0]
            ),
        )?;
        ensure(self.flow_log_ids(&vpcs.lab).await.is_empty(), || {
            "the exempt VPC lab was changed".to_owned()
        })?;
        ensure(
            self.flow_log_ids(&vpcs.payments).await == [vpcs.payments_flow_log.clone()],
            || "the network team's flow log of payments was changed".to_owned(),
        )
    }

    /// Step 4: the group's retention lowered to 30 days; `PutRetentionPolicy` puts it back.
    async fn lower_retention(&mut self) -> Result<(), Stop> {
        step(
            4,
            "Someone lowers the log group's retention: PutRetentionPolicy → back to 365 days",
        );
        self.seed
            .logs
            .put_retention_policy()
            .log_group_name(GROUP)
            .retention_in_days(30)
            .send()
            .await
            .map_err(|e| Stop::Error(format!("PutRetentionPolicy on moto: {e}")))?;
        tell(&format!(
            "Someone sets /vpc/flow-logs to keep data 30 days (it now says: {} days). \
             CloudTrail records PutRetentionPolicy; the function checks that group and the \
             VPCs that deliver to it:",
            self.retention(GROUP).await
        ));
        let report = self
            .deliver(
                "4-put-retention-policy",
                put_retention_policy_event(GROUP, 30),
            )
            .await?;
        let retention = self.retention(GROUP).await;
        tell(&format!("/vpc/flow-logs now keeps data {retention} days."));
        ensure(retention == "365", || {
            format!("the retention of /vpc/flow-logs is {retention}, not 365")
        })?;
        let results: Vec<&str> = report
            .actions_of("put_retention_policy")
            .map(|a| a.result.as_str())
            .collect();
        check(
            &report,
            report.trigger.kind == "log_group" && results == ["applied"],
            "retention of /vpc/flow-logs raised from 30 to 365 days",
        )
    }

    /// Step 5: a function in dry run plans for a new VPC and changes nothing. Returns the VPC.
    async fn dry_run(&mut self) -> Result<String, Stop> {
        step(5, "Dry run: the plan for a new VPC, and nothing changes");
        self.stop_function();
        self.start_function(true)?;
        let staging = self.seed.named_vpc("staging", "10.6.0.0/16", &[]).await;
        tell(&format!(
            "The enforcing function is stopped; a second one starts with FLOWGUARD_DRY_RUN=true \
             (how a team first deploys flowguard, to review what it would do). The VPC \
             'staging' ({staging}) is created and its CreateVpc event delivered:"
        ));
        let report = self
            .deliver("5-create-vpc-dry-run", create_vpc_event(&staging))
            .await?;
        tell(
            "The plan's CreateFlowLogs was checked with EC2's DryRun=true (the 'permission' \
             field). And 'staging' on EC2:",
        );
        self.show_flow_logs(&staging).await;
        let planned: Vec<_> = report.actions_of("create_flow_logs").collect();
        check(
            &report,
            report.dry_run
                && report.status_of(&staging) == Some("would_remediate")
                && report.summary.actions.applied == 0
                && report.summary.actions.planned >= 1
                && !planned.is_empty()
                && planned.iter().all(|a| a.permission.is_some()),
            "planned only (would_remediate, permission checked); no flow log was created",
        )?;
        ensure(self.flow_log_ids(&staging).await.is_empty(), || {
            format!("the dry run created a flow log on {staging}")
        })?;
        Ok(staging)
    }

    /// Step 6: enforcing again, a scheduled sweep remediates `staging`; the audit passes.
    async fn sweep(&mut self, staging: &str) -> Result<(), Stop> {
        step(
            6,
            "Enforcing again: the scheduled sweep catches up, and the audit passes",
        );
        self.stop_function();
        self.start_function(false)?;
        tell(
            "The dry-run function is stopped and the enforcing one started again. Events can be \
             missed (CloudTrail's delivery to EventBridge is best effort; here 'staging' was \
             only planned), so a scheduled event sweeps the region every hour. One is \
             delivered now:",
        );
        let report = self
            .deliver("6-scheduled", fixture("scheduled_event.json"))
            .await?;
        let vpcs = &report.summary.vpcs;
        check(
            &report,
            report.status_of(staging) == Some("remediated")
                && vpcs.failed == 0
                && vpcs.remediated == 1,
            "the sweep remediated staging and left everything else as it was",
        )?;
        tell("The final audit:");
        let code = self
            .flowguard(&["audit", "--format", "table"])
            .status()?
            .code();
        ensure(code == Some(0), || {
            format!("flowguard audit exited {}, not 0", exit_code(code))
        })?;
        converged("flowguard audit exits 0: every VPC is compliant or exempt");
        Ok(())
    }

    /// moto's default VPC and four more: `payments` logs REJECT into a 365-day group of the
    /// network team's, `analytics` only ACCEPT, `sandbox` nothing, `lab` is exempt.
    async fn seed_account(&self) -> Vpcs {
        let seed = &self.seed;
        let default = seed.default_vpc().await;
        let payments = seed.named_vpc("payments", "10.1.0.0/16", &[]).await;
        seed.log_group("/network/flow-logs-archive", Some(365))
            .await;
        let payments_flow_log = seed
            .foreign_flow_log_with_role(
                &payments,
                TrafficType::Reject,
                "/network/flow-logs-archive",
                &self.role,
            )
            .await;
        let analytics = seed.named_vpc("analytics", "10.2.0.0/16", &[]).await;
        seed.log_group("/network/accepted-traffic", Some(365)).await;
        seed.foreign_flow_log_with_role(
            &analytics,
            TrafficType::Accept,
            "/network/accepted-traffic",
            &self.role,
        )
        .await;
        let sandbox = seed.named_vpc("sandbox", "10.3.0.0/16", &[]).await;
        let lab = seed
            .named_vpc("lab", "10.4.0.0/16", &[("flowguard:exempt", "true")])
            .await;
        Vpcs {
            default,
            payments,
            payments_flow_log,
            analytics,
            sandbox,
            lab,
        }
    }

    /// The environment of flowguard's binaries, on top of a cleared one: `PATH`, moto's
    /// endpoint, dummy credentials, the region, no instance metadata, no shared config files.
    fn env(&self) -> Vec<(&'static str, String)> {
        let mut env = child_env(&self.moto.url);
        env.push(("AWS_DEFAULT_REGION", REGION.to_owned()));
        env.push(("PATH", std::env::var("PATH").unwrap_or_default()));
        env
    }

    /// The `flowguard` CLI with `args`, in [`Demo::env`].
    fn flowguard(&self, args: &[&str]) -> Command {
        let mut command = Command::new(workspace_binary("flowguard"));
        command.env_clear().envs(self.env()).args(args);
        command
    }

    /// `flowguard setup-role`: the delivery role's ARN.
    fn setup_role(&self) -> Result<String, Stop> {
        let out = self
            .flowguard(&["setup-role"])
            .stderr(Stdio::inherit())
            .output()?;
        if !out.status.success() {
            return Err(Stop::Error(format!(
                "flowguard setup-role failed ({})",
                out.status
            )));
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }

    /// Starts `flowguard-lambda` under the emulator, enforcing or in dry run, with the
    /// delivery role; its output goes to `function.log`.
    fn start_function(&mut self, dry_run: bool) -> Result<(), Stop> {
        let mut env: Vec<(&str, String)> = self.env();
        if !self.role.is_empty() {
            env.push(("FLOWGUARD_DELIVERY_ROLE_ARN", self.role.clone()));
        }
        env.push(("FLOWGUARD_DRY_RUN", dry_run.to_string()));
        env.extend(self.function_env.iter().cloned());
        let log = self.work.join("function.log");
        self.function = Some(self.lambda.start_function(&env, "demo", Some(&log))?);
        Ok(())
    }

    fn stop_function(&mut self) {
        self.function = None;
    }

    /// Delivers `event`, stamped as new, to the function through the emulator (as Lambda's
    /// Invoke API would); saves both and shows the report it answered with.
    async fn deliver(&mut self, name: &str, event: Value) -> Result<Report, Stop> {
        let body = self.invoke(name, event)?;
        let report = self.save_report(name, body.as_bytes())?;
        self.show_report(&report).await;
        Ok(report)
    }

    /// Delivers `event`, stamped as new, and saves it: the function's answer, HTTP 200 only.
    fn invoke(&mut self, name: &str, event: Value) -> Result<String, Stop> {
        let event = stamped(event);
        let event_path = self.work.join(format!("events/{name}.json"));
        std::fs::write(&event_path, serde_json::to_string_pretty(&event)?)?;
        let text = |key: &str| event[key].as_str().unwrap_or("-").to_owned();
        let kind = event["detail"]["eventName"]
            .as_str()
            .map_or_else(|| text("detail-type"), str::to_owned);
        evidence(&format!(
            "event delivered: {kind} (source {}, id {}, time {})",
            text("source"),
            text("id"),
            text("time")
        ));

        let log = self.work.join("function.log");
        let Some(function) = self.function.as_mut() else {
            return Err(Stop::Error("no function is running".to_owned()));
        };
        let answer = self.lambda.invoke(function, event.to_string().as_bytes());
        let (status, body) = match answer {
            Ok(answer) => answer,
            Err(e) if function.exited().is_some() => {
                let log_text = std::fs::read_to_string(&log).unwrap_or_default();
                let lines: Vec<&str> = log_text.lines().collect();
                for line in &lines[lines.len().saturating_sub(5)..] {
                    eprintln!("   | {line}");
                }
                return Err(Stop::NotConverged(format!("{e} (log: {})", relative(&log))));
            }
            Err(e) => {
                return Err(Stop::NotConverged(format!(
                    "no answer from the function to {}: {e}",
                    relative(&event_path)
                )));
            }
        };
        if status != 200 {
            eprintln!("   | {body}");
            return Err(Stop::NotConverged(format!(
                "the function answered HTTP {status} to {}",
                relative(&event_path)
            )));
        }
        Ok(body)
    }

    /// Saves a report as `reports/NAME.json` and reads it.
    fn save_report(&self, name: &str, json: &[u8]) -> Result<Report, Stop> {
        let path = self.work.join(format!("reports/{name}.json"));
        std::fs::write(&path, json)?;
        Report::parse(json, relative(&path))
            .map_err(|e| Stop::NotConverged(format!("not a report ({e}): {}", relative(&path))))
    }

    async fn show_report(&self, report: &Report) {
        let names = self.vpc_names().await;
        for line in report.lines(&names) {
            evidence(&line);
        }
    }

    /// Each VPC's `Name` tag, or "default VPC".
    async fn vpc_names(&self) -> HashMap<String, String> {
        let out = self.seed.ec2.describe_vpcs().send().await;
        let vpcs = out.as_ref().map(|o| o.vpcs()).unwrap_or_default();
        vpcs.iter()
            .filter_map(|vpc| {
                let name = vpc.tags().iter().find(|t| t.key() == Some("Name"));
                let name = match name.and_then(|t| t.value()) {
                    Some(name) => name.to_owned(),
                    None if vpc.is_default() == Some(true) => "default VPC".to_owned(),
                    None => String::new(),
                };
                Some((vpc.vpc_id()?.to_owned(), name))
            })
            .collect()
    }

    /// What EC2 and CloudWatch Logs say about the flow logs of `vpc`, one line each.
    async fn show_flow_logs(&self, vpc: &str) {
        let flow_logs = self.seed.flow_logs_of(vpc).await;
        if flow_logs.is_empty() {
            evidence("no flow log");
        }
        for fl in flow_logs {
            let tags: Vec<String> = (fl.tags().iter())
                .map(|t| format!("{}={}", t.key().unwrap_or(""), t.value().unwrap_or("")))
                .collect();
            let tags = if tags.is_empty() {
                "none".to_owned()
            } else {
                tags.join(",")
            };
            let group = fl.log_group_name().unwrap_or("-");
            evidence(&format!(
                "{}  traffic {}  {}  into {group} (retention {} days)  tags {tags}",
                fl.flow_log_id().unwrap_or("-"),
                fl.traffic_type().map_or("-", |t| t.as_str()),
                fl.flow_log_status().unwrap_or("-"),
                self.retention(group).await
            ));
        }
    }

    /// The retention of a log group in days, "never-expire", or "missing".
    async fn retention(&self, group: &str) -> String {
        match self.seed.retention(group).await {
            Some(Some(days)) => days.to_string(),
            Some(None) => "never-expire".to_owned(),
            None => "missing".to_owned(),
        }
    }

    async fn flow_log_ids(&self, vpc: &str) -> Vec<String> {
        let flow_logs = self.seed.flow_logs_of(vpc).await;
        (flow_logs.iter())
            .filter_map(|fl| fl.flow_log_id().map(str::to_owned))
            .collect()
    }

    /// The flow logs of `vpc` that flowguard created (tagged `managed-by=flowguard`).
    async fn managed_flow_logs(&self, vpc: &str) -> Vec<String> {
        let flow_logs = self.seed.flow_logs_of(vpc).await;
        (flow_logs.iter())
            .filter(|fl| {
                (fl.tags().iter())
                    .any(|t| t.key() == Some("managed-by") && t.value() == Some("flowguard"))
            })
            .filter_map(|fl| fl.flow_log_id().map(str::to_owned))
            .collect()
    }
}

/// An exit code as the shell shows it ("killed by a signal" when there is none).
fn exit_code(code: Option<i32>) -> String {
    code.map_or("killed by a signal".to_owned(), |c| c.to_string())
}
