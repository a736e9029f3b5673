//! # flowguard-tests
//!
//! Test support for the integration and end-to-end suites and for the demo: a handle on the
//! moto server that `./scripts/test` starts ([`moto`]), SDK clients that can only ever reach
//! it (dummy credentials, explicit endpoint, no instance metadata), the environment of child
//! processes ([`child_env`]), seeding helpers ([`Seed`]), fixture events stamped with ids and
//! times ([`create_vpc_event`], [`stamped`]), and the emulators and the Lambda binary as child
//! processes stopped on drop ([`processes`]).
//!
//! Suites: the one test binary `e2e` (`e2e/main.rs`), whose modules are `integration` (the
//! engine and adapters against moto), `cli` (the `flowguard` binary), `faults` (faults and
//! races through [`proxy`]), `organization` (an organization's accounts, and `AssumeRole`
//! into its members), `s3` (the S3 destination) and `lambda` (the built Lambda binary under
//! `cargo lambda watch`). Their tests are `#[ignore]`d, so that a bare `cargo test
//! --workspace` passes with nothing running; `./scripts/test` starts moto and runs them with
//! `--include-ignored`. The demo (`demo/`, the `flowguard-demo` binary behind
//! `./scripts/demo`) starts its own emulators.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod organizations;
pub mod processes;
pub mod proxy;
mod reconciler;

pub use reconciler::Reconciler;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_ec2::types::{
    Filter, FlowLogsResourceType, LogDestinationType, ResourceType, Tag, TagSpecification,
    TrafficType,
};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use flowguard_aws::Clients;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use tokio::sync::{Mutex, MutexGuard};

/// The default test region, moto's default account and their place, as every crate's tests
/// have them.
pub use flowguard_core::fake::{ACCOUNT, REGION, place};

/// The policy of the suites: defaults, with a delivery role.
pub fn policy() -> flowguard_core::Policy {
    flowguard_core::Policy {
        delivery_role_arn: Some(ROLE.into()),
        ..flowguard_core::Policy::default()
    }
}

/// A delivery role ARN (moto does not check it when creating flow logs).
pub const ROLE: &str = "arn:aws:iam::123456789012:role/flowguard-delivery";

/// One moto server is shared by every test; this lock makes the tests of one binary take
/// turns, each starting from a reset emulator.
static LOCK: Mutex<()> = Mutex::const_new(());

/// The moto endpoint, from `MOTO_URL` (set by `./scripts/test`).
pub fn moto_url() -> String {
    std::env::var("MOTO_URL").unwrap_or_else(|_| {
        panic!("MOTO_URL is not set: run the tests with ./scripts/test, which installs and starts moto server")
    })
}

/// Exclusive use of a freshly reset moto server for the duration of one test.
#[derive(Debug)]
pub struct Moto {
    pub url: String,
    _turn: MutexGuard<'static, ()>,
}

/// Takes the emulator for one test and resets it.
pub async fn moto() -> Moto {
    let turn = LOCK.lock().await;
    let url = moto_url();
    reset(&url);
    Moto { url, _turn: turn }
}

/// `POST /moto-api/reset`: forget every resource.
pub fn reset(url: &str) {
    let address = url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address)
        .unwrap_or_else(|e| panic!("moto server at {url} is not reachable: {e}"));
    write!(stream, "POST /moto-api/reset HTTP/1.1\r\nHost: {address}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(
        answer.starts_with("HTTP/1.1 200") || answer.starts_with("HTTP/1.0 200"),
        "reset failed: {answer}"
    );
}

/// Creates an S3 bucket in `account` of moto (`PUT /BUCKET`, moto's default service, with its
/// `x-moto-account-id` header): the log-archive bucket of the S3 destination tests, without
/// pulling in the S3 SDK for one call.
pub fn create_bucket(url: &str, account: &str, bucket: &str) {
    let address = url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address)
        .unwrap_or_else(|e| panic!("moto server at {url} is not reachable: {e}"));
    write!(
        stream,
        "PUT /{bucket} HTTP/1.1\r\nHost: {address}\r\nx-moto-account-id: {account}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(
        answer.starts_with("HTTP/1.1 200") || answer.starts_with("HTTP/1.0 200"),
        "creating bucket {bucket} failed: {answer}"
    );
}

