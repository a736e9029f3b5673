//! Closing the loop after a run (`FLOWGUARD_SECURITY_HUB`, `FLOWGUARD_CONFIG_REEVALUATE`):
//! Security Hub keeps a remediated VPC's EC2.6 finding FAILED until its AWS Config rule runs
//! again, up to a day later. So, once an enforcing run is over, the remediated VPCs' findings
//! get a note naming what flowguard did and when, and the workflow status NOTIFIED; the VPCs
//! it could not fix get a note saying why (status unchanged); and the Config rule is asked to
//! evaluate again. flowguard never sets a finding RESOLVED: Security Hub reopens a resolved
//! finding only when its compliance changes from PASSED to FAILED, so a finding resolved while
//! still FAILED would hide a failure, and Security Hub resolves a passing control finding
//! itself once Config says so. A dry run plans the same actions. Every follow-up is an action of the report (`resolve_findings`,
//! `reevaluate_config_rule`); its failure is reported and counted, never a failed run
//! ([`crate::report::ActionKind::is_follow_up`]).

use super::Run;
use crate::error::{AwsError, Disposition, classify};
use crate::facts::facts;
use crate::ports::{FindingUpdate, Reevaluation, Remediator};
use crate::report::{Action, ActionKind, ActionResult, Report, VpcReport, VpcStatus};

/// BatchUpdateFindings' longest `Note.Text`.
pub const MAX_NOTE_CHARACTERS: usize = 512;

/// The follow-ups a dry run would make: one `resolve_findings` per VPC it would remediate,
/// and one `reevaluate_config_rule` when there is any.
pub(super) fn plan(run: &Run<'_>, report: &mut Report) {
    let policy = run.policy;
    let control = &facts().integrations.control_id;
    let to_fix: Vec<&VpcReport> = report
        .vpcs
        .iter()
        .filter(|v| v.status == VpcStatus::WouldRemediate)
        .collect();
    let mut actions = Vec::new();
    if policy.security_hub {
        for vpc in &to_fix {
            let mut action = Action::new(
                ActionKind::ResolveFindings,
                vpc.vpc_id.as_str(),
                ActionResult::Planned,
            );
            action.detail = Some(format!(
                "Security Hub {control} findings of {}: a note and NOTIFIED once remediated",
                vpc_arn(run, vpc)
            ));
            actions.push(action);
        }
    }
    if policy.config_reevaluate && !to_fix.is_empty() {
        actions.push(reevaluate_action(ActionResult::Planned));
    }
    report.push_actions(actions);
}

/// The follow-ups of an enforcing run, done once its remediation is over.
pub(super) async fn apply<R: Remediator>(rem: &R, run: &Run<'_>, report: &mut Report) {
    let policy = run.policy;
    let mut actions = Vec::new();
    if policy.security_hub {
        let updates: Vec<FindingUpdate> = report
            .vpcs
            .iter()
            .filter_map(|vpc| finding_update(run, vpc))
            .collect();
        if !updates.is_empty() {
            let results = rem.update_control_findings(&run.place, &updates).await;
            for update in &updates {
                let result = results
                    .iter()
                    .find(|(vpc, _)| *vpc == update.vpc)
                    .map(|(_, r)| r.clone());
                actions.push(findings_action(update, result));
            }
        }
    }
    let remediated = report
        .vpcs
        .iter()
        .any(|v| v.status == VpcStatus::Remediated);
    if policy.config_reevaluate && remediated {
        let mut action = reevaluate_action(ActionResult::Applied);
        match rem.reevaluate_config_rules(&run.place).await {
            Ok(Reevaluation::Started(rules)) => {
                action.target = rules.join(",");
                action.detail = Some("evaluation started".to_owned());
            }
            Ok(Reevaluation::NoRule) => {
                action.result = ActionResult::AlreadyDone;
                action.detail = Some(format!(
                    "no AWS Config rule with the source {} in this account and region",
                    facts().integrations.config_rule_source
                ));
            }
            Ok(Reevaluation::Recently) => {
                action.result = ActionResult::AlreadyDone;
                action.detail = Some(format!(
                    "started less than {} s ago from this process: not asked again",
                    facts().integrations.reevaluate_interval_seconds
                ));
            }
            Err(error) => failed(&mut action, &error),
        }
        actions.push(action);
    }
    report.push_actions(actions);
}

