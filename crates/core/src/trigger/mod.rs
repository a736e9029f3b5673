//! Reading EventBridge events into a [`Trigger`]: where to look, never what to conclude.
//!
//! The event is read through the types of `aws_lambda_events` (the crate of AWS's Rust
//! runtime): the envelope as an `EventBridgeEvent` (`envelope`), the CloudTrail record in its
//! `detail` as an `AWSAPICall` (`record`). Where an event does not fit them, it is read field
//! by field instead, a missing, empty or mistyped field being absent; where both readings
//! apply, they agree. Real CloudTrail records demand that leniency (a record may lack a field
//! that `AWSAPICall` requires; one id or a list; `responseElements: null` on failure), and so
//! do hostile events. The request and the response of a record are never copied: they are
//! read where they are, in the parsed JSON, to a bounded depth. Only input that is not an
//! EventBridge event at all (not JSON, not an object, no string `detail-type` and `source`, no
//! object `detail`) is an error, and a permanent one.
//!
//! [`parse_event`] (bytes, as the Lambda and `handle-event` get them; fuzzed) and
//! [`trigger_from_value`] (JSON already parsed) are the parser; each field is read once, by
//! `envelope` or `record`, and the routing follows the trigger table of docs/design.md. The
//! envelope's `time` is read with the `time` crate ([`parse_rfc3339`]).

mod envelope;
mod record;

use crate::ids::{LogGroupName, VpcId};
use envelope::Event;
use serde::Serialize;
use serde_json::Value;

/// Events larger than this are refused before parsing (EventBridge's own limit is 256 KiB).
pub const MAX_EVENT_BYTES: usize = 1024 * 1024;

/// Input that is not an EventBridge event: a permanent error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidEvent {
    #[error("the input is empty")]
    Empty,
    #[error("the input is {0} bytes, more than the {MAX_EVENT_BYTES} bytes an event may have")]
    TooLarge(usize),
    #[error("the input is not JSON: {0}")]
    NotJson(String),
    #[error("the input is a JSON {0}, not an EventBridge event object")]
    NotAnObject(&'static str),
    #[error("the input is not an EventBridge event: {0}")]
    NotAnEvent(String),
}

/// What kind of work a trigger asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TriggerKind {
    Vpc,
    Sweep,
    LogGroup,
    Ignored,
}

/// Where to look.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Reconcile these VPCs.
    Vpcs(Vec<VpcId>),
    /// Reconcile every VPC of the region.
    Sweep,
    /// Reconcile a log group and the VPCs that deliver to it.
    LogGroup(LogGroupName),
    /// Nothing to do; `Trigger::reason` says why.
    Ignored,
}

impl Target {
    pub fn kind(&self) -> TriggerKind {
        match self {
            Self::Vpcs(_) => TriggerKind::Vpc,
            Self::Sweep => TriggerKind::Sweep,
            Self::LogGroup(_) => TriggerKind::LogGroup,
            Self::Ignored => TriggerKind::Ignored,
        }
    }
}

/// A recognised event: the target, and what the report says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trigger {
    pub target: Target,
    pub event_name: Option<String>,
    pub event_id: Option<String>,
    pub reason: String,
    /// From the envelope, else `detail.awsRegion`.
    pub region: Option<String>,
    /// From the envelope, else `detail.recipientAccountId`.
    pub account: Option<String>,
    /// The envelope's `time` as Unix seconds, when readable.
    pub time: Option<i64>,
}

impl Trigger {
    /// Whether this is a sweep that names no API call: the schedule (or a manual sweep), which
    /// in organization mode sweeps every account in scope.
    pub fn is_schedule(&self) -> bool {
        self.target == Target::Sweep && self.event_name.is_none()
    }

    /// A sweep not caused by an event (the CLI's `audit`, `plan`, `apply`).
    pub fn manual_sweep(reason: impl Into<String>) -> Self {
        Self {
            target: Target::Sweep,
            event_name: None,
            event_id: None,
            reason: reason.into(),
            region: None,
            account: None,
            time: None,
        }
    }
}

impl Trigger {
    /// A single-account run acts only in its own account: an event of another account is
    /// ignored with the reason (never acted on in this account in that event's name). An empty
    /// `account` (unknown) confines nothing.
    pub fn confined_to(self, account: &str) -> Self {
        match &self.account {
            Some(theirs)
                if !account.is_empty() && theirs != account && self.target != Target::Ignored =>
            {
                // Named only when it looks like an account id: events are untrusted input.
                let whose = if theirs.len() == 12 && theirs.bytes().all(|b| b.is_ascii_digit()) {
                    format!("account {theirs}")
                } else {
                    "another account".to_owned()
                };
                let reason = format!(
                    "{} happened in {whose}, and this run acts only in account {account}: ignored",
                    self.event_name.as_deref().unwrap_or("the event")
                );
                Self {
                    target: Target::Ignored,
                    reason,
                    ..self
                }
            }
            _ => self,
        }
    }
}

