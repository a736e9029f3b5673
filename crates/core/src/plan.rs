//! The planner: a pure function from (policy, observed state) to an ordered list of steps.
//!
//! Order matters and is fixed: log groups are created first, then retentions raised, then
//! flowguard's own failing flow logs deleted, then flow logs created. A flow log is never
//! created into a group that does not exist yet, and a replacement is created only after
//! the flow log it replaces is gone (creating first would collide with it).

use crate::ids::{FlowLogId, LogGroupName, VpcId};
use crate::observed::{Observed, Retention};
use crate::policy::Policy;
use crate::rule::{Checks, FlowLogVerdict};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// One `CreateFlowLogs` call takes at most this many VPC ids (the EC2 API's limit).
pub const MAX_VPCS_PER_CREATE: usize = 1000;

/// One remediation step. Each names the VPCs whose compliance depends on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Create a log group (tagged `managed-by=flowguard`, with the policy's KMS key).
    CreateLogGroup {
        name: LogGroupName,
        for_vpcs: Vec<VpcId>,
    },
    /// Raise a retention to the policy's. `current` is `None` for a group that this plan
    /// creates; otherwise the retention that was observed, which is always shorter.
    PutRetentionPolicy {
        name: LogGroupName,
        days: u32,
        current: Option<Retention>,
        for_vpcs: Vec<VpcId>,
    },
    /// Delete flow logs that flowguard created and that are failing delivery.
    DeleteFlowLogs { flow_logs: Vec<(FlowLogId, VpcId)> },
    /// Create one flow log per VPC into `log_group` (at most [`MAX_VPCS_PER_CREATE`] VPCs).
    CreateFlowLogs {
        log_group: LogGroupName,
        vpcs: Vec<VpcId>,
    },
}

/// What the plan does about one VPC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Compliant,
    Exempt,
    Gone,
    Remediate,
}

/// One VPC in the plan, with the rule's reason and the auditor's checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedVpc {
    pub vpc_id: VpcId,
    pub decision: Decision,
    pub reason: String,
    pub checks: Checks,
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

#[derive(Default)]
struct Builder {
    create_groups: BTreeMap<LogGroupName, Vec<VpcId>>,
    raise: BTreeMap<LogGroupName, (Option<Retention>, Vec<VpcId>)>,
    delete: Vec<(FlowLogId, VpcId)>,
    create_flow_logs: BTreeMap<LogGroupName, Vec<VpcId>>,
}

impl Builder {
    fn create_group(&mut self, name: &LogGroupName, vpc: &VpcId) {
        self.create_groups
            .entry(name.clone())
            .or_default()
            .push(vpc.clone());
        self.raise
            .entry(name.clone())
            .or_insert((None, Vec::new()))
            .1
            .push(vpc.clone());
    }

    fn raise(&mut self, name: &LogGroupName, current: Retention, vpc: Option<&VpcId>) {
        let entry = self
            .raise
            .entry(name.clone())
            .or_insert((Some(current), Vec::new()));
        entry.1.extend(vpc.cloned());
    }

    fn into_steps(self, days: u32) -> Vec<Step> {
        let mut steps = Vec::new();
        for (name, for_vpcs) in self.create_groups {
            steps.push(Step::CreateLogGroup { name, for_vpcs });
        }
        for (name, (current, for_vpcs)) in self.raise {
            steps.push(Step::PutRetentionPolicy {
                name,
                days,
                current,
                for_vpcs,
            });
        }
        if !self.delete.is_empty() {
            steps.push(Step::DeleteFlowLogs {
                flow_logs: self.delete,
            });
        }
        for (log_group, vpcs) in self.create_flow_logs {
            for chunk in vpcs.chunks(MAX_VPCS_PER_CREATE) {
                steps.push(Step::CreateFlowLogs {
                    log_group: log_group.clone(),
                    vpcs: chunk.to_vec(),
                });
            }
        }
        steps
    }
}

/// Plans the remediation of everything in `observed`.
pub fn plan(policy: &Policy, observed: &Observed) -> Plan {
    plan_avoiding(policy, observed, &BTreeSet::new())
}

/// Plans like [`plan`], without raising the retention of the groups in `unraisable` (groups
/// that are not flowguard's and whose retention it was not permitted to change): the VPCs
/// that depend on them get flowguard's own flow log into the managed group instead.
pub fn plan_avoiding(
    policy: &Policy,
    observed: &Observed,
    unraisable: &BTreeSet<LogGroupName>,
) -> Plan {
    let place = &observed.place;
    let mut builder = Builder::default();
    let mut vpcs = Vec::with_capacity(observed.vpcs.len() + observed.missing_vpcs.len());

    let by_resource = observed.flow_logs_by_resource();
    for vpc in &observed.vpcs {
        let mine = by_resource
            .get(vpc.id.as_str())
            .into_iter()
            .flatten()
            .copied();
        let evaluation = crate::rule::evaluate_with(policy, vpc, mine, observed);
        let decision = if evaluation.exempt {
            Decision::Exempt
        } else if evaluation.compliant {
            Decision::Compliant
        } else {
            Decision::Remediate
        };
        if decision == Decision::Remediate {
            let managed = policy.log_group.render(&vpc.id, place);
            let is_managed = |name: &LogGroupName| policy.log_group.matches(name, place).is_some();
            // 1. A flow log that only lacks retention: raise it (on any group).
            // 2. A flow log that only lacks its group, when that group is one of ours: create it.
            // 3. Otherwise a new flow log into the managed group.
            let short = evaluation.verdicts.iter().find_map(|(_, v)| match v {
                FlowLogVerdict::RetentionTooShort(name, current) if !unraisable.contains(name) => {
                    Some((name, *current))
                }
                _ => None,
            });
            let missing_ours = evaluation.verdicts.iter().find_map(|(_, v)| match v {
                FlowLogVerdict::GroupMissing(name) if is_managed(name) => Some(name),
                _ => None,
            });
            if let Some((name, current)) = short {
                builder.raise(name, current, Some(&vpc.id));
            } else if let Some(name) = missing_ours {
                builder.create_group(name, &vpc.id);
            } else {
                match observed.log_groups.get(&managed) {
                    None => builder.create_group(&managed, &vpc.id),
                    Some(group) if !group.retention.at_least(policy.retention_days) => {
                        builder.raise(&managed, group.retention, Some(&vpc.id));
                    }
                    Some(_) => {}
                }
                for (fl, verdict) in &evaluation.verdicts {
                    if fl.is_managed() && *verdict == FlowLogVerdict::FailingDelivery {
                        builder.delete.push((fl.id.clone(), vpc.id.clone()));
                    }
                }
                builder
                    .create_flow_logs
                    .entry(managed)
                    .or_default()
                    .push(vpc.id.clone());
            }
        }
        vpcs.push(PlannedVpc {
            vpc_id: vpc.id.clone(),
            decision,
            reason: evaluation.reason,
            checks: evaluation.checks,
        });
    }

    // The managed group keeps at least the policy's retention even when no VPC needs it now.
    for group in observed.log_groups.values() {
        if policy.log_group.matches(&group.name, place).is_some()
            && !group.retention.at_least(policy.retention_days)
        {
            builder.raise(&group.name, group.retention, None);
        }
    }

    for vpc_id in &observed.missing_vpcs {
        vpcs.push(PlannedVpc {
            vpc_id: vpc_id.clone(),
            decision: Decision::Gone,
            reason: "the VPC no longer exists".to_owned(),
            checks: Checks::default(),
        });
    }

    Plan {
        steps: builder.into_steps(policy.retention_days),
        vpcs,
    }
}
