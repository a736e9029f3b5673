//! [`AwsInventory`]: the read-side port over EC2 and CloudWatch Logs. Every listing is
//! paginated to the end; a missing page would be a silent compliance hole.

use crate::config::Clients;
use crate::convert;
use crate::error::aws_error;
use aws_sdk_ec2::types::{Filter, FlowLogsResourceType, LogDestinationType};
use flowguard_core::observed::{FlowLog, LogGroup, Vpc};
use flowguard_core::{
    AwsError, FlowLogQuery, FlowLogRequest, Inventory, LogGroupName, Permission, VpcId, VpcQuery,
};
use futures::future::try_join_all;

/// EC2 accepts at most this many values in one filter.
const MAX_FILTER_VALUES: usize = 200;
/// Up to this many log groups are described one by one (concurrently); more are listed
/// under their common prefix in one paginated listing.
const MAX_SEPARATE_GROUP_LOOKUPS: usize = 4;

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
        let pages = self
            .clients
            .ec2
            .describe_vpcs()
            .set_filters(filter.map(|f| vec![f]))
            .into_paginator()
            .items()
            .send();
        let vpcs: Vec<_> = pages
            .try_collect()
            .await
            .map_err(|e| aws_error("DescribeVpcs", e))?;
        Ok(vpcs.iter().filter_map(convert::vpc).collect())
    }

    async fn describe_flow_logs(&self, filter: Option<Filter>) -> Result<Vec<FlowLog>, AwsError> {
        let pages = self
            .clients
            .ec2
            .describe_flow_logs()
            .set_filter(filter.map(|f| vec![f]))
            .into_paginator()
            .items()
            .send();
        let flow_logs: Vec<_> = pages
            .try_collect()
            .await
            .map_err(|e| aws_error("DescribeFlowLogs", e))?;
        Ok(flow_logs.iter().filter_map(convert::flow_log).collect())
    }

    async fn describe_log_groups(&self, prefix: &str) -> Result<Vec<LogGroup>, AwsError> {
        let mut request = self.clients.logs.describe_log_groups();
        if !prefix.is_empty() {
            request = request.log_group_name_prefix(prefix);
        }
        let groups: Vec<_> = request
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

fn common_prefix(names: &[LogGroupName]) -> &str {
    let Some(first) = names.first() else {
        return "";
    };
    let mut len = first.as_str().len();
    for name in &names[1..] {
        len = first
            .as_str()
            .bytes()
            .zip(name.as_str().bytes())
            .take(len)
            .take_while(|(a, b)| a == b)
            .count();
    }
    // Log-group names are ASCII, so any byte index is a char boundary; stay safe anyway.
    first.as_str().get(..len).unwrap_or("")
}

impl Inventory for AwsInventory {
    async fn vpcs(&self, query: VpcQuery<'_>) -> Result<Vec<Vpc>, AwsError> {
        match query {
            VpcQuery::All => self.describe_vpcs(None).await,
            VpcQuery::Ids(ids) => {
                let chunks = ids
                    .chunks(MAX_FILTER_VALUES)
                    .map(|c| self.describe_vpcs(Some(filter("vpc-id", c))));
                Ok(try_join_all(chunks).await?.into_iter().flatten().collect())
            }
        }
    }

    async fn flow_logs(&self, query: FlowLogQuery<'_>) -> Result<Vec<FlowLog>, AwsError> {
        match query {
            FlowLogQuery::All => self.describe_flow_logs(None).await,
            FlowLogQuery::Resources(ids) => {
                let chunks = ids
                    .chunks(MAX_FILTER_VALUES)
                    .map(|c| self.describe_flow_logs(Some(filter("resource-id", c))));
                Ok(try_join_all(chunks).await?.into_iter().flatten().collect())
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
        let found: Vec<LogGroup> = if names.is_empty() {
            Vec::new()
        } else if names.len() <= MAX_SEPARATE_GROUP_LOOKUPS {
            try_join_all(names.iter().map(|n| self.describe_log_groups(n.as_str())))
                .await?
                .into_iter()
                .flatten()
                .collect()
        } else {
            self.describe_log_groups(common_prefix(names)).await?
        };
        Ok(found
            .into_iter()
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

/// The resource type and destination flowguard always asks for.
pub(crate) const RESOURCE_TYPE: FlowLogsResourceType = FlowLogsResourceType::Vpc;
pub(crate) const DESTINATION: LogDestinationType = LogDestinationType::CloudWatchLogs;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_prefix_of_names() {
        let names: Vec<LogGroupName> = ["/fl/vpc-1", "/fl/vpc-2", "/fl/vpc-10"]
            .map(LogGroupName::new)
            .to_vec();
        assert_eq!(common_prefix(&names), "/fl/vpc-");
        assert_eq!(
            common_prefix(&[LogGroupName::new("/a"), LogGroupName::new("/b")]),
            "/"
        );
        assert_eq!(common_prefix(&[]), "");
    }
}
