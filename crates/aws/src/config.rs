//! SDK configuration, and the clients of one account and region ([`Clients`]: EC2 and
//! CloudWatch Logs at once, the others on first use).
//!
//! Retries and timeouts are chosen to fit the Lambda's 60-second timeout: the SDK's
//! standard retry mode with 3 attempts (exponential backoff with jitter, at most 2 s),
//! a 2 s connect timeout, 4 s per attempt and 6 s per operation. A unit of work is at most
//! five calls one after the other (`flowguard_core::plan::MAX_CALLS_PER_UNIT`), and the Lambda
//! starts none later than 5 × 6 s + 2 s before its deadline (its `DEADLINE_MARGIN`), so even a
//! run in which every call exhausts its time ends before the timeout, with what is left
//! reported as retryable for Lambda's own async retries. The CLI, which has no deadline, gives
//! each operation 20 s ([`load_for_cli`]).

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_smithy_runtime::client::defaults::default_http_client_plugin_v2;
use aws_smithy_runtime::client::retries::RetryPartition;
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponentsBuilder;
use aws_smithy_runtime_api::client::runtime_plugin::RuntimePlugin;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// Attempts per call, first try included.
pub const MAX_ATTEMPTS: u32 = 3;
/// Time for one whole operation, retries included.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(6);
/// Time for one attempt.
pub const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(4);
/// Time to open a connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// Time for one whole operation in the CLI, which has no invocation deadline: a person waits,
/// and a slow endpoint (an emulator creating a region's default VPC on first use, a distant
/// region) is given the time it needs rather than reported unreachable.
pub const CLI_OPERATION_TIMEOUT: Duration = Duration::from_secs(20);

/// Loads the standard AWS configuration (credentials chain, `AWS_REGION`,
/// `AWS_ENDPOINT_URL`), with flowguard's retry and timeout settings, sized for the Lambda's
/// deadline ([`OPERATION_TIMEOUT`]). `region` overrides the environment's.
pub async fn load(region: Option<&str>) -> SdkConfig {
    load_with(region, OPERATION_TIMEOUT).await
}

/// [`load`] for the CLI: the same, with [`CLI_OPERATION_TIMEOUT`] per operation.
pub async fn load_for_cli(region: Option<&str>) -> SdkConfig {
    load_with(region, CLI_OPERATION_TIMEOUT).await
}

async fn load_with(region: Option<&str>, operation_timeout: Duration) -> SdkConfig {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(retry_config())
        .timeout_config(timeout_config(
            CONNECT_TIMEOUT,
            ATTEMPT_TIMEOUT,
            operation_timeout,
        ));
    if let Some(http) = shared_http_client() {
        loader = loader.http_client(http);
    }
    if let Some(region) = region {
        loader = loader.region(Region::new(region.to_owned()));
    }
    loader.load().await
}

/// The SDK's default HTTPS client (the same TLS stack, the proxy from the environment), made
/// once for the configuration and every client built from it. Left to itself, each SDK client
/// makes its own: its own connection pool and TLS set-up (the system's root certificates read
/// and parsed again), so an organization sweep paid for new connections in every account×region
/// and kept a pool for every member session's STS client. Shared, connections to an endpoint
/// are reused across accounts, whose requests differ only in their signatures.
fn shared_http_client() -> Option<SharedHttpClient> {
    let plugin = default_http_client_plugin_v2(BehaviorVersion::latest())?;
    plugin
        .runtime_components(&RuntimeComponentsBuilder::new("flowguard"))
        .http_client()
}

/// flowguard's retry policy: the SDK's standard mode, [`MAX_ATTEMPTS`] attempts, exponential
/// backoff with jitter from 100 ms to at most 2 s.
pub fn retry_config() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(MAX_ATTEMPTS)
        .with_initial_backoff(Duration::from_millis(100))
        .with_max_backoff(Duration::from_secs(2))
}

/// Timeouts: to connect, per attempt, per operation (retries included).
pub fn timeout_config(connect: Duration, attempt: Duration, operation: Duration) -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(connect)
        .operation_attempt_timeout(attempt)
        .operation_timeout(operation)
        .build()
}

/// The SDK clients of one account and region. Cheap to clone (each client is an `Arc`
/// inside). EC2 and CloudWatch Logs serve every run and are built at once; IAM, STS, Security
/// Hub and AWS Config are built on first use, from the same configuration: an organization
/// sweep makes a `Clients` for every account×region, and most of them never call those four.
#[derive(Debug, Clone)]
pub struct Clients {
    pub ec2: aws_sdk_ec2::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    others: Arc<Others>,
}

