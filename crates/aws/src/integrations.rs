//! The follow-ups of an enforcing run (issue 17), for [`crate::AwsRemediator`]: Security Hub's
//! findings of control EC2.6 on the remediated VPCs, and AWS Config's `VPC_FLOW_LOGS_ENABLED`
//! rule. What to do is the engine's (`flowguard_core::reconcile`, follow-ups); how AWS is asked
//! is here, within AWS's limits: `GetFindings` takes at most 20 values per filter and is read
//! to its last page, `BatchUpdateFindings` takes at most 100 findings, and
//! `StartConfigRulesEvaluation` at most 25 rules.

use crate::error::aws_error;
use aws_sdk_securityhub::types::{
    AwsSecurityFinding, AwsSecurityFindingFilters, AwsSecurityFindingIdentifier, NoteUpdate,
    StringFilter, StringFilterComparison, WorkflowStatus, WorkflowUpdate,
};
use flowguard_core::facts::facts;
use flowguard_core::{AwsError, FindingUpdate, Place, Reevaluation, VpcId};
use futures::{StreamExt, stream};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// `GetFindings`: at most this many values in one filter (API reference, `Filters`).
pub const MAX_FILTER_VALUES: usize = 20;
/// `BatchUpdateFindings`: at most this many findings per call (API reference).
pub const MAX_FINDINGS_PER_UPDATE: usize = 100;
/// `StartConfigRulesEvaluation`: at most this many rules per call (API reference).
pub const MAX_RULES_PER_EVALUATION: usize = 25;
/// VPCs whose findings are updated at once (Security Hub's `BatchUpdateFindings` rate is
/// 10 requests per second; the SDK retries the throttled ones).
const CONCURRENT_UPDATES: usize = 4;
/// Who `Note.UpdatedBy` names.
const UPDATED_BY: &str = "flowguard";

/// Finds each VPC's open findings of the control and updates them: one result per VPC.
pub(crate) async fn update_control_findings(
    hub: &aws_sdk_securityhub::Client,
    place: &Place,
    updates: &[FindingUpdate],
) -> Vec<(VpcId, Result<usize, AwsError>)> {
    let mut results = Vec::with_capacity(updates.len());
    for chunk in updates.chunks(MAX_FILTER_VALUES) {
        match open_findings(hub, place, chunk).await {
            Err(error) => {
                results.extend(chunk.iter().map(|u| (u.vpc.clone(), Err(error.clone()))));
            }
            Ok(mut by_arn) => {
                let jobs: Vec<_> = chunk
                    .iter()
                    .map(|update| {
                        let findings = by_arn.remove(&update.vpc_arn).unwrap_or_default();
                        async move {
                            let result = update_findings(hub, update, &findings).await;
                            (update.vpc.clone(), result)
                        }
                    })
                    .collect();
                let updated: Vec<(VpcId, Result<usize, AwsError>)> = stream::iter(jobs)
                    .buffered(CONCURRENT_UPDATES)
                    .collect()
                    .await;
                results.extend(updated);
            }
        }
    }
    results
}

/// The open (NEW or NOTIFIED), active findings of the control on these VPCs, by VPC ARN,
/// every page read. Only the run's own account and region: in a Security Hub administrator
/// account IAM cannot keep a caller from updating its members' findings, so the filter does.
async fn open_findings(
    hub: &aws_sdk_securityhub::Client,
    place: &Place,
    updates: &[FindingUpdate],
) -> Result<HashMap<String, Vec<AwsSecurityFindingIdentifier>>, AwsError> {
    let equals = |value: &str| {
        StringFilter::builder()
            .comparison(StringFilterComparison::Equals)
            .value(value)
            .build()
    };
    let filters = AwsSecurityFindingFilters::builder()
        .compliance_security_control_id(equals(&facts().integrations.control_id))
        .aws_account_id(equals(&place.account))
        .region(equals(&place.region))
        .set_resource_id(Some(updates.iter().map(|u| equals(&u.vpc_arn)).collect()))
        .record_state(equals("ACTIVE"))
        // Not flowguard's own findings, imported from its ASFF export into the account's
        // default product: only Security Hub's control findings.
        .product_arn(
            StringFilter::builder()
                .comparison(StringFilterComparison::NotEquals)
                .value(own_product_arn(place))
                .build(),
        )
        .workflow_status(equals(WorkflowStatus::New.as_str()))
        .workflow_status(equals(WorkflowStatus::Notified.as_str()))
        .build();
    let mut pages = hub
        .get_findings()
        .filters(filters)
        .max_results(100)
        .into_paginator()
        .send();
    let mut by_arn: HashMap<String, Vec<AwsSecurityFindingIdentifier>> = HashMap::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| aws_error("GetFindings", e))?;
        for finding in page.findings() {
            let Some(identifier) = identifier(finding) else {
                continue;
            };
            for update in updates {
                let on_vpc = finding
                    .resources()
                    .iter()
                    .any(|r| r.id() == Some(update.vpc_arn.as_str()));
                if on_vpc {
                    by_arn
                        .entry(update.vpc_arn.clone())
                        .or_default()
                        .push(identifier.clone());
                }
            }
        }
    }
    Ok(by_arn)
}

