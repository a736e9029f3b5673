//! The CloudTrail record in an event's `detail`, read leniently, as real records demand
//! (missing or empty fields, one id or a list, `responseElements: null` on failure), and the
//! readings of its request and response that the routing asks for.

use super::envelope::text;
use crate::ids::{FlowLogId, VpcId};
use serde_json::Value;

/// The CloudTrail record in `detail` (empty for events that are not CloudTrail records).
pub(super) struct Record<'a> {
    pub(super) event_name: Option<&'a str>,
    pub(super) event_id: Option<&'a str>,
    pub(super) aws_region: Option<&'a str>,
    pub(super) recipient_account_id: Option<&'a str>,
    error_code: Option<&'a Value>,
    response_elements: Option<&'a Value>,
    request_parameters: Option<&'a Value>,
}

impl<'a> Record<'a> {
    pub(super) fn read(detail: &'a Value) -> Self {
        Self {
            event_name: text(detail, "eventName"),
            event_id: text(detail, "eventID"),
            aws_region: text(detail, "awsRegion"),
            recipient_account_id: text(detail, "recipientAccountId"),
            error_code: detail.get("errorCode"),
            response_elements: detail.get("responseElements"),
            request_parameters: detail.get("requestParameters"),
        }
    }

    /// The error code of a failed call; `None` when the call succeeded (no code, null, "").
    pub(super) fn failure(&self) -> Option<String> {
        match self.error_code? {
            Value::Null => None,
            Value::String(code) if code.is_empty() => None,
            Value::String(code) => Some(code.chars().take(100).collect()),
            other => Some(other.to_string().chars().take(100).collect()),
        }
    }

    /// `responseElements.vpc.vpcId` of a `CreateVpc` record.
    pub(super) fn created_vpc_id(&self) -> Option<&'a str> {
        text(self.response_elements?.get("vpc")?, "vpcId")
    }

    /// The `vpcId` anywhere in the response of a `CreateDefaultVpc` record.
    pub(super) fn created_default_vpc_id(&self) -> Option<String> {
        find_vpc_id(self.response_elements?, 6)
    }

    /// `requestParameters.logGroupName` of a CloudWatch Logs record.
    pub(super) fn log_group_name(&self) -> Option<&'a str> {
        text(self.request_parameters?, "logGroupName")
    }

    /// The flow-log ids of a `DeleteFlowLogs` record: `{"content": "fl-…"}`, a list of those,
    /// or plain strings, under `DeleteFlowLogsRequest.FlowLogId` or `flowLogIds`.
    pub(super) fn deleted_flow_log_ids(&self) -> Vec<String> {
        let params = self.request_parameters;
        let raw = params
            .and_then(|p| p.get("DeleteFlowLogsRequest"))
            .and_then(|r| r.get("FlowLogId"))
            .or_else(|| {
                params
                    .and_then(|p| p.get("flowLogIds"))
                    .and_then(|f| f.get("item").or(Some(f)))
            });
        let one = |v: &Value| -> Option<String> {
            let id = v
                .as_str()
                .or_else(|| v.get("content").and_then(Value::as_str))
                .or_else(|| v.get("flowLogId").and_then(Value::as_str))?;
            FlowLogId::is_well_formed(id).then(|| id.to_owned())
        };
        match raw {
            Some(Value::Array(items)) => items.iter().filter_map(one).collect(),
            Some(value) => one(value).into_iter().collect(),
            None => Vec::new(),
        }
    }
}

/// Looks for a `vpcId` string anywhere under `value`, to a bounded depth.
fn find_vpc_id(value: &Value, depth: u8) -> Option<String> {
    match value {
        Value::Object(map) => {
            if let Some(id) = map
                .get("vpcId")
                .and_then(Value::as_str)
                .filter(|id| VpcId::is_well_formed(id))
            {
                return Some(id.to_owned());
            }
            if depth == 0 {
                return None;
            }
            map.values().find_map(|v| find_vpc_id(v, depth - 1))
        }
        Value::Array(items) if depth > 0 => items.iter().find_map(|v| find_vpc_id(v, depth - 1)),
        _ => None,
    }
}