impl Moto {
    /// SDK configuration that can only reach moto.
    pub async fn config(&self, region: &str) -> SdkConfig {
        self.config_at(&self.url, region).await
    }

    /// SDK configuration that reaches moto through `url` (a [`proxy::FaultProxy`] in front of
    /// it, for instance one enforcing [`proxy::AwsRules`]).
    pub async fn config_at(&self, url: &str, region: &str) -> SdkConfig {
        config_for(url, region).await
    }

    pub async fn clients(&self, region: &str) -> Clients {
        Clients::new(&self.config(region).await)
    }

    /// Clients that reach moto through `url`.
    pub async fn clients_at(&self, url: &str, region: &str) -> Clients {
        Clients::new(&self.config_at(url, region).await)
    }

    /// Clients whose every request (each attempt) is counted by operation name.
    pub async fn counted_clients(&self, region: &str) -> (Clients, CallCounter) {
        self.counted_clients_at(&self.url, region).await
    }

    /// Counted clients that reach moto through `url`.
    pub async fn counted_clients_at(&self, url: &str, region: &str) -> (Clients, CallCounter) {
        let config = self.config_at(url, region).await;
        let counter = CallCounter::default();
        let clients = Clients::from_parts(
            aws_sdk_ec2::Client::from_conf(
                aws_sdk_ec2::config::Builder::from(&config)
                    .interceptor(counter.clone())
                    .build(),
            ),
            aws_sdk_cloudwatchlogs::Client::from_conf(
                aws_sdk_cloudwatchlogs::config::Builder::from(&config)
                    .interceptor(counter.clone())
                    .build(),
            ),
            &config,
        )
        .with_iam(aws_sdk_iam::Client::from_conf(
            aws_sdk_iam::config::Builder::from(&config)
                .interceptor(counter.clone())
                .build(),
        ));
        (clients, counter)
    }

    /// Environment for child processes (the CLI, the Lambda) that reach this moto.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        child_env(&self.url)
    }
}

/// Sends a `CreateFlowLogs` of one VPC; the flow log's id.
async fn created(
    request: aws_sdk_ec2::operation::create_flow_logs::builders::CreateFlowLogsFluentBuilder,
) -> String {
    let out = request.send().await.unwrap();
    out.flow_log_ids()[0].clone()
}

/// A reconciler of [`place`] whose requests go through a proxy enforcing `rules`
/// ([`proxy::AwsRules`]: what real AWS refuses and moto does not), and seeding clients that
/// reach moto directly.
pub async fn strict(m: &Moto, rules: proxy::AwsRules) -> (Reconciler, Seed, proxy::FaultProxy) {
    let proxy = proxy::FaultProxy::with_aws_rules(&m.url, rules);
    let clients = m.clients_at(&proxy.url, REGION).await;
    let seed = Seed::new(&m.clients(REGION).await);
    (Reconciler::new(clients, place()), seed, proxy)
}

/// Environment for a child process (the CLI, the Lambda) whose environment was cleared: the
/// endpoint `url`, dummy credentials, the test region, no instance metadata, no shared config
/// files. With it, the SDK can reach nothing but `url`.
pub fn child_env(url: &str) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ENDPOINT_URL", url.to_owned()),
        ("AWS_ACCESS_KEY_ID", "testing".into()),
        ("AWS_SECRET_ACCESS_KEY", "testing".into()),
        ("AWS_SESSION_TOKEN", "testing".into()),
        ("AWS_REGION", REGION.into()),
        ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ("AWS_CONFIG_FILE", "/dev/null".into()),
        ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null".into()),
    ]
}

/// Counts the requests that reach the wire, by operation, in order.
#[derive(Debug, Clone, Default)]
pub struct CallCounter(Arc<std::sync::Mutex<Vec<String>>>);