/// The clients built on first use, and the configuration they are built from.
#[derive(Debug, Clone)]
struct Others {
    config: SdkConfig,
    iam: OnceLock<aws_sdk_iam::Client>,
    sts: OnceLock<aws_sdk_sts::Client>,
    securityhub: OnceLock<aws_sdk_securityhub::Client>,
    config_service: OnceLock<aws_sdk_config::Client>,
    kms: OnceLock<aws_sdk_kms::Client>,
}

impl Clients {
    /// The clients of `account` in `config`'s region, EC2 and CloudWatch Logs each with a
    /// retry partition of that account's own: the SDK's retry token bucket is per partition,
    /// and by default one per service and region, so that one throttled account of an
    /// organization would drain the retries of every other account in the region.
    pub fn in_account(config: &SdkConfig, account: &str) -> Self {
        let logs = aws_sdk_cloudwatchlogs::config::Builder::from(config)
            .retry_partition(account_partition("logs", config, account))
            .build();
        Self::from_parts(
            aws_sdk_ec2::Client::from_conf(ec2_in_account(config, account).build()),
            aws_sdk_cloudwatchlogs::Client::from_conf(logs),
            config,
        )
    }

    pub fn new(config: &SdkConfig) -> Self {
        Self::from_parts(
            aws_sdk_ec2::Client::new(config),
            aws_sdk_cloudwatchlogs::Client::new(config),
            config,
        )
    }

    /// Given EC2 and CloudWatch Logs clients (a test's mocks, or clients with interceptors);
    /// the others are built from `config` on first use, or given with the `with_*` methods.
    pub fn from_parts(
        ec2: aws_sdk_ec2::Client,
        logs: aws_sdk_cloudwatchlogs::Client,
        config: &SdkConfig,
    ) -> Self {
        Self {
            ec2,
            logs,
            others: Arc::new(Others {
                config: config.clone(),
                iam: OnceLock::new(),
                sts: OnceLock::new(),
                securityhub: OnceLock::new(),
                config_service: OnceLock::new(),
                kms: OnceLock::new(),
            }),
        }
    }

    pub fn iam(&self) -> &aws_sdk_iam::Client {
        built(
            &self.others.iam,
            &self.others.config,
            aws_sdk_iam::Client::new,
        )
    }

    pub fn sts(&self) -> &aws_sdk_sts::Client {
        built(
            &self.others.sts,
            &self.others.config,
            aws_sdk_sts::Client::new,
        )
    }

    /// Security Hub, for the findings follow-up (used only when the policy turns it on).
    pub fn securityhub(&self) -> &aws_sdk_securityhub::Client {
        built(
            &self.others.securityhub,
            &self.others.config,
            aws_sdk_securityhub::Client::new,
        )
    }

    /// AWS Config, for the rule re-evaluation follow-up (used only when the policy turns it on).
    pub fn config_service(&self) -> &aws_sdk_config::Client {
        built(
            &self.others.config_service,
            &self.others.config,
            aws_sdk_config::Client::new,
        )
    }

    /// KMS, to resolve an alias to the key of this account and region (used only when the
    /// policy's key is an alias and a group is created).
    pub fn kms(&self) -> &aws_sdk_kms::Client {
        built(
            &self.others.kms,
            &self.others.config,
            aws_sdk_kms::Client::new,
        )
    }

    pub fn with_iam(mut self, client: aws_sdk_iam::Client) -> Self {
        Arc::make_mut(&mut self.others).iam = OnceLock::from(client);
        self
    }

    pub fn with_sts(mut self, client: aws_sdk_sts::Client) -> Self {
        Arc::make_mut(&mut self.others).sts = OnceLock::from(client);
        self
    }

    pub fn with_securityhub(mut self, client: aws_sdk_securityhub::Client) -> Self {
        Arc::make_mut(&mut self.others).securityhub = OnceLock::from(client);
        self
    }

    pub fn with_kms(mut self, client: aws_sdk_kms::Client) -> Self {
        Arc::make_mut(&mut self.others).kms = OnceLock::from(client);
        self
    }

    pub fn with_config_service(mut self, client: aws_sdk_config::Client) -> Self {
        Arc::make_mut(&mut self.others).config_service = OnceLock::from(client);
        self
    }
}