/// What to tell Security Hub of one VPC: a remediated VPC's findings get what was done and the
/// workflow status NOTIFIED, a failed one's get the reason; the others are left as they are.
fn finding_update(run: &Run<'_>, vpc: &VpcReport) -> Option<FindingUpdate> {
    let at = when(run);
    let (notify, note) = match vpc.status {
        VpcStatus::Remediated => (true, format!("flowguard{at}: {}", vpc.reason)),
        VpcStatus::Failed => (
            false,
            format!("flowguard{at} could not remediate: {}", vpc.reason),
        ),
        _ => return None,
    };
    Some(FindingUpdate {
        vpc: vpc.vpc_id.clone(),
        vpc_arn: vpc_arn(run, vpc),
        notify,
        note: truncate(&note, MAX_NOTE_CHARACTERS),
    })
}

fn findings_action(update: &FindingUpdate, result: Option<Result<usize, AwsError>>) -> Action {
    let control = &facts().integrations.control_id;
    let mut action = Action::new(
        ActionKind::ResolveFindings,
        update.vpc.as_str(),
        ActionResult::Applied,
    );
    let done = if update.notify {
        "annotated and NOTIFIED (Security Hub resolves it once Config finds the VPC compliant)"
    } else {
        "annotated (status unchanged)"
    };
    match result {
        Some(Ok(0)) => {
            action.result = ActionResult::AlreadyDone;
            action.detail = Some(format!("no open Security Hub {control} finding"));
        }
        Some(Ok(n)) => {
            action.detail = Some(format!("{n} Security Hub {control} finding(s) {done}"));
        }
        Some(Err(error)) => failed(&mut action, &error),
        None => {
            let error = AwsError::service(
                "BatchUpdateFindings",
                "NoResult",
                format!("no result for {}", update.vpc),
            );
            failed(&mut action, &error);
        }
    }
    action
}

fn reevaluate_action(result: ActionResult) -> Action {
    let mut action = Action::new(
        ActionKind::ReevaluateConfigRule,
        facts().integrations.config_rule_source.as_str(),
        result,
    );
    action.detail = Some(format!(
        "AWS Config: the rules with the source {} evaluate again, so that Security Hub's {} \
         follows within minutes",
        facts().integrations.config_rule_source,
        facts().integrations.control_id
    ));
    action
}

fn failed(action: &mut Action, error: &AwsError) {
    action.result = ActionResult::Failed;
    action.error_code = Some(error.report_code());
    action.error_message = Some(format!(
        "{error} (reported and counted in FindingsUpdateFailures; the remediation stands)"
    ));
    action.retryable = Some(classify(error) == Disposition::RetryLater);
}

/// The VPC's ARN, as Security Hub names a finding's resource.
fn vpc_arn(run: &Run<'_>, vpc: &VpcReport) -> String {
    let place = &run.place;
    format!(
        "arn:{}:ec2:{}:{}:vpc/{}",
        crate::organization::partition_of(&place.region),
        place.region,
        place.account,
        vpc.vpc_id
    )
}

/// " at 2026-12-01T07:30:00Z", or nothing when the run has no clock.
fn when(run: &Run<'_>) -> String {
    run.now
        .and_then(|now| time::OffsetDateTime::from_unix_timestamp(now).ok())
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .map(|t| format!(" at {t}"))
        .unwrap_or_default()
}

/// `text` cut to at most `max` characters, with `…` when cut.
fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max - 1).collect();
    cut.push('…');
    cut
}