impl CallCounter {
    /// Every call so far, in order.
    pub fn calls(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }

    pub fn clear(&self) {
        self.0.lock().unwrap().clear();
    }
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "CallCounter"
    }

    fn read_before_transmit(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let name = cfg
            .load::<Metadata>()
            .map_or("unknown", |m| m.name())
            .to_owned();
        self.0.lock().unwrap().push(name);
        Ok(())
    }
}

/// SDK configuration for a local endpoint, with dummy credentials.
pub async fn config_for(url: &str, region: &str) -> SdkConfig {
    let credentials =
        aws_credential_types::Credentials::new("testing", "testing", None, None, "flowguard-tests");
    aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new(region.to_owned()))
        .endpoint_url(url)
        .credentials_provider(credentials)
        .load()
        .await
}

/// Seeding and inspection helpers over the raw SDK (never over flowguard's own code).
#[derive(Debug, Clone)]
pub struct Seed {
    pub ec2: aws_sdk_ec2::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
}

impl Seed {
    pub fn new(clients: &Clients) -> Self {
        Self {
            ec2: clients.ec2.clone(),
            logs: clients.logs.clone(),
        }
    }

    pub async fn vpc(&self) -> String {
        let out = self
            .ec2
            .create_vpc()
            .cidr_block("10.0.0.0/16")
            .send()
            .await
            .unwrap();
        out.vpc().unwrap().vpc_id().unwrap().to_owned()
    }

    /// A VPC created with a `Name` tag and `tags`, as a console user would.
    pub async fn named_vpc(&self, name: &str, cidr: &str, tags: &[(&str, &str)]) -> String {
        let tags = std::iter::once(("Name", name)).chain(tags.iter().copied());
        let out = self
            .ec2
            .create_vpc()
            .cidr_block(cidr)
            .tag_specifications(
                TagSpecification::builder()
                    .resource_type(ResourceType::Vpc)
                    .set_tags(Some(
                        tags.map(|(k, v)| Tag::builder().key(k).value(v).build())
                            .collect(),
                    ))
                    .build(),
            )
            .send()
            .await
            .unwrap();
        out.vpc().unwrap().vpc_id().unwrap().to_owned()
    }

    /// The region's default VPC (moto creates one).
    pub async fn default_vpc(&self) -> String {
        let f = Filter::builder().name("is-default").values("true").build();
        let out = self.ec2.describe_vpcs().filters(f).send().await.unwrap();
        out.vpcs()[0].vpc_id().unwrap().to_owned()
    }

    pub async fn tag(&self, resource: &str, key: &str, value: &str) {
        self.ec2
            .create_tags()
            .resources(resource)
            .tags(Tag::builder().key(key).value(value).build())
            .send()
            .await
            .unwrap();
    }

    pub async fn log_group(&self, name: &str, retention: Option<i32>) {
        self.logs
            .create_log_group()
            .log_group_name(name)
            .send()
            .await
            .unwrap();
        if let Some(days) = retention {
            self.logs
                .put_retention_policy()
                .log_group_name(name)
                .retention_in_days(days)
                .send()
                .await
                .unwrap();
        }
    }

    /// A flow log created by someone else (no flowguard tag).
    /// A new VPC whose only flow log is someone else's, of `traffic`, into a new group `group`
    /// kept `retention` days: the VPC's id and the flow log's.
    pub async fn vpc_logging_into(
        &self,
        group: &str,
        retention: Option<i32>,
        traffic: TrafficType,
    ) -> (String, String) {
        let vpc = self.vpc().await;
        self.log_group(group, retention).await;
        let flow_log = self.foreign_flow_log(&vpc, traffic, group).await;
        (vpc, flow_log)
    }

    pub async fn foreign_flow_log(&self, vpc: &str, traffic: TrafficType, group: &str) -> String {
        self.foreign_flow_log_with_role(vpc, traffic, group, ROLE)
            .await
    }

