//! The planner: a pure function from (policy, observed state) to an ordered list of steps.
//!
//! Order matters. A log group that flowguard creates gets its retention in the same step, and
//! a flow log is created only after the step that makes its group ready; flowguard's own flow
//! log that must be replaced (failing delivery for over an hour, or no longer matching the
//! policy) is deleted right before its replacement is created (creating first would collide
//! with it). The work is cut into units that each leave something whole behind: with one
//! managed group, the group, then batches of at most [`MAX_VPCS_PER_CREATE`] VPCs; with a
//! group per VPC, VPC by VPC. A run cut short between two steps leaves no group without its
//! retention and no VPC without the flow log it had.

mod steps;

pub use steps::{
    MAX_CALLS_PER_UNIT, MAX_FLOW_LOGS_PER_DELETE, MAX_VPCS_PER_CREATE, Replacement, Step, units,
};

use crate::ids::{LogGroupName, Place, VpcId};
use crate::observed::{Destination, FlowLog, Observed, Vpc};
use crate::policy::Policy;
use crate::rule::{Checks, FlowLogVerdict};
use serde::Serialize;
use steps::Builder;

/// flowguard's own failing flow log is replaced only when older than this (seconds): a younger
/// one may still be settling, and replacing it on every run would be a loop.
pub const REPLACE_FAILING_AFTER_SECONDS: i64 = 3600;
/// A failing flow log whose cause may not be gone (same configuration, nothing restored) is
/// replaced at most this often (seconds): AWS does not document whether a failing flow log
/// recovers by itself once its role, bucket or key policy is fixed, so a new one is tried once
/// a day; in between the VPC is reported failing, with EC2's cause, for a person to fix.
pub const REPLACE_UNCHANGED_AFTER_SECONDS: i64 = 24 * 3600;
/// EC2's `DeliverLogsErrorMessage` when CloudWatch Logs throttles the delivery: recreating the
/// flow log loses records and fixes nothing.
pub const RATE_LIMITED: &str = "Rate limited";

/// What the plan does about one VPC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Compliant,
    Exempt,
    /// Owned by another account (shared through AWS RAM): never changed here.
    NotOwned,
    Gone,
    Remediate,
    /// Not compliant, and nothing flowguard may do now would fix it (its own flow log is
    /// failing delivery but too young or rate limited to replace): a person must look.
    Blocked,
}

/// One VPC in the plan, with the rule's reason and the auditor's checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedVpc {
    pub vpc_id: VpcId,
    /// Its `Name` tag, if any.
    pub name: Option<String>,
    pub decision: Decision,
    pub reason: String,
    pub checks: Checks,
    /// The owning account, for a VPC that another account owns.
    pub owner_id: Option<String>,
}

/// The ordered steps, and a decision for every VPC in scope.
#[must_use = "a plan does nothing until it is executed or reported"]
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    pub steps: Vec<Step>,
    pub vpcs: Vec<PlannedVpc>,
}

impl Plan {
    /// Whether applying the plan would change nothing.
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }
}

/// Why flowguard's own flow log no longer matches the policy, if it does not: its traffic
/// type, destination, delivery role, aggregation interval, record format or S3 options.
/// Settings that EC2 did not describe are not held against it.
fn mismatch(policy: &Policy, fl: &FlowLog, wanted: &Destination) -> Option<String> {
    if fl.traffic_type != Some(policy.traffic_type) {
        return Some(format!(
            "captures {} traffic, the policy asks for {}",
            fl.traffic_type.map_or("unknown", |t| t.as_str()),
            policy.traffic_type
        ));
    }
    if !fl.destination.same_as(wanted) {
        return Some(format!(
            "delivers to {}, the policy's destination is {wanted}",
            fl.destination
        ));
    }
    if let (Some(want), Some(have)) = (&policy.delivery_role_arn, &fl.delivery_role_arn)
        && want != have
    {
        return Some(format!(
            "delivers with role {have}, the policy's role is {want}"
        ));
    }
    if let Some(have) = fl.max_aggregation_interval
        && have != policy.max_aggregation_interval
    {
        return Some(format!(
            "aggregates over {have} s, the policy asks for {} s",
            policy.max_aggregation_interval
        ));
    }
    if let Some(have) = &fl.log_format
        && have.trim() != policy.effective_log_format()
    {
        return Some(format!(
            "writes records as {have:?}, the policy's format is {:?}",
            policy.effective_log_format()
        ));
    }
    if let (Some(want), Some(have)) = (&policy.s3_options, &fl.s3_options)
        && want != have
    {
        return Some(format!(
            "writes S3 objects as {have}, the policy asks for {want}"
        ));
    }
    None
}

