//! What the adapters' tests share: clients answered by aws-smithy-mocks rules, and the error
//! metadata of a service error; with the builders that `flowguard_core::fake` shares with the
//! other crates' tests.

use aws_smithy_mocks::{Rule, RuleMode, mock_client};
use aws_smithy_types::error::ErrorMetadata;
use flowguard_aws::Clients;

/// Clients whose EC2 and CloudWatch Logs answer by the rules `ec2` and `logs`.
pub fn clients(ec2: &[&Rule], logs: &[&Rule]) -> Clients {
    // The clients not given are never called here: built on first use from an empty
    // configuration (no region, no credentials), they could only fail.
    Clients::from_parts(
        mock_client!(aws_sdk_ec2, RuleMode::MatchAny, ec2),
        mock_client!(aws_sdk_cloudwatchlogs, RuleMode::MatchAny, logs),
        &aws_config::SdkConfig::builder().build(),
    )
}

/// The metadata of a service error with `code`.
pub fn error(code: &str) -> ErrorMetadata {
    ErrorMetadata::builder()
        .code(code)
        .message(format!("{code} happened"))
        .build()
}

/// A sweep of [`flowguard_core::fake::place`] in `mode` with these clients: the one run of
/// one place ([`flowguard_core::sweep::run_in_place`]) over [`flowguard_aws::AwsPlaces`].
pub async fn sweep(
    clients: Clients,
    policy: &flowguard_core::Policy,
    mode: flowguard_core::Mode,
) -> Result<flowguard_core::Report, flowguard_core::ReconcileError> {
    let setup = flowguard_core::handler::Setup {
        policy: policy.clone(),
        region: flowguard_core::fake::REGION.to_owned(),
        warnings: Vec::new(),
    };
    let places = flowguard_aws::AwsPlaces::with_clients(clients);
    let trigger = flowguard_core::Trigger::manual_sweep("test");
    let place = flowguard_core::fake::place();
    flowguard_core::sweep::run_in_place(&places, &setup, place, &trigger, mode, None).await
}
