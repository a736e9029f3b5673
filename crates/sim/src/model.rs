//! What the simulated AWS is made of: the API operations the adapters call ([`Api`]), how
//! long each call takes ([`Latency`]), the request rates AWS documents ([`Limit`]), and the
//! SDK retry settings flowguard configures ([`Retry`]). Every number says where it comes from;
//! docs/benchmarks.md ("Organization scale, simulated") renders them from [`catalogue`].

use serde::Serialize;
use std::time::Duration;

/// An AWS API operation that flowguard's adapters call, named as the moto benchmark's proxy
/// counts it (`service:Operation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Api {
    AssumeRole,
    GetCallerIdentity,
    ListAccounts,
    DescribeVpcs,
    DescribeFlowLogs,
    CreateFlowLogs,
    DeleteFlowLogs,
    DescribeLogGroups,
    CreateLogGroup,
    PutRetentionPolicy,
    GetFindings,
    BatchUpdateFindings,
    DescribeConfigRules,
    StartConfigRulesEvaluation,
    GetRole,
}

/// The service of an operation: its throttling error and whose retry quota it draws on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Service {
    Sts,
    Organizations,
    Ec2,
    Logs,
    SecurityHub,
    Config,
    Iam,
}

impl Api {
    pub const ALL: [Api; 15] = [
        Api::AssumeRole,
        Api::GetCallerIdentity,
        Api::ListAccounts,
        Api::DescribeVpcs,
        Api::DescribeFlowLogs,
        Api::CreateFlowLogs,
        Api::DeleteFlowLogs,
        Api::DescribeLogGroups,
        Api::CreateLogGroup,
        Api::PutRetentionPolicy,
        Api::GetFindings,
        Api::BatchUpdateFindings,
        Api::DescribeConfigRules,
        Api::StartConfigRulesEvaluation,
        Api::GetRole,
    ];

    /// The operation's name in an [`flowguard_core::AwsError`], as the adapters write it.
    pub fn operation(self) -> &'static str {
        match self {
            Api::AssumeRole => "AssumeRole",
            Api::GetCallerIdentity => "GetCallerIdentity",
            Api::ListAccounts => "ListAccounts",
            Api::DescribeVpcs => "DescribeVpcs",
            Api::DescribeFlowLogs => "DescribeFlowLogs",
            Api::CreateFlowLogs => "CreateFlowLogs",
            Api::DeleteFlowLogs => "DeleteFlowLogs",
            Api::DescribeLogGroups => "DescribeLogGroups",
            Api::CreateLogGroup => "CreateLogGroup",
            Api::PutRetentionPolicy => "PutRetentionPolicy",
            Api::GetFindings => "GetFindings",
            Api::BatchUpdateFindings => "BatchUpdateFindings",
            Api::DescribeConfigRules => "DescribeConfigRules",
            Api::StartConfigRulesEvaluation => "StartConfigRulesEvaluation",
            Api::GetRole => "GetRole",
        }
    }

    pub fn service(self) -> Service {
        match self {
            Api::AssumeRole | Api::GetCallerIdentity => Service::Sts,
            Api::ListAccounts => Service::Organizations,
            Api::DescribeVpcs | Api::DescribeFlowLogs | Api::CreateFlowLogs => Service::Ec2,
            Api::DeleteFlowLogs => Service::Ec2,
            Api::DescribeLogGroups | Api::CreateLogGroup | Api::PutRetentionPolicy => Service::Logs,
            Api::GetFindings | Api::BatchUpdateFindings => Service::SecurityHub,
            Api::DescribeConfigRules | Api::StartConfigRulesEvaluation => Service::Config,
            Api::GetRole => Service::Iam,
        }
    }

    /// `service:Operation`, as bench/proxy.py counts calls.
    pub fn name(self) -> String {
        let service = match self.service() {
            Service::Sts => "sts",
            Service::Organizations => "organizations",
            Service::Ec2 => "ec2",
            Service::Logs => "logs",
            Service::SecurityHub => "securityhub",
            Service::Config => "config",
            Service::Iam => "iam",
        };
        format!("{service}:{}", self.operation())
    }

    pub fn from_name(name: &str) -> Option<Api> {
        Api::ALL.into_iter().find(|api| api.name() == name)
    }

    /// The error code AWS answers when it throttles the call.
    pub fn throttle_code(self) -> &'static str {
        match self.service() {
            Service::Ec2 => "RequestLimitExceeded",
            Service::Sts | Service::Iam => "Throttling",
            Service::Organizations => "TooManyRequestsException",
            Service::Logs | Service::SecurityHub | Service::Config => "ThrottlingException",
        }
    }

    /// Whether the call counts against the hub's own account or organization (STS,
    /// Organizations), not against the member account×region it is made for.
    pub fn on_hub(self) -> bool {
        matches!(self.service(), Service::Sts | Service::Organizations)
    }
}

/// How long one call takes, from the request to the answer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Latency {
    /// Log-normal, given by its median and 99th percentile.
    LogNormal { p50: Duration, p99: Duration },
    /// Always the same.
    Fixed(Duration),
}

