//! [`AwsRemediator`]: the write-side port. Everything it creates is tagged
//! `managed-by=flowguard`; it deletes only the flow logs the engine names, which the planner
//! restricts to flowguard's own (and the deployed IAM policy enforces the same by tag).

use crate::config::Clients;
use crate::convert;
use crate::error::aws_error;
use crate::iam::{self, RoleProblem};
use crate::integrations;
use aws_sdk_ec2::operation::create_flow_logs::builders::CreateFlowLogsFluentBuilder;
use aws_sdk_ec2::types::{FlowLogsResourceType, LogDestinationType};
use aws_sdk_ec2::types::{ResourceType, Tag, TagSpecification};
use flowguard_core::observed::Destination;
use flowguard_core::policy::{MANAGED_TAG_KEY, MANAGED_TAG_VALUE, is_kms_alias};
use flowguard_core::{
    AwsError, Created, Creation, FindingUpdate, FlowLogId, FlowLogRequest, LogGroupName, Place,
    Reevaluation, Remediator, VpcId,
};
use std::sync::Arc;
use tokio::sync::OnceCell;

/// The resource type flowguard always asks for.
const RESOURCE_TYPE: FlowLogsResourceType = FlowLogsResourceType::Vpc;

/// Flow log ids per `DescribeFlowLogs`: "Constraint: Maximum of 1000 flow log IDs." (the pinned
/// aws-sdk-ec2's `DescribeFlowLogsInput::flow_log_ids`; the test proxy refuses more).
pub const MAX_FLOW_LOG_IDS: usize = 1000;

/// The write side, for one region.
#[derive(Debug, Clone)]
pub struct AwsRemediator {
    clients: Clients,
    /// A member account's delivery-role check, shared by its regions (see
    /// [`AwsRemediator::checking_the_role`]); `None` where the shell checked it at start-up.
    role_check: Option<RoleCheck>,
}

/// The answer of one account's delivery-role check, asked once and shared.
pub type RoleCheck = Arc<OnceCell<Result<(), AwsError>>>;

impl AwsRemediator {
    /// The remediator of the caller's own account, whose delivery role the shell checked at
    /// start-up ([`crate::setup::init`]).
    pub fn new(clients: Clients) -> Self {
        Self {
            clients,
            role_check: None,
        }
    }

    /// The remediator of a member account, which checks the account's delivery role with
    /// `iam:GetRole` before its first flow log, once for all its regions (`check` is the
    /// account's).
    pub fn checking_the_role(clients: Clients, check: RoleCheck) -> Self {
        Self {
            clients,
            role_check: Some(check),
        }
    }

    /// The ARN of the key `alias` names in this account and region (`kms:DescribeKey`):
    /// CloudWatch Logs takes only a key ARN, and an alias is how one setting names each
    /// account's own key.
    async fn key_of_alias(&self, alias: &str) -> Result<String, AwsError> {
        let described = self
            .clients
            .kms()
            .describe_key()
            .key_id(alias)
            .send()
            .await
            .map_err(|e| aws_error("DescribeKey", e))?;
        described
            .key_metadata()
            .and_then(|key| key.arn())
            .map(str::to_owned)
            .ok_or_else(|| {
                AwsError::service(
                    "DescribeKey",
                    "NotFoundException",
                    format!("{alias} names no key with an ARN"),
                )
            })
    }
}