/// The product that flowguard's ASFF export imports into (the account's default product for
/// custom findings, as `flowguard_core::export` writes it).
fn own_product_arn(place: &Place) -> String {
    let partition = flowguard_core::vocab::partition_of(&place.region);
    let (region, account) = (&place.region, &place.account);
    format!("arn:{partition}:securityhub:{region}:{account}:product/{account}/default")
}

fn identifier(finding: &AwsSecurityFinding) -> Option<AwsSecurityFindingIdentifier> {
    Some(
        AwsSecurityFindingIdentifier::builder()
            .id(finding.id()?)
            .product_arn(finding.product_arn()?)
            .build(),
    )
}

/// Updates one VPC's findings, at most [`MAX_FINDINGS_PER_UPDATE`] per call: how many were
/// updated, or the first refusal.
async fn update_findings(
    hub: &aws_sdk_securityhub::Client,
    update: &FindingUpdate,
    findings: &[AwsSecurityFindingIdentifier],
) -> Result<usize, AwsError> {
    let mut updated = 0;
    for batch in findings.chunks(MAX_FINDINGS_PER_UPDATE) {
        let note = NoteUpdate::builder()
            .text(&update.note)
            .updated_by(UPDATED_BY)
            .build();
        let workflow = update.notify.then(|| {
            WorkflowUpdate::builder()
                .status(WorkflowStatus::Notified)
                .build()
        });
        let output = hub
            .batch_update_findings()
            .set_finding_identifiers(Some(batch.to_vec()))
            .note(note)
            .set_workflow(workflow)
            .send()
            .await
            .map_err(|e| aws_error("BatchUpdateFindings", e))?;
        if let Some(refused) = output.unprocessed_findings().first() {
            return Err(AwsError::service(
                "BatchUpdateFindings",
                refused.error_code().unwrap_or("UnprocessedFindings"),
                format!(
                    "{} of {} finding(s) not updated: {}",
                    output.unprocessed_findings().len(),
                    batch.len(),
                    refused.error_message().unwrap_or_default()
                ),
            ));
        }
        updated += output.processed_findings().len();
    }
    Ok(updated)
}

/// When this process last started an evaluation, per (account, region).
static LAST_EVALUATION: Mutex<Option<HashMap<(String, String), Instant>>> = Mutex::new(None);

/// Asks the rules whose source is the managed rule to evaluate again, unless this process did
/// less than the interval ago for the same account and region.
pub(crate) async fn reevaluate_config_rules(
    config: &aws_sdk_config::Client,
    place: &Place,
) -> Result<Reevaluation, AwsError> {
    let interval = Duration::from_secs(facts().integrations.reevaluate_interval_seconds);
    let key = (place.account.clone(), place.region.clone());
    let recently = |map: &HashMap<(String, String), Instant>| {
        map.get(&key).is_some_and(|at| at.elapsed() < interval)
    };
    if lock().as_ref().is_some_and(recently) {
        return Ok(Reevaluation::Recently);
    }
    let source = &facts().integrations.config_rule_source;
    let mut rules = Vec::new();
    let mut pages = config.describe_config_rules().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| aws_error("DescribeConfigRules", e))?;
        rules.extend(
            page.config_rules()
                .iter()
                .filter(|r| {
                    r.source()
                        .and_then(|s| s.source_identifier())
                        .is_some_and(|id| id == source)
                })
                .filter_map(|r| r.config_rule_name().map(str::to_owned)),
        );
    }
    if rules.is_empty() {
        return Ok(Reevaluation::NoRule);
    }
    for batch in rules.chunks(MAX_RULES_PER_EVALUATION) {
        let sent = config
            .start_config_rules_evaluation()
            .set_config_rule_names(Some(batch.to_vec()))
            .send()
            .await
            .map_err(|e| aws_error("StartConfigRulesEvaluation", e));
        match sent {
            Ok(_) => {}
            // "an evaluation is in progress, or StartConfigRulesEvaluation was called more
            // than once per minute" (API reference): asked already.
            Err(e) if e.has_code("LimitExceededException") => return Ok(Reevaluation::Recently),
            Err(e) => return Err(e),
        }
    }
    lock()
        .get_or_insert_with(HashMap::new)
        .insert(key, Instant::now());
    Ok(Reevaluation::Started(rules))
}

fn lock() -> std::sync::MutexGuard<'static, Option<HashMap<(String, String), Instant>>> {
    LAST_EVALUATION
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