/// The 99th percentile of the standard normal distribution: a log-normal's p99 is
/// `p50 · e^(σ · Z99)`.
const Z99: f64 = 2.326_347_874_040_841;

impl Latency {
    pub fn log_normal(p50_ms: u64, p99_ms: u64) -> Self {
        Latency::LogNormal {
            p50: Duration::from_millis(p50_ms),
            p99: Duration::from_millis(p99_ms),
        }
    }

    /// A draw, from a standard normal `z`.
    pub fn at(self, z: f64) -> Duration {
        match self {
            Latency::Fixed(d) => d,
            Latency::LogNormal { p50, p99 } => {
                let p50 = p50.as_secs_f64().max(1e-6);
                let sigma = (p99.as_secs_f64().max(p50) / p50).ln() / Z99;
                Duration::from_secs_f64(p50 * (sigma * z).exp())
            }
        }
    }

    /// Every duration multiplied by `factor` (the latency axis of the curve).
    pub fn scaled(self, factor: f64) -> Self {
        let f = |d: Duration| d.mul_f64(factor);
        match self {
            Latency::Fixed(d) => Latency::Fixed(f(d)),
            Latency::LogNormal { p50, p99 } => Latency::LogNormal {
                p50: f(p50),
                p99: f(p99),
            },
        }
    }

    /// The mean: the median times e^(σ²/2) for the log-normal.
    pub fn mean(self) -> Duration {
        match self {
            Latency::Fixed(d) => d,
            Latency::LogNormal { p50, p99 } => {
                let sigma = (p99.as_secs_f64() / p50.as_secs_f64().max(1e-6)).ln() / Z99;
                p50.mul_f64((sigma * sigma / 2.0).exp())
            }
        }
    }
}

/// The default latency of real AWS, an assumption (AWS publishes no latency figures for these
/// control-plane calls): the log-normal with p50 150 ms and p99 1.5 s for the calls
/// in a member account; `AssumeRole` and Organizations slower, p50 300 ms and p99 3 s (STS
/// signs and issues credentials; Organizations is a global service served from us-east-1).
pub fn aws_latency(api: Api) -> Latency {
    match api {
        Api::AssumeRole | Api::ListAccounts => Latency::log_normal(300, 3000),
        _ => Latency::log_normal(150, 1500),
    }
}

/// A request rate that AWS enforces with a token bucket: `burst` requests at once, refilled
/// at `per_second`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Limit {
    pub burst: f64,
    pub per_second: f64,
    /// Where the figure comes from, or why it was chosen.
    pub source: &'static str,
}

const CWL_QUOTAS: &str = "documented: CloudWatch Logs quotas, DescribeLogGroups 5 TPS per \
    account and Region (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/cloudwatch_limits_cwl.html, \
    as in awsdocs/amazon-cloudwatch-logs-user-guide); burst not published: 1 s worth";

/// The request rate AWS applies to `api`, per member account×region or, for [`Api::on_hub`]
/// operations, per hub account (STS) or organization (Organizations).
pub fn documented_limit(api: Api) -> Limit {
    let limit = |burst, per_second, source| Limit {
        burst,
        per_second,
        source,
    };
    match api {
        Api::DescribeVpcs | Api::DescribeFlowLogs => limit(
            100.0,
            20.0,
            "documented: EC2 non-mutating actions, bucket 100, refill 20/s (EC2 request token buckets, per account and Region: https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html); filtered or paginated, so not the smaller unfiltered bucket",
        ),
        Api::CreateFlowLogs | Api::DeleteFlowLogs => limit(
            50.0,
            5.0,
            "documented: EC2 mutating actions, bucket 50, refill 5/s (same page); DryRun checks counted as calls",
        ),
        Api::DescribeLogGroups => limit(5.0, 5.0, CWL_QUOTAS),
        Api::CreateLogGroup | Api::PutRetentionPolicy => limit(
            5.0,
            5.0,
            "not published (the CloudWatch Logs quotas list no rate for it): pessimistic, DescribeLogGroups' 5 TPS",
        ),
        Api::AssumeRole | Api::GetCallerIdentity => limit(
            100.0,
            100.0,
            "not published (the IAM and STS quotas page lists no request rate; users report 600 per second per account, e.g. awslabs/mountpoint-s3#1358): pessimistic, a sixth of that, 100 per second for the hub's account, burst 100",
        ),
        Api::ListAccounts => limit(
            3.0,
            3.0,
            "not published (Organizations' quotas page lists no API rate; awsdocs/aws-organizations-docs#39 asked for one): pessimistic, 3 per second, burst 3, the lowest read rate that AWS Account Management documents (GetAccountInformation: https://docs.aws.amazon.com/accounts/latest/reference/quotas.html)",
        ),
        Api::GetFindings => limit(
            6.0,
            3.0,
            "documented: Security Hub API reference, GetFindings 3 per second, burst 6 (unused here: the integrations are off by default)",
        ),
        Api::BatchUpdateFindings => limit(
            10.0,
            10.0,
            "Security Hub's BatchUpdateFindings, 10 per second (crates/aws/src/integrations.rs; unused here); burst not looked up: 1 s worth",
        ),
        Api::GetRole => limit(
            5.0,
            5.0,
            "not published (the IAM and STS quotas page lists no request rate): pessimistic, 5 per second per member account, burst 5; made once per account, before its first flow log",
        ),
        Api::DescribeConfigRules | Api::StartConfigRulesEvaluation => limit(
            1.0,
            1.0,
            "not looked up (unused here: the integrations are off by default): pessimistic 1 per second",
        ),
    }
}