/// Parses raw bytes (size-checked first; serde_json bounds nesting at 128 levels).
pub fn parse_event(input: &[u8]) -> Result<Trigger, InvalidEvent> {
    if input.len() > MAX_EVENT_BYTES {
        return Err(InvalidEvent::TooLarge(input.len()));
    }
    if input.iter().all(u8::is_ascii_whitespace) {
        return Err(InvalidEvent::Empty);
    }
    let value: Value =
        serde_json::from_slice(input).map_err(|e| InvalidEvent::NotJson(e.to_string()))?;
    trigger_from_value(&value)
}

/// Turns a parsed event into a trigger, following the trigger table of docs/design.md.
pub fn trigger_from_value(event: &Value) -> Result<Trigger, InvalidEvent> {
    let event = Event::read(event)?;
    let (target, reason) = route(&event);
    let Event {
        id,
        region,
        account,
        time,
        detail,
        ..
    } = event;
    Ok(Trigger {
        target,
        reason,
        event_name: detail.event_name,
        event_id: id.or(detail.event_id),
        region: region.or(detail.aws_region),
        account: account.or(detail.recipient_account_id.map(str::to_owned)),
        time: time.and_then(parse_rfc3339),
    })
}

fn route(event: &Event<'_>) -> (Target, String) {
    let (source, detail_type, detail) = (
        event.source.as_str(),
        event.detail_type.as_str(),
        &event.detail,
    );
    if source == "aws.events" && detail_type == "Scheduled Event" {
        return (Target::Sweep, "scheduled sweep".to_owned());
    }
    if detail_type != "AWS API Call via CloudTrail" {
        return (
            Target::Ignored,
            format!("not an event flowguard acts on: {source} \"{detail_type}\""),
        );
    }
    let Some(name) = detail.event_name.as_deref() else {
        return (
            Target::Ignored,
            format!("a CloudTrail event from {source} without an eventName"),
        );
    };
    if let Some(code) = detail.failure() {
        return (
            Target::Ignored,
            format!("{name} failed ({code}): nothing changed"),
        );
    }
    let sweep = |why: String| (Target::Sweep, why);
    match (source, name) {
        ("aws.ec2", "CreateVpc") => match detail.created_vpc_id() {
            Some(id) if VpcId::is_well_formed(id) => (
                Target::Vpcs(vec![VpcId::new(id)]),
                format!("VPC {id} was created"),
            ),
            _ => sweep(
                "CreateVpc without a readable responseElements.vpc.vpcId: sweeping the region"
                    .to_owned(),
            ),
        },
        ("aws.ec2", "CreateDefaultVpc") => match detail.created_default_vpc_id() {
            Some(id) => (
                Target::Vpcs(vec![VpcId::new(&id)]),
                format!("default VPC {id} was created"),
            ),
            None => {
                sweep("CreateDefaultVpc without a readable vpcId: sweeping the region".to_owned())
            }
        },
        ("aws.ec2", "DeleteFlowLogs") => {
            let ids = detail.deleted_flow_log_ids();
            if ids.is_empty() {
                sweep("flow logs were deleted (ids unreadable); the event cannot name their VPCs: sweeping the region".to_owned())
            } else {
                sweep(format!(
                    "flow logs {} were deleted; the event cannot name their VPCs: sweeping the region",
                    ids.join(", ")
                ))
            }
        }
        ("aws.logs", "DeleteLogGroup" | "PutRetentionPolicy" | "DeleteRetentionPolicy") => {
            match detail.log_group_name() {
                Some(group) => (
                    Target::LogGroup(LogGroupName::new(group)),
                    format!("{name} on log group {group}"),
                ),
                None => sweep(format!(
                    "{name} without a readable logGroupName: sweeping the region"
                )),
            }
        }
        _ => (
            Target::Ignored,
            format!("not an event flowguard acts on: {source} {name}"),
        ),
    }
}

/// Parses an RFC 3339 date-time (EventBridge's `time`, e.g. `2019-02-25T15:33:07Z`; any offset)
/// into Unix seconds, by the `time` crate's calendar: no February 31, no hour 24. The date and
/// the time are joined by `T`, as EventBridge writes them (the `time` crate also takes the
/// space that RFC 3339 allows "for readability"; an event never has one).
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    use time::format_description::well_known::Rfc3339;
    if !matches!(text.as_bytes().get(10), Some(b'T' | b't')) {
        return None;
    }
    time::OffsetDateTime::parse(text, &Rfc3339)
        .ok()
        .map(time::OffsetDateTime::unix_timestamp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_parses_to_unix_seconds() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339("2019-02-25T15:33:07Z"), Some(1_551_108_787));
        assert_eq!(
            parse_rfc3339("2024-02-29T00:00:00.123Z"),
            Some(1_709_164_800)
        );
        assert_eq!(parse_rfc3339("yesterday"), None);
        // The calendar and the offset are the time crate's.
        assert_eq!(parse_rfc3339("2026-02-31T00:00:00Z"), None);
        assert_eq!(parse_rfc3339("2026-01-01T24:00:00Z"), None);
        assert_eq!(
            parse_rfc3339("2019-02-25T17:33:07+02:00"),
            Some(1_551_108_787)
        );
        assert_eq!(parse_rfc3339("2024-13-01T00:00:00Z"), None);
    }
}