/// The likely cause of a delivery error into `destination`, for the person the alarm reaches.
pub fn likely_cause(message: Option<&str>, destination: &Destination) -> &'static str {
    match message {
        Some("Access error") if matches!(destination, Destination::S3(_)) => {
            "likely cause: the bucket policy (it must let delivery.logs.amazonaws.com put objects \
             for this account), the bucket's KMS key policy, or the bucket is gone"
        }
        Some("Access error") => {
            "likely cause: the delivery role's permissions, its trust policy, or the log group's KMS key policy"
        }
        Some(RATE_LIMITED) => {
            "CloudWatch Logs throttles the delivery: recreating the flow log would lose records and fix nothing; raise the account's CloudWatch Logs quotas"
        }
        Some("Unknown error") => "an internal error of the flow-logs service",
        _ => "see the flow log's DeliverLogsErrorMessage",
    }
}

/// Whether flowguard's own failing flow log may be replaced now, or why not: never while
/// CloudWatch Logs throttles it; after an hour when the cause may be gone (`restoring`: this
/// run recreates what it delivers to; a configuration that differs is replaced as stale
/// before this); else once a day.
fn replaceable(fl: &FlowLog, now: Option<i64>, restoring: bool) -> Result<(), String> {
    let error = fl.deliver_error.as_deref();
    let what = format!(
        "flowguard's flow log {} is failing delivery ({}; {})",
        fl.id,
        error.unwrap_or("no error message"),
        likely_cause(error, &fl.destination)
    );
    if error == Some(RATE_LIMITED) {
        return Err(format!("{what}: not replaced"));
    }
    let Some(age) = now.zip(fl.created_at).map(|(now, created)| now - created) else {
        return Err(format!("{what}: its age is unknown, so it is not replaced"));
    };
    if age > REPLACE_UNCHANGED_AFTER_SECONDS || (restoring && age > REPLACE_FAILING_AFTER_SECONDS) {
        return Ok(());
    }
    if age <= REPLACE_FAILING_AFTER_SECONDS {
        return Err(format!(
            "{what}: created {} min ago, replaced only after {} min, so that a failure never loops",
            age.max(0) / 60,
            REPLACE_FAILING_AFTER_SECONDS / 60
        ));
    }
    Err(format!(
        "{what}: its configuration is the policy's and its destination is in place, so a new \
         flow log would fail the same way; fix the cause: it is replaced once a day (created {} h \
         ago)",
        age / 3600
    ))
}

/// Plans the remediation of everything in `observed`.
pub fn plan(policy: &Policy, observed: &Observed) -> Plan {
    let place = &observed.place;
    let mut builder = Builder::default();
    let mut vpcs = Vec::with_capacity(observed.vpcs.len() + observed.missing_vpcs.len());

    let by_resource = observed.flow_logs_by_resource();
    for vpc in &observed.vpcs {
        let mine = by_resource
            .get(vpc.id.as_str())
            .map_or(&[][..], Vec::as_slice);
        vpcs.push(plan_vpc(policy, place, vpc, mine, observed, &mut builder));
    }

    // The managed group keeps at least the policy's retention even when no VPC needs it now
    // (with an S3 destination, flowguard manages no group).
    for group in observed.log_groups.values() {
        if policy.needs_delivery_role()
            && policy.log_group.matches(&group.name, place).is_some()
            && !group.retention.at_least(policy.retention_days)
        {
            builder.raise(&group.name, group.retention, None);
        }
    }

    for vpc_id in &observed.missing_vpcs {
        vpcs.push(PlannedVpc {
            vpc_id: vpc_id.clone(),
            name: None,
            decision: Decision::Gone,
            reason: "the VPC no longer exists".to_owned(),
            checks: Checks::default(),
            owner_id: None,
        });
    }

    Plan {
        steps: builder.into_steps(policy.retention_days),
        vpcs,
    }
}

