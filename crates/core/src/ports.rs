//! The ports through which the engine reaches AWS, in flowguard's own types.
//!
//! [`Inventory`] only reads (its `check_create_flow_logs` sends EC2's `DryRun=true`, which
//! changes nothing); [`Remediator`] writes. An audit or a dry run only reads through the
//! `Inventory`: [`crate::reconcile`] hands the remediator to enforcing runs alone.
//! [`Places`] hands out both for one place (account×region): the one way every shell reaches
//! the AWS of a place, in its own account or, in organization mode, through a member session.

use crate::error::AwsError;
use crate::ids::{FlowLogId, LogGroupName, Place, VpcId};
use crate::observed::{Destination, FlowLog, LogGroup, Vpc};
use crate::trigger::Trigger;
use crate::vocab::{S3Options, TrafficType};
use serde::Serialize;
use std::future::Future;

/// Which VPCs to describe.
#[derive(Debug, Clone, Copy)]
pub enum VpcQuery<'a> {
    All,
    Ids(&'a [VpcId]),
}

/// Which flow logs to describe.
#[derive(Debug, Clone, Copy)]
pub enum FlowLogQuery<'a> {
    All,
    /// The flow logs attached to these VPCs.
    Resources(&'a [VpcId]),
    /// The flow logs that deliver to this log group.
    LogGroup(&'a LogGroupName),
}

/// One `CreateFlowLogs` request: one flow log per VPC, all into one destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowLogRequest {
    pub vpcs: Vec<VpcId>,
    /// A log group, or an S3 bucket ARN (never anything else).
    pub destination: Destination,
    /// The delivery role: for CloudWatch Logs only (EC2 refuses one for S3).
    pub delivery_role_arn: Option<String>,
    pub traffic_type: TrafficType,
    pub max_aggregation_interval: u32,
    /// A custom record format; `None`: EC2's default.
    pub log_format: Option<String>,
    /// `DestinationOptions`, for S3 only.
    pub s3_options: Option<S3Options>,
    /// Idempotency token derived from the trigger and the request (at most 64 characters).
    pub client_token: String,
}

/// The answer of EC2's `DryRun=true` permission check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    Allowed,
    Denied,
    Unchecked,
}

/// What `CreateFlowLogs` answered: one outcome per requested VPC, and the ids of the new flow
/// logs that the answer does not tie to a VPC. For one VPC EC2's answer is its id; for several
/// it lists the ids alone, in no promised order, and [`Remediator::vpcs_of`] reads them back,
/// once per round for all of the round's creates.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Creation {
    pub per_vpc: Vec<(VpcId, Created)>,
    pub untied: Vec<FlowLogId>,
}

/// The outcome of `CreateFlowLogs` for one VPC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Created {
    /// Created, with the new flow log's id when the answer tied it to the VPC (one VPC; for
    /// several the id is among [`Creation::untied`]).
    Created(Option<FlowLogId>),
    /// `FlowLogAlreadyExists`, at top level or as an `Unsuccessful` entry.
    AlreadyExists(AwsError),
    Failed(AwsError),
}

/// One VPC's Security Hub findings (control EC2.6) to update after a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingUpdate {
    pub vpc: VpcId,
    /// The VPC's ARN, as Security Hub names the finding's resource.
    pub vpc_arn: String,
    /// `true` (remediated): set the workflow status to NOTIFIED as well; `false`: add the note
    /// only. Never RESOLVED: Security Hub resolves a control finding itself once it passes.
    pub notify: bool,
    /// At most 512 characters (BatchUpdateFindings' `Note.Text`).
    pub note: String,
}

/// What asking AWS Config to evaluate again did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reevaluation {
    /// Started for these rules.
    Started(Vec<String>),
    /// No rule of the account and region has the managed source `VPC_FLOW_LOGS_ENABLED`.
    NoRule,
    /// Asked less than the interval ago (`reevaluate_interval_seconds`) from this process.
    Recently,
}