/// The SDK's standard retry strategy as a client is configured with it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Retry {
    /// Attempts per operation, the first included.
    pub attempts: u32,
    /// The first backoff's ceiling; the n-th retry waits a uniform draw in
    /// `[0, min(initial · 2^(n-1), max_backoff))` (full jitter).
    #[serde(with = "secs")]
    pub initial_backoff: Duration,
    #[serde(with = "secs")]
    pub max_backoff: Duration,
    /// One attempt's time; longer is a timeout (a transient error, retried).
    #[serde(with = "secs")]
    pub attempt_timeout: Duration,
    /// The whole operation's time, retries and backoffs included.
    #[serde(with = "secs")]
    pub operation_timeout: Duration,
}

/// The hub's and the CLI's clients (crates/aws/src/config.rs: `retry_config`, `MAX_ATTEMPTS`,
/// `ATTEMPT_TIMEOUT`, `OPERATION_TIMEOUT`), and the STS client of each member session, which
/// aws-config's `AssumeRoleProvider` builds from the hub's configuration.
pub const HUB_RETRY: Retry = Retry {
    attempts: 3,
    initial_backoff: Duration::from_millis(100),
    max_backoff: Duration::from_secs(2),
    attempt_timeout: Duration::from_secs(4),
    operation_timeout: Duration::from_secs(6),
};

/// The CLI's: the hub's, with `CLI_OPERATION_TIMEOUT` (20 s) per operation.
pub const CLI_RETRY: Retry = Retry {
    operation_timeout: Duration::from_secs(20),
    ..HUB_RETRY
};

/// The Organizations client (crates/aws/src/organization/directory.rs:
/// `ORGANIZATIONS_ATTEMPTS`, `ORGANIZATIONS_MAX_BACKOFF`, `ORGANIZATIONS_TIMEOUT`), whose
/// initial backoff is the SDK's default, 1 s (aws-smithy-types 1.9.3, `RetryConfigBuilder::build`).
pub const ORGANIZATIONS_RETRY: Retry = Retry {
    attempts: 6,
    initial_backoff: Duration::from_secs(1),
    max_backoff: Duration::from_secs(10),
    attempt_timeout: Duration::from_secs(4),
    operation_timeout: Duration::from_secs(60),
};

/// The SDK's client-side retry quota (aws-smithy-runtime 1.16.2, `TokenBucket::default`, the
/// standard strategy without the 2026 retry behaviour): 500 tokens per retry partition; a
/// retry of a throttled call takes 5, of a timeout 10; a first attempt that succeeds gives one
/// back, a retry that succeeds returns what it took. Partitions: each member account's EC2 and
/// CloudWatch Logs clients have their own (`Clients::in_account`); STS (every member session's
/// `AssumeRole`) and Organizations have one each for the whole hub.
pub mod quota {
    pub const CAPACITY: u32 = 500;
    pub const THROTTLING_COST: u32 = 5;
    pub const TIMEOUT_COST: u32 = 10;
    pub const SUCCESS_REWARD: u32 = 1;
}

/// A row of the model for the documentation: latency, rate and retries of one operation.
#[derive(Debug, Clone, Serialize)]
pub struct CatalogueRow {
    pub api: String,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub mean_ms: f64,
    pub limit: Limit,
    pub on_hub: bool,
}

/// The model's operations that the scenarios use, for docs/benchmarks.md.
pub fn catalogue() -> Vec<CatalogueRow> {
    let used = [
        Api::AssumeRole,
        Api::ListAccounts,
        Api::DescribeVpcs,
        Api::DescribeFlowLogs,
        Api::DescribeLogGroups,
        Api::CreateFlowLogs,
        Api::CreateLogGroup,
        Api::PutRetentionPolicy,
        Api::GetRole,
    ];
    let ms = |d: Duration| (d.as_secs_f64() * 1000.0 * 10.0).round() / 10.0;
    used.into_iter()
        .map(|api| {
            let latency = aws_latency(api);
            let (p50, p99) = match latency {
                Latency::LogNormal { p50, p99 } => (p50, p99),
                Latency::Fixed(d) => (d, d),
            };
            CatalogueRow {
                api: api.name(),
                p50_ms: ms(p50),
                p99_ms: ms(p99),
                mean_ms: ms(latency.mean()),
                limit: documented_limit(api),
                on_hub: api.on_hub(),
            }
        })
        .collect()
}

/// Durations as seconds in JSON.
mod secs {
    use serde::Serializer;
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(d.as_secs_f64())
    }
}