/// The retry partition of `service` for `account` in `config`'s region.
fn account_partition(service: &str, config: &SdkConfig, account: &str) -> RetryPartition {
    let region = config.region().map_or("", |r| r.as_ref());
    RetryPartition::new(format!("{service}-{region}-{account}"))
}

/// EC2's configuration for `account`: `config` with the account's own retry partition.
fn ec2_in_account(config: &SdkConfig, account: &str) -> aws_sdk_ec2::config::Builder {
    aws_sdk_ec2::config::Builder::from(config)
        .retry_partition(account_partition("ec2", config, account))
}

/// The client in `cell`, built from `config` by `new` the first time it is asked for.
fn built<'a, C>(cell: &'a OnceLock<C>, config: &SdkConfig, new: fn(&SdkConfig) -> C) -> &'a C {
    cell.get_or_init(|| new(config))
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_credential_types::Credentials;
    use aws_credential_types::provider::SharedCredentialsProvider;
    use aws_smithy_mocks::{
        MockResponseInterceptor, Rule, RuleMode, create_mock_http_client, mock,
    };

    /// EC2's answer when it throttles a caller: HTTP 503, code `RequestLimitExceeded`.
    const THROTTLED: &str = "<Response><Errors><Error><Code>RequestLimitExceeded</Code>\
        <Message>Request limit exceeded.</Message></Error></Errors><RequestID>r</RequestID></Response>";

    /// An EC2 client of `account` as [`Clients::in_account`] configures it, answering by `rule`.
    fn ec2_of(config: &SdkConfig, account: &str, rule: &Rule) -> aws_sdk_ec2::Client {
        let mocks = MockResponseInterceptor::new()
            .rule_mode(RuleMode::MatchAny)
            .with_rule(rule);
        let conf = ec2_in_account(config, account)
            .interceptor(mocks)
            .http_client(create_mock_http_client())
            .build();
        aws_sdk_ec2::Client::from_conf(conf)
    }

    /// The SDK's retry token bucket (500 tokens, 5 per throttled retry) is per retry partition.
    /// An account whose every call is throttled drains its own bucket; another account's
    /// throttled call is still retried, and succeeds. Without an account's own partition (two
    /// clients of one account here) the second account's retry is refused.
    #[tokio::test]
    async fn one_accounts_throttling_leaves_anothers_retries_intact() {
        let config = SdkConfig::builder()
            .region(Region::new("eu-central-2"))
            .credentials_provider(SharedCredentialsProvider::new(Credentials::for_tests()))
            .retry_config(retry_config().with_max_backoff(Duration::from_millis(1)))
            .behavior_version(BehaviorVersion::latest())
            .build();
        let always = mock!(aws_sdk_ec2::Client::describe_vpcs)
            .sequence()
            .http_status(503, Some(THROTTLED.to_owned()))
            .repeatedly()
            .build();
        let throttled = ec2_of(&config, "111111111111", &always);
        for _ in 0..120 {
            assert!(throttled.describe_vpcs().send().await.is_err());
        }
        let once = || {
            mock!(aws_sdk_ec2::Client::describe_vpcs)
                .sequence()
                .http_status(503, Some(THROTTLED.to_owned()))
                .output(|| {
                    aws_sdk_ec2::operation::describe_vpcs::DescribeVpcsOutput::builder().build()
                })
                .build()
        };
        let other = once();
        let result = ec2_of(&config, "222222222222", &other)
            .describe_vpcs()
            .send()
            .await;
        assert!(result.is_ok(), "{result:?}");
        assert_eq!(other.num_calls(), 2, "the throttled call was retried");
        let same = once();
        let result = ec2_of(&config, "111111111111", &same)
            .describe_vpcs()
            .send()
            .await;
        assert!(
            result.is_err(),
            "one partition: its drained bucket refuses the retry"
        );
        assert_eq!(same.num_calls(), 1);
    }

    /// The configuration carries one HTTP client, which every client built from it (and every
    /// member account's configuration, made with `to_builder`) shares; without it each SDK
    /// client would make its own pool and TLS set-up.
    #[tokio::test]
    async fn the_configuration_carries_one_http_client_for_every_client() {
        let config = load(Some("us-east-1")).await;
        assert!(config.http_client().is_some());
        let member = config.to_builder().region(Region::new("eu-west-1")).build();
        assert!(member.http_client().is_some());
        let clients = Clients::new(&member);
        assert!(clients.ec2.config().http_client().is_some());
        assert!(clients.logs.config().http_client().is_some());
    }
}