/// The read side. Implementations paginate every listing completely.
pub trait Inventory: Sync {
    fn vpcs(&self, query: VpcQuery<'_>) -> impl Future<Output = Result<Vec<Vpc>, AwsError>> + Send;
    fn flow_logs(
        &self,
        query: FlowLogQuery<'_>,
    ) -> impl Future<Output = Result<Vec<FlowLog>, AwsError>> + Send;
    /// The groups among `names` that exist (absent ones are simply not returned).
    fn log_groups(
        &self,
        names: &[LogGroupName],
    ) -> impl Future<Output = Result<Vec<LogGroup>, AwsError>> + Send;
    /// `CreateFlowLogs` with `DryRun=true`: would the request be allowed?
    fn check_create_flow_logs(
        &self,
        request: &FlowLogRequest,
    ) -> impl Future<Output = Result<Permission, AwsError>> + Send;
}

/// The write side.
pub trait Remediator: Sync {
    /// Creates a group tagged `managed-by=flowguard`, with the KMS key if given.
    fn create_log_group(
        &self,
        name: &LogGroupName,
        kms_key_arn: Option<&str>,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
    fn put_retention_policy(
        &self,
        name: &LogGroupName,
        days: u32,
    ) -> impl Future<Output = Result<(), AwsError>> + Send;
    /// Creates the flow logs (tagged `managed-by=flowguard`); one outcome per requested VPC.
    /// A top-level error other than `FlowLogAlreadyExists` is returned as `Err`.
    fn create_flow_logs(
        &self,
        request: &FlowLogRequest,
    ) -> impl Future<Output = Result<Creation, AwsError>> + Send;
    /// The VPC of each of `ids`, flow logs just created that `CreateFlowLogs` did not tie to a
    /// VPC ([`Creation::untied`]): what could be read. The flow logs exist whatever this read
    /// says, so a failed read leaves their ids unknown (the next inventory names them).
    fn vpcs_of(&self, ids: &[FlowLogId]) -> impl Future<Output = Vec<(FlowLogId, VpcId)>> + Send;
    /// Whether the delivery role `arn` exists in this place's account and trusts the flow-logs
    /// service, asked before the run's first flow log into CloudWatch Logs: EC2 accepts a flow
    /// log with a missing role and the flow log then fails to deliver. At most one IAM call
    /// per account (IAM is global: the answer serves the account's regions). `Ok` by default:
    /// for a shell that checked its own account's role at start-up.
    fn verify_delivery_role(
        &self,
        _arn: &str,
    ) -> impl Future<Output = Result<(), AwsError>> + Send {
        std::future::ready(Ok(()))
    }
    /// Deletes flow logs; one outcome per id (`None` = deleted).
    fn delete_flow_logs(
        &self,
        ids: &[FlowLogId],
    ) -> impl Future<Output = Result<Vec<(FlowLogId, Option<AwsError>)>, AwsError>> + Send;
    /// Security Hub: finds each VPC's open findings of control EC2.6 in `place`'s account and
    /// region (every page) and updates them as `updates` say, at most 100 findings per call;
    /// per VPC, how many were updated (0: none open) or why not.
    fn update_control_findings(
        &self,
        place: &Place,
        updates: &[FindingUpdate],
    ) -> impl Future<Output = Vec<(VpcId, Result<usize, AwsError>)>> + Send;
    /// AWS Config: asks the rules whose source is `VPC_FLOW_LOGS_ENABLED` in `place` to
    /// evaluate again, at most once per account and region per interval.
    fn reevaluate_config_rules(
        &self,
        place: &Place,
    ) -> impl Future<Output = Result<Reevaluation, AwsError>> + Send;
}

/// The AWS of places: the ports of one account×region. flowguard-aws implements it once (the
/// caller's own credentials in its own account, a member-role session in another), the fake in
/// memory; the handler, the sweep and every shell reach AWS through it.
pub trait Places: Sync {
    type Inventory: Inventory + Send;
    type Remediator: Remediator + Send;
    /// The ports for running `trigger` at `place` (a member session it starts is named after
    /// the trigger's event); an error when the place cannot be reached.
    fn ports(
        &self,
        place: &Place,
        trigger: &Trigger,
    ) -> impl Future<Output = Result<(Self::Inventory, Self::Remediator), AwsError>> + Send;
    /// A sweep has finished every run in `account`: what the places keep for it (a member
    /// session) may go, so that a sweep holds sessions only for the accounts in flight. Nothing
    /// by default.
    fn done_with(&self, _account: &str) {}
}

/// Shared ports (`Arc<T>`) are ports too, so shells can hand out cheap clones.
impl<T: Inventory + Send> Inventory for std::sync::Arc<T> {
    fn vpcs(&self, query: VpcQuery<'_>) -> impl Future<Output = Result<Vec<Vpc>, AwsError>> + Send {
        (**self).vpcs(query)
    }
    fn flow_logs(
        &self,
        query: FlowLogQuery<'_>,
    ) -> impl Future<Output = Result<Vec<FlowLog>, AwsError>> + Send {
        (**self).flow_logs(query)
    }
    fn log_groups(
        &self,
        names: &[LogGroupName],
    ) -> impl Future<Output = Result<Vec<LogGroup>, AwsError>> + Send {
        (**self).log_groups(names)
    }
    fn check_create_flow_logs(
        &self,
        request: &FlowLogRequest,
    ) -> impl Future<Output = Result<Permission, AwsError>> + Send {
        (**self).check_create_flow_logs(request)
    }
}

impl<T: Remediator + Send> Remediator for std::sync::Arc<T> {
    fn create_log_group(
        &self,
        name: &LogGroupName,
        kms_key_arn: Option<&str>,
    ) -> impl Future<Output = Result<(), AwsError>> + Send {
        (**self).create_log_group(name, kms_key_arn)
    }
    fn put_retention_policy(
        &self,
        name: &LogGroupName,
        days: u32,
    ) -> impl Future<Output = Result<(), AwsError>> + Send {
        (**self).put_retention_policy(name, days)
    }
    fn create_flow_logs(
        &self,
        request: &FlowLogRequest,
    ) -> impl Future<Output = Result<Creation, AwsError>> + Send {
        (**self).create_flow_logs(request)
    }
    fn vpcs_of(&self, ids: &[FlowLogId]) -> impl Future<Output = Vec<(FlowLogId, VpcId)>> + Send {
        (**self).vpcs_of(ids)
    }
    fn delete_flow_logs(
        &self,
        ids: &[FlowLogId],
    ) -> impl Future<Output = Result<Vec<(FlowLogId, Option<AwsError>)>, AwsError>> + Send {
        (**self).delete_flow_logs(ids)
    }
    fn verify_delivery_role(&self, arn: &str) -> impl Future<Output = Result<(), AwsError>> + Send {
        (**self).verify_delivery_role(arn)
    }
    fn update_control_findings(
        &self,
        place: &Place,
        updates: &[FindingUpdate],
    ) -> impl Future<Output = Vec<(VpcId, Result<usize, AwsError>)>> + Send {
        (**self).update_control_findings(place, updates)
    }
    fn reevaluate_config_rules(
        &self,
        place: &Place,
    ) -> impl Future<Output = Result<Reevaluation, AwsError>> + Send {
        (**self).reevaluate_config_rules(place)
    }
}