fn plan_vpc(
    policy: &Policy,
    place: &Place,
    vpc: &Vpc,
    flow_logs: &[&FlowLog],
    observed: &Observed,
    builder: &mut Builder,
) -> PlannedVpc {
    let evaluation = crate::rule::evaluate_with(policy, vpc, flow_logs.iter().copied(), observed);
    let planned = |decision, reason| PlannedVpc {
        vpc_id: vpc.id.clone(),
        name: vpc.name().map(str::to_owned),
        decision,
        reason,
        checks: evaluation.checks.clone(),
        owner_id: None,
    };
    if evaluation.exempt {
        return planned(Decision::Exempt, evaluation.reason.clone());
    }
    if vpc.is_owned_by_another(&place.account) {
        let owner = vpc.owner_id.clone().unwrap_or_default();
        return PlannedVpc {
            owner_id: Some(owner.clone()),
            ..planned(
                Decision::NotOwned,
                format!(
                    "owned by account {owner} and shared to this one (AWS RAM): only the owner can \
                     manage its flow logs, and the owner's run enforces the rule"
                ),
            )
        };
    }
    let wanted = policy.destination_for(&vpc.id, place);
    // The group flowguard manages for this VPC: none with an S3 destination.
    let managed = match &wanted {
        Destination::CloudWatchLogs(name) => Some(name),
        _ => None,
    };
    let is_managed =
        |name: &LogGroupName| managed.is_some() && policy.log_group.matches(name, place).is_some();
    // flowguard's own flow logs that no longer match the policy are replaced.
    let stale: Vec<Replacement> = evaluation
        .verdicts
        .iter()
        .filter(|(fl, _)| fl.is_managed())
        .filter_map(|(fl, _)| {
            mismatch(policy, fl, &wanted).map(|why| Replacement {
                flow_log: fl.id.clone(),
                vpc: vpc.id.clone(),
                why: format!("flowguard's flow log {} {why}: replace it", fl.id),
            })
        })
        .collect();
    let is_stale = |fl: &FlowLog| stale.iter().any(|r| r.flow_log == fl.id);
    let remaining: Vec<&(FlowLog, FlowLogVerdict)> = evaluation
        .verdicts
        .iter()
        .filter(|(fl, _)| !is_stale(fl))
        .collect();

    if remaining.iter().any(|(_, v)| *v == FlowLogVerdict::Counts) {
        if stale.is_empty() {
            return planned(Decision::Compliant, evaluation.reason.clone());
        }
        let reason = format!(
            "{}; {}",
            evaluation.reason,
            stale
                .iter()
                .map(|r| r.why.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        );
        builder.delete.extend(stale);
        return planned(Decision::Remediate, reason);
    }

    // 1. A flow log that only lacks retention on the managed group: raise it.
    // 2. A flow log that only lacks its group, when that group is the managed one: create it.
    // 3. Otherwise flowguard's own flow log into the managed group, replacing its own failing
    //    one only when that is old enough and not rate limited.
    let short = remaining.iter().find_map(|(_, v)| match v {
        FlowLogVerdict::RetentionTooShort(name, current) if is_managed(name) => {
            Some((name, *current))
        }
        _ => None,
    });
    let missing_ours = remaining.iter().find_map(|(_, v)| match v {
        FlowLogVerdict::GroupMissing(name) if is_managed(name) => Some(name),
        _ => None,
    });
    if let Some((name, current)) = short {
        builder.raise(name, current, Some(&vpc.id));
        builder.delete.extend(stale);
        return planned(Decision::Remediate, evaluation.reason.clone());
    }
    if let Some(name) = missing_ours {
        builder.create_group(name, &vpc.id);
        builder.delete.extend(stale);
        return planned(Decision::Remediate, evaluation.reason.clone());
    }
    let mut replace = stale;
    let mut blocked = Vec::new();
    // This run recreates the managed group: what a failing flow log delivered to is restored.
    let restoring = managed.is_some_and(|group| !observed.log_groups.contains_key(group));
    for (fl, verdict) in &remaining {
        if fl.is_managed() && *verdict == FlowLogVerdict::FailingDelivery {
            let restored = restoring && fl.destination.same_as(&wanted);
            match replaceable(fl, observed.at, restored) {
                Ok(()) => replace.push(Replacement {
                    flow_log: fl.id.clone(),
                    vpc: vpc.id.clone(),
                    why: format!(
                        "flowguard's flow log {} is failing delivery ({}; {}) and may now succeed: replace it",
                        fl.id,
                        fl.deliver_error.as_deref().unwrap_or("no error message"),
                        likely_cause(fl.deliver_error.as_deref(), &fl.destination)
                    ),
                }),
                Err(why) => blocked.push(why),
            }
        }
    }
    if !blocked.is_empty() {
        return planned(Decision::Blocked, blocked.join("; "));
    }
    if let Some(managed) = managed {
        match observed.log_groups.get(managed) {
            None => builder.create_group(managed, &vpc.id),
            Some(group) if !group.retention.at_least(policy.retention_days) => {
                builder.raise(managed, group.retention, Some(&vpc.id));
            }
            Some(_) => {}
        }
    }
    if !replace.is_empty() {
        builder.replace.insert(vpc.id.clone(), replace);
    }
    builder
        .create
        .entry(wanted)
        .or_default()
        .push(vpc.id.clone());
    planned(Decision::Remediate, evaluation.reason.clone())
}
