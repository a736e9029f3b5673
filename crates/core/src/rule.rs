//! The compliance rule of docs/design.md, as pure functions over [`Observed`] state.
//!
//! A VPC is compliant when at least one of its VPC-level flow logs is ACTIVE, captures
//! rejected traffic as the policy asks, is not failing delivery, and, for CloudWatch Logs,
//! delivers to a log group that exists and keeps data at least the policy's retention.

use crate::ids::LogGroupName;
use crate::observed::{Destination, FlowLog, LogGroup, Observed, Retention, Vpc};
use crate::policy::Policy;
use crate::vocab::TrafficType;
use serde::Serialize;
use std::collections::BTreeMap;

/// Why one flow log does or does not count for its VPC's compliance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlowLogVerdict {
    Counts,
    NotActive(String),
    WrongTraffic,
    FailingDelivery,
    GroupMissing(LogGroupName),
    RetentionTooShort(LogGroupName, Retention),
}

impl FlowLogVerdict {
    /// One line for people.
    pub fn describe(&self, fl: &FlowLog, policy: &Policy) -> String {
        let id = &fl.id;
        match self {
            Self::Counts => format!("{id} counts"),
            Self::NotActive(status) => format!("{id} is {status}, not ACTIVE"),
            Self::WrongTraffic => format!(
                "{id} captures {} traffic, the policy needs {}",
                fl.traffic_type.map_or("unknown", |t| t.as_str()),
                policy.traffic_type
            ),
            Self::FailingDelivery => format!("{id} is failing delivery (DeliverLogsStatus=FAILED)"),
            Self::GroupMissing(group) => {
                format!("{id} delivers to log group {group}, which does not exist")
            }
            Self::RetentionTooShort(group, retention) => format!(
                "{id} delivers to {group}, which keeps data {retention}, less than {} days",
                policy.retention_days
            ),
        }
    }
}

/// Judges one flow log against the four points of the rule.
pub fn judge(
    policy: &Policy,
    fl: &FlowLog,
    groups: &BTreeMap<LogGroupName, LogGroup>,
) -> FlowLogVerdict {
    if fl.status != "ACTIVE" {
        return FlowLogVerdict::NotActive(fl.status.clone());
    }
    if !fl
        .traffic_type
        .is_some_and(|t| t.satisfies(policy.traffic_type))
    {
        return FlowLogVerdict::WrongTraffic;
    }
    if fl.deliver_status.as_deref() == Some("FAILED") {
        return FlowLogVerdict::FailingDelivery;
    }
    if let Some(name) = fl.log_group() {
        match groups.get(name) {
            None => return FlowLogVerdict::GroupMissing(name.clone()),
            Some(group) if !group.retention.at_least(policy.retention_days) => {
                return FlowLogVerdict::RetentionTooShort(name.clone(), group.retention);
            }
            Some(_) => {}
        }
    }
    FlowLogVerdict::Counts
}

/// The facts an auditor reads per VPC: the CIS benchmark's own test (an ACTIVE flow log
/// exists), Security Hub EC2.6's, and flowguard's stricter checks, each over all of the VPC's
/// flow logs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Checks {
    /// CIS 3.x audit step: at least one flow log with `FlowLogStatus=ACTIVE`.
    pub active_flow_log: bool,
    /// Security Hub EC2.6's test (AWS Config's `vpc-flow-logs-enabled`, whose `trafficType` EC2.6
    /// fixes to REJECT): an ACTIVE flow log captures rejected traffic, REJECT or ALL, whatever
    /// the policy's traffic type. Neither its delivery nor its destination counts.
    pub security_hub_ec2_6: bool,
    /// An ACTIVE flow log captures the policy's traffic type.
    pub captures_rejects: bool,
    /// An ACTIVE flow log of the right traffic type is not failing delivery.
    pub delivering: bool,
    /// The log group of the flow log that counts (or of the best candidate).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_group: Option<LogGroupName>,
    /// Its S3 destination instead, when it delivers to S3.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub s3_destination: Option<String>,
    /// That group's retention, or `unverified` for S3; absent when the group does not exist
    /// or the destination is neither.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retention: Option<RetentionCheck>,
    pub exempt: bool,
}

/// The retention an auditor reads for a VPC's flow log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum RetentionCheck {
    /// A CloudWatch Logs group's retention.
    Kept(Retention),
    /// An S3 bucket's: its lifecycle rules live in the bucket owner's account (the log
    /// archive), which a member account cannot read. The bucket's stack enforces it.
    #[serde(serialize_with = "unverified")]
    Unverified,
}

fn unverified<S: serde::Serializer>(s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str("unverified")
}