/// The `CreateFlowLogs` call for a request (shared with the dry-run check).
pub(crate) fn create_flow_logs_request(
    ec2: &aws_sdk_ec2::Client,
    request: &FlowLogRequest,
) -> CreateFlowLogsFluentBuilder {
    let tag = Tag::builder()
        .key(MANAGED_TAG_KEY)
        .value(MANAGED_TAG_VALUE)
        .build();
    let call = ec2
        .create_flow_logs()
        .resource_type(RESOURCE_TYPE)
        .set_resource_ids(Some(
            request.vpcs.iter().map(|v| v.as_str().to_owned()).collect(),
        ))
        .traffic_type(convert::traffic_type(request.traffic_type));
    // A log group by name with the delivery role, or an S3 bucket by ARN with its options:
    // EC2 refuses a delivery role for S3 and DestinationOptions for CloudWatch Logs.
    let call = match &request.destination {
        Destination::CloudWatchLogs(group) => call
            .log_destination_type(LogDestinationType::CloudWatchLogs)
            .log_group_name(group.as_str()),
        Destination::S3(arn) | Destination::Other(arn) => call
            .log_destination_type(LogDestinationType::S3)
            .log_destination(arn)
            .set_destination_options(
                request
                    .s3_options
                    .as_ref()
                    .map(convert::destination_options),
            ),
    };
    call.set_deliver_logs_permission_arn(request.delivery_role_arn.clone())
        .set_log_format(request.log_format.clone())
        .max_aggregation_interval(i32::try_from(request.max_aggregation_interval).unwrap_or(600))
        .client_token(&request.client_token)
        .tag_specifications(
            TagSpecification::builder()
                .resource_type(ResourceType::VpcFlowLog)
                .tags(tag)
                .build(),
        )
}

/// EC2's `Unsuccessful` entries by resource id (the first one for each), so that a batch of
/// 300 ids is matched in one pass rather than one scan per id.
fn by_resource(
    items: &[aws_sdk_ec2::types::UnsuccessfulItem],
) -> std::collections::HashMap<&str, &aws_sdk_ec2::types::UnsuccessfulItem> {
    let mut map = std::collections::HashMap::with_capacity(items.len());
    for item in items {
        if let Some(id) = item.resource_id() {
            map.entry(id).or_insert(item);
        }
    }
    map
}

fn unsuccessful_error(
    operation: &'static str,
    item: &aws_sdk_ec2::types::UnsuccessfulItem,
) -> AwsError {
    let code = item.error().and_then(|e| e.code()).unwrap_or("Unknown");
    let message = item.error().and_then(|e| e.message()).unwrap_or_default();
    AwsError::service(operation, code, message)
}

impl Remediator for AwsRemediator {
    async fn create_log_group(
        &self,
        name: &LogGroupName,
        kms_key: Option<&str>,
    ) -> Result<(), AwsError> {
        let kms_key_arn = match kms_key {
            Some(alias) if is_kms_alias(alias) => Some(self.key_of_alias(alias).await?),
            key => key.map(str::to_owned),
        };
        self.clients
            .logs
            .create_log_group()
            .log_group_name(name.as_str())
            .tags(MANAGED_TAG_KEY, MANAGED_TAG_VALUE)
            .set_kms_key_id(kms_key_arn)
            .send()
            .await
            .map_err(|e| aws_error("CreateLogGroup", e))?;
        Ok(())
    }

    async fn put_retention_policy(&self, name: &LogGroupName, days: u32) -> Result<(), AwsError> {
        self.clients
            .logs
            .put_retention_policy()
            .log_group_name(name.as_str())
            .retention_in_days(i32::try_from(days).unwrap_or(i32::MAX))
            .send()
            .await
            .map_err(|e| aws_error("PutRetentionPolicy", e))?;
        Ok(())
    }

    async fn create_flow_logs(&self, request: &FlowLogRequest) -> Result<Creation, AwsError> {
        let output = match create_flow_logs_request(&self.clients.ec2, request)
            .send()
            .await
        {
            Ok(output) => output,
            Err(e) => {
                let error = aws_error("CreateFlowLogs", e);
                // Some endpoints answer a duplicate with a top-level error instead of an
                // `Unsuccessful` entry: the same meaning for every VPC of the request.
                if error.has_code("FlowLogAlreadyExists") {
                    let per_vpc = request
                        .vpcs
                        .iter()
                        .map(|v| (v.clone(), Created::AlreadyExists(error.clone())))
                        .collect();
                    return Ok(Creation {
                        per_vpc,
                        untied: Vec::new(),
                    });
                }
                return Err(error);
            }
        };
        // EC2's answer lists the new ids without their VPCs (its documentation promises no
        // order): for one VPC the id is its own; for several the ids are read back by the
        // engine, once for the round ([`Remediator::vpcs_of`]).
        let ids: Vec<FlowLogId> = output.flow_log_ids().iter().map(FlowLogId::new).collect();
        let (tied, untied) = match (request.vpcs.as_slice(), ids.as_slice()) {
            ([_], [id]) => (Some(id.clone()), Vec::new()),
            _ => (None, ids),
        };
        let unsuccessful = by_resource(output.unsuccessful());
        let per_vpc = request
            .vpcs
            .iter()
            .map(|vpc| {
                let failure = unsuccessful.get(vpc.as_str()).copied();
                let outcome = match failure.map(|u| unsuccessful_error("CreateFlowLogs", u)) {
                    Some(e) if e.has_code("FlowLogAlreadyExists") => Created::AlreadyExists(e),
                    Some(e) => Created::Failed(e),
                    None => Created::Created(tied.clone()),
                };
                (vpc.clone(), outcome)
            })
            .collect();
        Ok(Creation { per_vpc, untied })
    }

