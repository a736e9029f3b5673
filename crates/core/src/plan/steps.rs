//! The steps a plan is made of, how the planner orders them, and the units of work they form.
//!
//! A unit is what must never be cut in two: a group made ready and the flow logs that wait
//! for it, a replaced flow log deleted and its replacement created. The executor looks at the
//! deadline only between units, so the longest unit ([`MAX_CALLS_PER_UNIT`] calls one after
//! the other) is what the Lambda keeps back from its deadline.

use crate::ids::{FlowLogId, LogGroupName, VpcId};
use crate::observed::{Destination, Retention};
use std::collections::{BTreeMap, HashMap};

/// One `CreateFlowLogs` call takes at most this many VPC ids: the EC2 API model's "Maximum of
/// 25 for transit gateway resource types. Maximum of 300 for the other resource types".
pub const MAX_VPCS_PER_CREATE: usize = 300;
/// One `DeleteFlowLogs` call takes at most this many flow-log ids (the EC2 API's limit).
pub const MAX_FLOW_LOGS_PER_DELETE: usize = 1000;
/// One remediation step. Each names the VPCs whose compliance depends on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Create a log group (tagged `managed-by=flowguard`, with the policy's KMS key) and set
    /// its retention to `days` at once, before anything delivers to it.
    CreateLogGroup {
        name: LogGroupName,
        days: u32,
        for_vpcs: Vec<VpcId>,
    },
    /// Raise the retention of the managed group, which was observed shorter than `days`.
    PutRetentionPolicy {
        name: LogGroupName,
        days: u32,
        current: Retention,
        for_vpcs: Vec<VpcId>,
    },
    /// Delete flowguard's own flow logs (at most [`MAX_FLOW_LOGS_PER_DELETE`]).
    DeleteFlowLogs { flow_logs: Vec<Replacement> },
    /// Create one flow log per VPC into `destination` (at most [`MAX_VPCS_PER_CREATE`] VPCs).
    CreateFlowLogs {
        destination: Destination,
        vpcs: Vec<VpcId>,
    },
}

impl Step {
    /// The calls the step makes one after the other, at most: a new group and its retention
    /// (and, when the group turns out to exist, the re-read that guards its retention), a
    /// retention raised after a re-read, one delete, one create.
    pub fn max_calls(&self) -> u32 {
        match self {
            Self::CreateLogGroup { .. } => 3,
            Self::PutRetentionPolicy { .. } => 2,
            Self::DeleteFlowLogs { .. } | Self::CreateFlowLogs { .. } => 1,
        }
    }

    /// Whether `self` finishes the unit of work that `prev` started, so that the deadline
    /// never falls between them: a group made ready and the flow logs that wait for it, a
    /// replaced flow log deleted and its replacement created.
    fn continues(&self, prev: &Step) -> bool {
        matches!(
            self,
            Self::DeleteFlowLogs { .. } | Self::CreateFlowLogs { .. }
        ) && !matches!(prev, Self::CreateFlowLogs { .. })
    }
}

/// The most calls a unit of work makes one after the other: a group created (3), a replaced
/// flow log deleted (1) and the flow logs created (1). The planner never makes a longer unit
/// (a property test checks it); the Lambda keeps this many calls' worth of time back from its
/// deadline.
pub const MAX_CALLS_PER_UNIT: u32 = 5;

/// The plan's steps cut into units of work, in order.
pub fn units(steps: &[Step]) -> Vec<&[Step]> {
    let mut units = Vec::new();
    let mut start = 0;
    for i in 1..=steps.len() {
        if i == steps.len() || !steps[i].continues(&steps[i - 1]) {
            units.push(&steps[start..i]);
            start = i;
        }
    }
    units
}

/// One of flowguard's own flow logs to delete, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replacement {
    pub flow_log: FlowLogId,
    pub vpc: VpcId,
    pub why: String,
}

/// How a log group is made ready before flow logs deliver to it.
#[derive(Debug)]
enum Prep {
    Create(Vec<VpcId>),
    Raise(Retention, Vec<VpcId>),
}

#[derive(Default)]
pub(super) struct Builder {
    prep: BTreeMap<LogGroupName, Prep>,
    /// Flow logs to create, by destination, in VPC order.
    pub(super) create: BTreeMap<Destination, Vec<VpcId>>,
    /// Own flow logs to delete right before the VPC's new flow log is created.
    pub(super) replace: HashMap<VpcId, Vec<Replacement>>,
    /// Own flow logs to delete on VPCs that need no new flow log.
    pub(super) delete: Vec<Replacement>,
}

impl Builder {
    pub(super) fn create_group(&mut self, name: &LogGroupName, vpc: &VpcId) {
        match self
            .prep
            .entry(name.clone())
            .or_insert_with(|| Prep::Create(Vec::new()))
        {
            Prep::Create(vpcs) | Prep::Raise(_, vpcs) => vpcs.push(vpc.clone()),
        }
    }

    pub(super) fn raise(&mut self, name: &LogGroupName, current: Retention, vpc: Option<&VpcId>) {
        let (Prep::Create(vpcs) | Prep::Raise(_, vpcs)) = self
            .prep
            .entry(name.clone())
            .or_insert_with(|| Prep::Raise(current, Vec::new()));
        vpcs.extend(vpc.cloned());
    }

    fn prep_step(name: LogGroupName, prep: Prep, days: u32) -> Step {
        match prep {
            Prep::Create(for_vpcs) => Step::CreateLogGroup {
                name,
                days,
                for_vpcs,
            },
            Prep::Raise(current, for_vpcs) => Step::PutRetentionPolicy {
                name,
                days,
                current,
                for_vpcs,
            },
        }
    }

    fn deletes(steps: &mut Vec<Step>, replacements: Vec<Replacement>) {
        for chunk in replacements.chunks(MAX_FLOW_LOGS_PER_DELETE) {
            steps.push(Step::DeleteFlowLogs {
                flow_logs: chunk.to_vec(),
            });
        }
    }

    pub(super) fn into_steps(mut self, days: u32) -> Vec<Step> {
        let mut steps = Vec::new();
        // Groups that no new flow log waits for: made ready first.
        let waiting: Vec<LogGroupName> = self
            .prep
            .keys()
            .filter(|name| {
                !self
                    .create
                    .contains_key(&Destination::CloudWatchLogs((*name).clone()))
            })
            .cloned()
            .collect();
        for name in waiting {
            if let Some(prep) = self.prep.remove(&name) {
                steps.push(Self::prep_step(name, prep, days));
            }
        }
        // Then unit by unit: the group, then batches of VPCs, each batch's replaced flow
        // logs deleted right before its flow logs are created.
        for (destination, vpcs) in std::mem::take(&mut self.create) {
            if let Destination::CloudWatchLogs(log_group) = &destination
                && let Some(prep) = self.prep.remove(log_group)
            {
                steps.push(Self::prep_step(log_group.clone(), prep, days));
            }
            for chunk in vpcs.chunks(MAX_VPCS_PER_CREATE) {
                let replaced: Vec<Replacement> = chunk
                    .iter()
                    .flat_map(|vpc| self.replace.remove(vpc).unwrap_or_default())
                    .collect();
                Self::deletes(&mut steps, replaced);
                steps.push(Step::CreateFlowLogs {
                    destination: destination.clone(),
                    vpcs: chunk.to_vec(),
                });
            }
        }
        Self::deletes(&mut steps, self.delete);
        steps
    }
}
