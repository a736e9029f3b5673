//! [`AwsInventory`]: the read-side port over EC2 and CloudWatch Logs. Every listing is
//! paginated to the end; a missing page would be a silent compliance hole. Requests stay
//! within AWS's limits, which the local emulator does not enforce: at most
//! [`MAX_FILTER_VALUES`] values in one EC2 filter, and log groups looked up by exact name,
//! [`MAX_LOG_GROUP_IDENTIFIERS`] per `DescribeLogGroups`, never listed by a prefix (a region
//! can hold tens of thousands of groups).

use crate::config::Clients;
use crate::convert;
use crate::error::aws_error;
use aws_sdk_ec2::types::Filter;
use flowguard_core::observed::{FlowLog, LogGroup, Vpc};
use flowguard_core::{
    AwsError, FlowLogQuery, FlowLogRequest, Inventory, LogGroupName, Permission, VpcId, VpcQuery,
};
use futures::future::try_join_all;
use futures::stream::{self, StreamExt, TryStreamExt};

/// EC2 accepts at most this many values in one filter.
pub const MAX_FILTER_VALUES: usize = 200;
/// `DescribeLogGroups` takes at most this many `logGroupIdentifiers`.
pub const MAX_LOG_GROUP_IDENTIFIERS: usize = 50;
/// `DescribeLogGroups` calls in flight at once (its quota is a few per second).
const CONCURRENT_LOG_GROUP_LOOKUPS: usize = 4;

/// Every item of every page of an EC2 listing (the SDK's paginator: each request type has its
/// own, hence a macro), with the error turned into an [`AwsError`] of `operation`.
macro_rules! every_item {
    ($request:expr, $operation:literal) => {{
        let items: Vec<_> = $request
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| aws_error($operation, e))?;
        items
    }};
}

/// The read side, for one region.
#[derive(Debug, Clone)]
pub struct AwsInventory {
    clients: Clients,
}

impl AwsInventory {
    pub fn new(clients: Clients) -> Self {
        Self { clients }
    }

    async fn describe_vpcs(&self, filter: Option<Filter>) -> Result<Vec<Vpc>, AwsError> {
        let request = self.clients.ec2.describe_vpcs();
        let vpcs = every_item!(request.set_filters(filter.map(|f| vec![f])), "DescribeVpcs");
        Ok(vpcs.iter().filter_map(convert::vpc).collect())
    }

    async fn describe_flow_logs(&self, filter: Option<Filter>) -> Result<Vec<FlowLog>, AwsError> {
        let request = self.clients.ec2.describe_flow_logs();
        let flow_logs = every_item!(
            request.set_filter(filter.map(|f| vec![f])),
            "DescribeFlowLogs"
        );
        Ok(flow_logs.iter().filter_map(convert::flow_log).collect())
    }

    /// The groups of these exact names (at most [`MAX_LOG_GROUP_IDENTIFIERS`]) that exist.
    async fn describe_log_groups(&self, names: &[LogGroupName]) -> Result<Vec<LogGroup>, AwsError> {
        let groups: Vec<_> = self
            .clients
            .logs
            .describe_log_groups()
            .set_log_group_identifiers(Some(names.iter().map(|n| n.as_str().to_owned()).collect()))
            .into_paginator()
            .items()
            .send()
            .try_collect()
            .await
            .map_err(|e| aws_error("DescribeLogGroups", e))?;
        Ok(groups.iter().filter_map(convert::log_group).collect())
    }
}

fn filter(name: &str, values: &[VpcId]) -> Filter {
    Filter::builder()
        .name(name)
        .set_values(Some(values.iter().map(|v| v.as_str().to_owned()).collect()))
        .build()
}

/// Reads `ids` in requests of at most [`MAX_FILTER_VALUES`] filter values, concurrently.
async fn in_chunks<'a, T, F, Fut>(ids: &'a [VpcId], read: F) -> Result<Vec<T>, AwsError>
where
    F: Fn(&'a [VpcId]) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<T>, AwsError>>,
{
    let chunks = ids.chunks(MAX_FILTER_VALUES).map(read);
    Ok(try_join_all(chunks).await?.into_iter().flatten().collect())
}

impl Inventory for AwsInventory {
    async fn vpcs(&self, query: VpcQuery<'_>) -> Result<Vec<Vpc>, AwsError> {
        match query {
            VpcQuery::All => self.describe_vpcs(None).await,
            VpcQuery::Ids(ids) => {
                in_chunks(ids, |c| self.describe_vpcs(Some(filter("vpc-id", c)))).await
            }
        }
    }

    async fn flow_logs(&self, query: FlowLogQuery<'_>) -> Result<Vec<FlowLog>, AwsError> {
        match query {
            FlowLogQuery::All => self.describe_flow_logs(None).await,
            FlowLogQuery::Resources(ids) => {
                in_chunks(ids, |c| {
                    self.describe_flow_logs(Some(filter("resource-id", c)))
                })
                .await
            }
            FlowLogQuery::LogGroup(name) => {
                let f = Filter::builder()
                    .name("log-group-name")
                    .values(name.as_str())
                    .build();
                self.describe_flow_logs(Some(f)).await
            }
        }
    }

    async fn log_groups(&self, names: &[LogGroupName]) -> Result<Vec<LogGroup>, AwsError> {
        let mut unique = names.to_vec();
        unique.sort();
        unique.dedup();
        let chunks: Vec<Vec<LogGroupName>> = unique
            .chunks(MAX_LOG_GROUP_IDENTIFIERS)
            .map(<[LogGroupName]>::to_vec)
            .collect();
        let found: Vec<Vec<LogGroup>> = stream::iter(chunks)
            .map(|chunk| async move { self.describe_log_groups(&chunk).await })
            .buffer_unordered(CONCURRENT_LOG_GROUP_LOOKUPS)
            .try_collect()
            .await?;
        // An endpoint that ignores the identifiers answers with more: keep what was asked.
        Ok(found
            .into_iter()
            .flatten()
            .filter(|g| names.contains(&g.name))
            .collect())
    }

    async fn check_create_flow_logs(
        &self,
        request: &FlowLogRequest,
    ) -> Result<Permission, AwsError> {
        let result = crate::remediator::create_flow_logs_request(&self.clients.ec2, request)
            .dry_run(true)
            .send()
            .await;
        match result {
            Ok(_) => Ok(Permission::Allowed),
            Err(e) => {
                let error = aws_error("CreateFlowLogs", e);
                match error.code.as_deref() {
                    Some("DryRunOperation") => Ok(Permission::Allowed),
                    Some("UnauthorizedOperation" | "AccessDenied" | "AccessDeniedException") => {
                        Ok(Permission::Denied)
                    }
                    _ => Err(error),
                }
            }
        }
    }
}
