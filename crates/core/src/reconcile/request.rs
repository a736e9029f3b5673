//! The `CreateFlowLogs` request of one step, with its idempotency token.

use super::Run;
use crate::ids::VpcId;
use crate::observed::Destination;
use crate::ports::FlowLogRequest;

/// How long a `CreateFlowLogs` client token stays the same for the same trigger and VPCs.
pub const CLIENT_TOKEN_WINDOW_SECONDS: i64 = 600;
/// FNV-1a, 64 bits: stable across builds and platforms, unlike `std`'s hasher.
fn fnv1a(parts: &[&str]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.bytes().chain([0u8]) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    hash
}

/// The request for one `CreateFlowLogs` step. The client token is derived from the trigger
/// and the request, so that a retried delivery of the same event cannot create twice.
pub fn flow_log_request(
    run: &Run<'_>,
    role: Option<&str>,
    destination: &Destination,
    vpcs: &[VpcId],
) -> FlowLogRequest {
    let policy = run.policy;
    // EC2 takes DestinationOptions and a delivery role each with one kind of destination only.
    let (kind, target, role, s3_options) = match destination {
        Destination::CloudWatchLogs(group) => ("cloud-watch-logs", group.as_str(), role, None),
        Destination::S3(arn) | Destination::Other(arn) => {
            ("s3", arn.as_str(), None, policy.s3_options)
        }
    };
    let run_id = run.trigger.event_id.as_deref().unwrap_or(&run.run_id);
    // A ten-minute window: a retry of the same delivery (seconds to minutes later) reuses the
    // token, while the same event replayed much later (from the dead-letter queue, after the
    // flow log it created was deleted) gets a new one instead of EC2's cached answer.
    let window = run
        .now
        .map(|now| (now / CLIENT_TOKEN_WINDOW_SECONDS).to_string())
        .unwrap_or_default();
    // Every parameter of the request is in the token: EC2 answers a reused token with other
    // parameters `IdempotentParameterMismatch`, so a policy change must change the token.
    let interval = policy.max_aggregation_interval.to_string();
    let options = s3_options.map(|o| format!("{o:?}")).unwrap_or_default();
    let mut parts = vec![
        run_id,
        &run.place.region,
        &window,
        kind,
        target,
        role.unwrap_or_default(),
        policy.traffic_type.as_str(),
        &interval,
        policy.log_format.as_deref().unwrap_or_default(),
        &options,
    ];
    parts.extend(vpcs.iter().map(VpcId::as_str));
    FlowLogRequest {
        vpcs: vpcs.to_vec(),
        destination: destination.clone(),
        delivery_role_arn: role.map(str::to_owned),
        traffic_type: policy.traffic_type,
        max_aggregation_interval: policy.max_aggregation_interval,
        log_format: policy.log_format.clone(),
        s3_options,
        client_token: format!("flowguard-{:016x}", fnv1a(&parts)),
    }
}