    /// A flow log created by someone else, delivering through `role`.
    pub async fn foreign_flow_log_with_role(
        &self,
        vpc: &str,
        traffic: TrafficType,
        group: &str,
        role: &str,
    ) -> String {
        let request = self
            .foreign(vpc, traffic)
            .log_destination_type(LogDestinationType::CloudWatchLogs)
            .log_group_name(group)
            .deliver_logs_permission_arn(role)
            .tag_specifications(
                TagSpecification::builder()
                    .resource_type(ResourceType::VpcFlowLog)
                    .tags(Tag::builder().key("owner").value("network-team").build())
                    .build(),
            );
        created(request).await
    }

    /// A flow log into an S3 bucket (`arn:aws:s3:::BUCKET`) created by someone else.
    pub async fn foreign_s3_flow_log(
        &self,
        vpc: &str,
        traffic: TrafficType,
        bucket_arn: &str,
    ) -> String {
        let request = self
            .foreign(vpc, traffic)
            .log_destination_type(LogDestinationType::S3)
            .log_destination(bucket_arn);
        created(request).await
    }

    /// The start of someone else's `CreateFlowLogs` of `traffic` on `vpc`.
    fn foreign(
        &self,
        vpc: &str,
        traffic: TrafficType,
    ) -> aws_sdk_ec2::operation::create_flow_logs::builders::CreateFlowLogsFluentBuilder {
        self.ec2
            .create_flow_logs()
            .resource_type(FlowLogsResourceType::Vpc)
            .resource_ids(vpc)
            .traffic_type(traffic)
    }

    /// Deletes a flow log, as a person would.
    pub async fn delete_flow_log(&self, id: &str) {
        self.ec2
            .delete_flow_logs()
            .flow_log_ids(id)
            .send()
            .await
            .unwrap();
    }

    /// Every VPC-level flow log of `vpc`.
    pub async fn flow_logs_of(&self, vpc: &str) -> Vec<aws_sdk_ec2::types::FlowLog> {
        let f = Filter::builder().name("resource-id").values(vpc).build();
        self.ec2
            .describe_flow_logs()
            .filter(f)
            .send()
            .await
            .unwrap()
            .flow_logs()
            .to_vec()
    }

    pub async fn all_flow_logs(&self) -> Vec<aws_sdk_ec2::types::FlowLog> {
        self.ec2
            .describe_flow_logs()
            .send()
            .await
            .unwrap()
            .flow_logs()
            .to_vec()
    }

    /// The retention of a group: `None` when missing, `Some(None)` for never expire.
    pub async fn retention(&self, name: &str) -> Option<Option<i32>> {
        let out = self
            .logs
            .describe_log_groups()
            .log_group_name_prefix(name)
            .send()
            .await
            .unwrap();
        out.log_groups()
            .iter()
            .find(|g| g.log_group_name() == Some(name))
            .map(|g| g.retention_in_days())
    }

    pub async fn vpc_ids(&self) -> Vec<String> {
        let out = self.ec2.describe_vpcs().send().await.unwrap();
        out.vpcs()
            .iter()
            .filter_map(|v| v.vpc_id().map(str::to_owned))
            .collect()
    }
}

/// A binary of this workspace: `<target>/<profile>/NAME`, next to the running binary (the
/// demo) or one level up (test executables run from `<target>/<profile>/deps/`).
/// `./scripts/test` builds the binaries before the tests.
pub fn workspace_binary(name: &str) -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    let mut dir = exe.parent().unwrap();
    if dir.ends_with("deps") || dir.ends_with("examples") {
        dir = dir.parent().unwrap();
    }
    let path = dir.join(name);
    assert!(
        path.is_file(),
        "{name} is not at {}: build it first with `cargo build --workspace --bins` (./scripts/test does)",
        path.display()
    );
    path
}

/// Creates a delivery role in moto's IAM that trusts the flow-logs service; returns its ARN.
pub async fn delivery_role(m: &Moto, name: &str) -> String {
    delivery_role_with(&m.config(REGION).await, name).await
}