    /// `DescribeFlowLogs` of the ids, at most [`MAX_FLOW_LOG_IDS`] a call; a failed read is
    /// logged and leaves its ids unknown.
    async fn vpcs_of(&self, ids: &[FlowLogId]) -> Vec<(FlowLogId, VpcId)> {
        let mut tied = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(MAX_FLOW_LOG_IDS) {
            let described = self
                .clients
                .ec2
                .describe_flow_logs()
                .set_flow_log_ids(Some(
                    chunk.iter().map(|id| id.as_str().to_owned()).collect(),
                ))
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await;
            match described {
                Ok(flow_logs) => tied.extend(flow_logs.into_iter().filter_map(|f| {
                    Some((FlowLogId::new(f.flow_log_id?), VpcId::new(f.resource_id?)))
                })),
                Err(e) => {
                    let error = aws_error("DescribeFlowLogs", e);
                    tracing::warn!(%error, "the new flow logs' ids could not be read back");
                }
            }
        }
        tied
    }

    async fn verify_delivery_role(&self, arn: &str) -> Result<(), AwsError> {
        let Some(check) = &self.role_check else {
            return Ok(());
        };
        let checked = check.get_or_init(|| async {
            match iam::verify_delivery_role(self.clients.iam(), arn).await {
                Ok(()) => Ok(()),
                Err(problem @ RoleProblem::NotFound(_)) => Err(AwsError::service(
                    "GetRole",
                    "NoSuchEntity",
                    format!("{problem}: no flow log is created in this account until it exists"),
                )),
                Err(problem @ RoleProblem::NotTrusted(_)) => Err(AwsError::service(
                    "GetRole",
                    "DeliveryRoleNotTrusted",
                    format!("{problem}: no flow log is created in this account until it does"),
                )),
                // The check could not be made (the member role may lack iam:GetRole): the
                // flow logs are created, and their delivery status tells.
                Err(RoleProblem::Call(error)) => {
                    tracing::warn!(%error, "the delivery role could not be checked");
                    Ok(())
                }
            }
        });
        checked.await.clone()
    }

    async fn delete_flow_logs(
        &self,
        ids: &[FlowLogId],
    ) -> Result<Vec<(FlowLogId, Option<AwsError>)>, AwsError> {
        let output = self
            .clients
            .ec2
            .delete_flow_logs()
            .set_flow_log_ids(Some(ids.iter().map(|id| id.as_str().to_owned()).collect()))
            .send()
            .await
            .map_err(|e| aws_error("DeleteFlowLogs", e))?;
        let unsuccessful = by_resource(output.unsuccessful());
        Ok(ids
            .iter()
            .map(|id| {
                let failure = unsuccessful.get(id.as_str()).copied();
                (
                    id.clone(),
                    failure.map(|u| unsuccessful_error("DeleteFlowLogs", u)),
                )
            })
            .collect())
    }

    async fn update_control_findings(
        &self,
        place: &Place,
        updates: &[FindingUpdate],
    ) -> Vec<(VpcId, Result<usize, AwsError>)> {
        integrations::update_control_findings(self.clients.securityhub(), place, updates).await
    }

    async fn reevaluate_config_rules(&self, place: &Place) -> Result<Reevaluation, AwsError> {
        integrations::reevaluate_config_rules(self.clients.config_service(), place).await
    }
}