impl std::fmt::Display for RetentionCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Kept(retention) => retention.fmt(f),
            Self::Unverified => f.write_str("unverified (S3)"),
        }
    }
}

/// What the report says of an S3 flow log's retention.
pub const S3_RETENTION_NOTE: &str = "retention unverified: the bucket's lifecycle, in the \
    bucket owner's account (the log archive), keeps the records";

/// What the rule says of one VPC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    pub compliant: bool,
    pub exempt: bool,
    /// Why, in one line.
    pub reason: String,
    /// Every flow log of the VPC with its verdict.
    pub verdicts: Vec<(FlowLog, FlowLogVerdict)>,
    pub checks: Checks,
}

/// Applies the rule to one VPC.
pub fn evaluate(policy: &Policy, vpc: &Vpc, observed: &Observed) -> Evaluation {
    evaluate_with(policy, vpc, observed.flow_logs_of(&vpc.id), observed)
}

/// Applies the rule to one VPC whose flow logs the caller already has (see
/// [`Observed::flow_logs_by_resource`]).
pub fn evaluate_with<'a>(
    policy: &Policy,
    vpc: &Vpc,
    flow_logs: impl IntoIterator<Item = &'a FlowLog>,
    observed: &Observed,
) -> Evaluation {
    let exempt = policy.is_exempt(vpc.tags.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let verdicts: Vec<(FlowLog, FlowLogVerdict)> = flow_logs
        .into_iter()
        .map(|fl| (fl.clone(), judge(policy, fl, &observed.log_groups)))
        .collect();
    let counting = verdicts.iter().find(|(_, v)| *v == FlowLogVerdict::Counts);
    let checks = checks(
        policy,
        &verdicts,
        counting.map(|(fl, _)| fl),
        observed,
        exempt,
    );
    let compliant = counting.is_some();
    let reason = if exempt {
        format!("tagged {}=true: exempt, never changed", policy.exempt_tag)
    } else if let Some((fl, _)) = counting {
        match fl.log_group() {
            Some(group) => format!("flow log {} ({}) delivers to {group}", fl.id, traffic(fl)),
            None if matches!(fl.destination, Destination::S3(_)) => format!(
                "flow log {} ({}) delivers to {}; {S3_RETENTION_NOTE}",
                fl.id,
                traffic(fl),
                fl.destination
            ),
            None => format!(
                "flow log {} ({}) delivers to {}",
                fl.id,
                traffic(fl),
                fl.destination
            ),
        }
    } else if verdicts.is_empty() {
        "no flow log".to_owned()
    } else {
        verdicts
            .iter()
            .map(|(fl, v)| v.describe(fl, policy))
            .collect::<Vec<_>>()
            .join("; ")
    };
    Evaluation {
        compliant,
        exempt,
        reason,
        verdicts,
        checks,
    }
}

fn traffic(fl: &FlowLog) -> &'static str {
    fl.traffic_type.map_or("unknown traffic", |t| t.as_str())
}

fn checks(
    policy: &Policy,
    verdicts: &[(FlowLog, FlowLogVerdict)],
    counting: Option<&FlowLog>,
    observed: &Observed,
    exempt: bool,
) -> Checks {
    let active: Vec<&FlowLog> = verdicts
        .iter()
        .map(|(fl, _)| fl)
        .filter(|fl| fl.status == "ACTIVE")
        .collect();
    let capturing: Vec<&&FlowLog> = active
        .iter()
        .filter(|fl| {
            fl.traffic_type
                .is_some_and(|t| t.satisfies(policy.traffic_type))
        })
        .collect();
    let delivering = capturing
        .iter()
        .any(|fl| fl.deliver_status.as_deref() != Some("FAILED"));
    let shown = counting
        .or_else(|| capturing.first().map(|fl| **fl))
        .or_else(|| active.first().copied());
    let log_group = shown.and_then(|fl| fl.log_group().cloned());
    let s3_destination = shown.and_then(|fl| match &fl.destination {
        Destination::S3(arn) => Some(arn.clone()),
        _ => None,
    });
    let retention = match &log_group {
        Some(group) => observed
            .log_groups
            .get(group)
            .map(|g| RetentionCheck::Kept(g.retention)),
        None => s3_destination.as_ref().map(|_| RetentionCheck::Unverified),
    };
    let security_hub_ec2_6 = active.iter().any(|fl| {
        fl.traffic_type
            .is_some_and(|t| t.satisfies(TrafficType::Reject))
    });
    Checks {
        active_flow_log: !active.is_empty(),
        security_hub_ec2_6,
        captures_rejects: !capturing.is_empty(),
        delivering,
        log_group,
        s3_destination,
        retention,
        exempt,
    }
}