/// Creates the delivery role `name`, trusting the flow-logs service, in the account whose
/// credentials `config` holds; returns its ARN.
pub async fn delivery_role_with(config: &SdkConfig, name: &str) -> String {
    let iam = aws_sdk_iam::Client::new(config);
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"vpc-flow-logs.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    let out = iam
        .create_role()
        .role_name(name)
        .assume_role_policy_document(trust)
        .send()
        .await
        .unwrap();
    out.role().unwrap().arn().to_owned()
}

/// The delivery role of organization mode's default name (`flowguard-delivery`) in each of
/// `accounts`, created through the member role `flowguard-member`, as each spoke's stack
/// creates it: `apply` checks it in each member before creating flow logs there.
pub async fn member_delivery_roles(m: &Moto, accounts: &[&str]) {
    let access = flowguard_aws::organization::MemberAccess::new(
        m.config(REGION).await,
        ACCOUNT,
        "flowguard-member",
        None,
        "flowguard-test-seed",
    )
    .unwrap();
    for account in accounts {
        let config = access.config(account, REGION).await.unwrap();
        delivery_role_with(&config, "flowguard-delivery").await;
    }
}

/// A fixture event from `tests/fixtures/events`, parsed.
pub fn fixture(name: &str) -> serde_json::Value {
    serde_json::from_slice(&flowguard_core::fake::fixture(name)).unwrap()
}

/// The DeleteFlowLogs fixture for the flow log `id`.
pub fn delete_flow_logs_event(id: &str) -> serde_json::Value {
    let mut event = fixture("delete_flow_logs.json");
    event["detail"]["requestParameters"]["DeleteFlowLogsRequest"]["FlowLogId"]["content"] =
        id.into();
    event
}

/// The CreateVpc fixture for `vpc`, stamped with the current time (so it counts as fresh).
pub fn create_vpc_event(vpc: &str) -> serde_json::Value {
    let mut event = fixture("create_vpc.json");
    event["detail"]["responseElements"]["vpc"]["vpcId"] = vpc.into();
    event["time"] = now_rfc3339().into();
    event["id"] = format!("test-{vpc}").into();
    event
}

/// The PutRetentionPolicy fixture for `group`, set to `days`.
pub fn put_retention_policy_event(group: &str, days: i32) -> serde_json::Value {
    let mut event = fixture("variants/put_retention_policy.json");
    event["detail"]["requestParameters"]["logGroupName"] = group.into();
    event["detail"]["requestParameters"]["retentionInDays"] = days.into();
    event
}

/// `event` as EventBridge would deliver it now: a new id and the current time, and for a
/// CloudTrail event a new `eventID` and the same `eventTime`.
pub fn stamped(mut event: serde_json::Value) -> serde_json::Value {
    let now = now_rfc3339();
    event["id"] = event_id().into();
    event["time"] = now.clone().into();
    if event["detail-type"] == "AWS API Call via CloudTrail" {
        event["detail"]["eventID"] = event_id().into();
        event["detail"]["eventTime"] = now.into();
    }
    event
}

/// A random id in the shape of EventBridge's and CloudTrail's (a version 4 UUID), from the
/// standard library's randomly keyed hasher.
pub fn event_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let random = || {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_nanos(),
        );
        h.finish()
    };
    let (high, low) = (random(), random());
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        high >> 32,
        (high >> 16) & 0xffff,
        high & 0x0fff,
        0x8000 | (low >> 48) & 0x3fff,
        low & 0xffff_ffff_ffff
    )
}

/// Decodes `%XX` escapes (IAM returns policy documents URL-encoded); `+` stays as it is.
pub fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%' && i + 2 < bytes.len())
            .then(|| u8::from_str_radix(s.get(i + 1..i + 3)?, 16).ok())
            .flatten();
        match escaped {
            Some(b) => {
                out.push(b);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The current time as `YYYY-MM-DDThh:mm:ssZ`.
pub fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    rfc3339(secs)
}

/// Unix seconds as `YYYY-MM-DDThh:mm:ssZ`.
pub fn rfc3339(secs: i64) -> String {
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}
