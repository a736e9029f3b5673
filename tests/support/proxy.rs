//! An HTTP proxy in front of moto with two layers.
//!
//! - **Faults**: throttling, 500/503, dropped connections, lost responses (the request was
//!   applied, the answer never arrives) and delays beyond the SDK's attempt timeout. Which
//!   request gets which fault is decided by a seeded hash of (seed, operation, how many times
//!   that operation was seen), so a schedule replays the same way even when reads run
//!   concurrently.
//! - **AWS rules** ([`AwsRules`]): what AWS documents and moto does not do. Requests over
//!   AWS's limits are refused as AWS refuses them (more than 300 resource ids in one
//!   `CreateFlowLogs`, more than 1000 ids in one `DeleteFlowLogs` or `DescribeFlowLogs`, more
//!   than 200 values in one EC2 filter, more than 50 `logGroupIdentifiers`); requests signed
//!   for a region the account has not enabled are refused with `AuthFailure` (EC2) or
//!   `UnrecognizedClientException` (JSON services); `DescribeLogGroups` must name its groups
//!   (a listing by prefix is refused: in a real region it pages through tens of thousands of
//!   groups) and answers with only those groups; chosen VPCs are shown as owned by another
//!   account (shared through AWS RAM), and a `CreateFlowLogs` naming one is refused as a whole
//!   with `UnauthorizedOperation`; a VPC of one account can be shared into another (a
//!   participant's `DescribeVpcs` lists it, owned by its owner, as AWS RAM makes it; moto shows
//!   a VPC only in its own account), the proxy telling accounts apart by the access keys that
//!   its `AssumeRole` answers handed out; chosen flow logs are shown failing delivery, with the error
//!   message and creation time a test picks; chosen accounts refuse `AssumeRole` of their
//!   roles with `AccessDenied`, as STS does when a role does not trust the caller or the
//!   external id is not the one its trust policy requires (moto lets anyone assume any role).
//!   A `CreateFlowLogs` into S3 with a delivery role, or into CloudWatch Logs with
//!   `DestinationOptions`, is refused with `InvalidParameter`, as EC2 refuses it (moto takes
//!   both). EC2 refuses a duplicate flow log atomically, while
//!   moto checks, then inserts, on concurrent threads: the rules layer sends `CreateFlowLogs`
//!   to moto one at a time, so that concurrent runs meet EC2's answer, not a race of the
//!   emulator's.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What happens to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fault {
    Pass,
    /// `RequestLimitExceeded` (EC2, HTTP 503) or `ThrottlingException` (Logs, HTTP 400).
    Throttle,
    /// HTTP 500 `InternalError` / 503 `ServiceUnavailable`.
    ServerError(u16),
    /// The connection is closed before the request reaches moto.
    Reset,
    /// The request reaches moto and is applied; the response is dropped.
    LoseResponse,
    /// The request is held longer than the SDK's attempt timeout, then forwarded.
    Delay,
}

/// The faults of one run.
#[derive(Debug, Default)]
pub struct Schedule {
    pub seed: u64,
    /// Out of 1000: how often a request is faulted.
    pub per_mille: u64,
    seen: HashMap<String, u64>,
    /// Every request with the fault it got, in arrival order.
    pub log: Vec<(String, Fault)>,
}

impl Schedule {
    pub fn new(seed: u64, per_mille: u64) -> Self {
        Self {
            seed,
            per_mille,
            ..Self::default()
        }
    }

    /// No faults at all.
    pub fn none() -> Self {
        Self::new(0, 0)
    }

    fn decide(&mut self, operation: &str) -> Fault {
        let n = self.seen.entry(operation.to_owned()).or_default();
        *n += 1;
        let mut h = splitmix(self.seed ^ splitmix(*n));
        for b in operation.bytes() {
            h = splitmix(h ^ u64::from(b));
        }
        let fault = if h % 1000 >= self.per_mille {
            Fault::Pass
        } else {
            match (h / 1000) % 12 {
                0..=3 => Fault::Throttle,
                4 => Fault::ServerError(500),
                5 | 6 => Fault::ServerError(503),
                7 | 8 => Fault::Reset,
                9 | 10 => Fault::LoseResponse,
                _ => Fault::Delay,
            }
        };
        self.log.push((operation.to_owned(), fault));
        fault
    }
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// What AWS does and moto does not; see the module overview.
#[derive(Debug, Clone, Default)]
pub struct AwsRules {
    /// VPC id → the account shown as its owner.
    pub shared_vpcs: HashMap<String, String>,
    /// VPCs shared through AWS RAM, by participant account: the participant's `DescribeVpcs`
    /// lists each (as its owner sees it, owned by the owner) and a `CreateFlowLogs` of the
    /// participant naming one is refused as for `shared_vpcs`. Only requests signed with
    /// credentials from an `AssumeRole` seen by this proxy are attributed to an account.
    pub shared_into: HashMap<String, Vec<SharedVpc>>,
    /// Access key id → account, learnt from the `AssumeRole` answers that passed through.
    pub keys: Arc<Mutex<HashMap<String, String>>>,
    /// Flow-log id → (`DeliverLogsErrorMessage`, age in seconds shown as its creation time).
    pub failing_flow_logs: HashMap<String, (String, u64)>,
    /// VPC id → `DeliverLogsErrorMessage` for every flow log of the VPC (creation time as moto
    /// has it): a delivery that keeps failing whatever flow log is created.
    pub failing_vpcs: HashMap<String, String>,
    /// Accounts whose roles refuse to be assumed: `AssumeRole` of a role of one of them is
    /// refused with `AccessDenied` (HTTP 403).
    pub refused_roles: HashSet<String>,
    /// The `sts:ExternalId` that every role's trust policy requires, if any: `AssumeRole`
    /// without it, or with another, is refused with `AccessDenied`.
    pub external_id: Option<String>,
    /// Every refusal, as (operation, code), for assertions.
    pub refused: Vec<(String, String)>,
    /// The enabled regions of accounts that lack some: `DescribeRegions` signed by one of them
    /// answers only these (a region it has not opted in to is not listed), as AWS does.
    pub regions_of: HashMap<String, Vec<String>>,
    /// Regions the account has not enabled (opt-in regions never opted in to): every request
    /// signed for one is refused as AWS refuses it there, `AuthFailure` (HTTP 401) from EC2,
    /// `UnrecognizedClientException` from the JSON services: the credentials are not known in
    /// that region.
    pub disabled_regions: HashSet<String>,
    /// Operations that a missing permission or an SCP denies: refused with
    /// `AccessDeniedException` (the JSON services) or `UnauthorizedOperation` (EC2), HTTP 400.
    pub denied_operations: HashSet<String>,
}

/// A VPC that its owner shares into a participant account (see [`AwsRules::shared_into`]).
#[derive(Debug, Clone)]
pub struct SharedVpc {
    pub vpc_id: String,
    pub owner: String,
    pub cidr_block: String,
}

impl SharedVpc {
    /// The VPC as `DescribeVpcs` shows it to a participant.
    fn item(&self) -> String {
        format!(
            "<item><vpcId>{}</vpcId><state>available</state><cidrBlock>{}</cidrBlock><ownerId>{}</ownerId><instanceTenancy>default</instanceTenancy><isDefault>false</isDefault></item>",
            self.vpc_id, self.cidr_block, self.owner
        )
    }
}

/// `CreateFlowLogs` requests in flight to moto: one at a time (see the module overview).
static CREATE_FLOW_LOGS: Mutex<()> = Mutex::new(());

/// AWS's limits, as the EC2 and CloudWatch Logs API models state them.
pub const MAX_CREATE_FLOW_LOG_IDS: usize = 300;
pub const MAX_DELETE_FLOW_LOG_IDS: usize = 1000;
pub const MAX_DESCRIBE_FLOW_LOG_IDS: usize = 1000;
pub const MAX_FILTER_VALUES: usize = 200;
pub const MAX_LOG_GROUP_IDENTIFIERS: usize = 50;

/// The proxy: listens on a free loopback port until dropped... or the test process ends.
#[derive(Debug, Clone)]
pub struct FaultProxy {
    pub url: String,
    pub schedule: Arc<Mutex<Schedule>>,
    pub rules: Arc<Mutex<Option<AwsRules>>>,
}

/// How long a `Fault::Delay` holds a request.
pub const DELAY: Duration = Duration::from_millis(400);

impl FaultProxy {
    pub fn start(upstream: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let schedule = Arc::new(Mutex::new(Schedule::none()));
        let rules: Arc<Mutex<Option<AwsRules>>> = Arc::new(Mutex::new(None));
        let upstream = upstream.trim_start_matches("http://").to_owned();
        let (shared, shared_rules) = (schedule.clone(), rules.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (schedule, rules, upstream) =
                    (shared.clone(), shared_rules.clone(), upstream.clone());
                std::thread::spawn(move || {
                    let _ = serve(stream, &upstream, &schedule, &rules);
                });
            }
        });
        Self {
            url,
            schedule,
            rules,
        }
    }

    /// A proxy that enforces [`AwsRules`] (and injects no fault until told).
    pub fn with_aws_rules(upstream: &str, rules: AwsRules) -> Self {
        let proxy = Self::start(upstream);
        *proxy.rules.lock().unwrap() = Some(rules);
        proxy
    }

    /// Changes the rules in force.
    pub fn update_rules(&self, change: impl FnOnce(&mut AwsRules)) {
        let mut rules = self.rules.lock().unwrap();
        change(rules.get_or_insert_with(AwsRules::default));
    }

    /// The requests refused so far by the AWS rules, as (operation, code).
    pub fn refused(&self) -> Vec<(String, String)> {
        self.rules
            .lock()
            .unwrap()
            .as_ref()
            .map(|r| r.refused.clone())
            .unwrap_or_default()
    }

    /// Replaces the schedule (the log starts empty).
    pub fn set(&self, schedule: Schedule) {
        *self.schedule.lock().unwrap() = schedule;
    }

    pub fn log(&self) -> Vec<(String, Fault)> {
        self.schedule.lock().unwrap().log.clone()
    }
}

struct Request {
    head: Vec<String>,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.iter().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then_some(v.trim())
        })
    }

    /// The API operation: EC2/IAM send `Action=…` in the form body, Logs an `X-Amz-Target`.
    fn operation(&self) -> String {
        if let Some(target) = self.header("x-amz-target") {
            return target.rsplit('.').next().unwrap_or(target).to_owned();
        }
        let body = String::from_utf8_lossy(&self.body);
        body.split('&')
            .find_map(|kv| kv.strip_prefix("Action="))
            .unwrap_or("Unknown")
            .to_owned()
    }

    /// The access key id that signed the request (SigV4 `Credential=KEY/...`).
    fn access_key(&self) -> Option<&str> {
        let credential = self.header("authorization")?.split("Credential=").nth(1)?;
        credential.split('/').next()
    }

    /// The region the request was signed for (SigV4 `Credential=KEY/DATE/REGION/...`).
    fn signing_region(&self) -> Option<&str> {
        let credential = self.header("authorization")?.split("Credential=").nth(1)?;
        credential.split('/').nth(2)
    }

    fn is_json(&self) -> bool {
        self.header("x-amz-target").is_some()
    }
}

fn read_request(reader: &mut BufReader<TcpStream>) -> std::io::Result<Option<Request>> {
    let mut head = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        let line = line.trim_end().to_owned();
        if line.is_empty() {
            break;
        }
        head.push(line);
    }
    let mut request = Request {
        head,
        body: Vec::new(),
    };
    let length: usize = request
        .header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    request.body = vec![0; length];
    reader.read_exact(&mut request.body)?;
    Ok(Some(request))
}

fn error_response(request: &Request, fault: Fault) -> Vec<u8> {
    let (status, code, message) = match (fault, request.is_json()) {
        (Fault::Throttle, true) => (400, "ThrottlingException", "Rate exceeded"),
        (Fault::Throttle, false) => (503, "RequestLimitExceeded", "Request limit exceeded."),
        (Fault::ServerError(500), true) => (500, "InternalFailure", "internal failure (injected)"),
        (Fault::ServerError(500), false) => (500, "InternalError", "internal error (injected)"),
        (_, true) => (503, "ServiceUnavailableException", "unavailable (injected)"),
        (_, false) => (503, "Unavailable", "unavailable (injected)"),
    };
    let (content_type, body) = if request.is_json() {
        (
            "application/x-amz-json-1.1",
            format!(r#"{{"__type":"{code}","message":"{message}"}}"#),
        )
    } else {
        (
            "text/xml",
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors><RequestID>injected</RequestID></Response>"
            ),
        )
    };
    format!(
        "HTTP/1.1 {status} Injected\r\nContent-Type: {content_type}\r\nx-amzn-ErrorType: {code}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn forward(request: &Request, upstream: &str) -> std::io::Result<Vec<u8>> {
    let mut moto = TcpStream::connect(upstream)?;
    let mut head = request.head.clone();
    head.retain(|l| !l.to_ascii_lowercase().starts_with("connection:"));
    head.push("Connection: close".to_owned());
    moto.write_all(format!("{}\r\n\r\n", head.join("\r\n")).as_bytes())?;
    moto.write_all(&request.body)?;
    let mut response = Vec::new();
    moto.read_to_end(&mut response)?;
    Ok(response)
}

/// One request per connection: the proxy always answers `Connection: close`.
fn serve(
    client: TcpStream,
    upstream: &str,
    schedule: &Mutex<Schedule>,
    rules: &Mutex<Option<AwsRules>>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(client.try_clone()?);
    let Some(request) = read_request(&mut reader)? else {
        return Ok(());
    };
    let fault = schedule.lock().unwrap().decide(&request.operation());
    let mut client = client;
    if matches!(fault, Fault::Pass | Fault::Delay) {
        let snapshot = rules.lock().unwrap().clone();
        if let Some(rules_now) = snapshot {
            if let Some((code, message)) = rules_now.refusal(&request) {
                if let Some(r) = rules.lock().unwrap().as_mut() {
                    r.refused.push((request.operation(), code.clone()));
                }
                return client.write_all(&refusal_response(&request, &code, &message));
            }
            if fault == Fault::Delay {
                std::thread::sleep(DELAY);
            }
            let one_at_a_time = (request.operation() == "CreateFlowLogs").then(|| {
                CREATE_FLOW_LOGS
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
            });
            let response = forward(&request, upstream)?;
            drop(one_at_a_time);
            return client.write_all(&rules_now.rewrite(&request, response));
        }
    }
    match fault {
        Fault::Reset => client.shutdown(Shutdown::Both),
        Fault::Throttle | Fault::ServerError(_) => {
            client.write_all(&error_response(&request, fault))
        }
        Fault::LoseResponse => {
            forward(&request, upstream)?;
            client.shutdown(Shutdown::Both)
        }
        Fault::Delay | Fault::Pass => {
            if fault == Fault::Delay {
                std::thread::sleep(DELAY);
            }
            let response = forward(&request, upstream)?;
            client.write_all(&response)
        }
    }
}

// ---- The AWS rules layer ----

impl Request {
    /// The form parameters of an EC2 query request, decoded.
    fn form(&self) -> Vec<(String, String)> {
        String::from_utf8_lossy(&self.body)
            .split('&')
            .filter_map(|kv| {
                let (k, v) = kv.split_once('=')?;
                Some((decode(k), decode(v)))
            })
            .collect()
    }

    fn json_body(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// A form value: `+` is a space, then `%XX` escapes.
fn decode(s: &str) -> String {
    crate::percent_decode(&s.replace('+', " "))
}

impl AwsRules {
    /// The (code, message) with which AWS would refuse this request, if it would.
    fn refusal(&self, request: &Request) -> Option<(String, String)> {
        let operation = request.operation();
        if request
            .signing_region()
            .is_some_and(|region| self.disabled_regions.contains(region))
        {
            return Some(if request.is_json() {
                (
                    "UnrecognizedClientException".into(),
                    "The security token included in the request is invalid.".into(),
                )
            } else {
                (
                    "AuthFailure".into(),
                    "AWS was not able to validate the provided access credentials".into(),
                )
            });
        }
        if self.denied_operations.contains(operation.as_str()) {
            let code = if request.is_json() {
                "AccessDeniedException"
            } else {
                "UnauthorizedOperation"
            };
            let message = format!("You are not authorized to perform {operation}");
            return Some((code.into(), message));
        }
        if request.is_json() {
            if operation != "DescribeLogGroups" {
                return None;
            }
            let body = request.json_body();
            let ids = body["logGroupIdentifiers"].as_array().map_or(0, Vec::len);
            if ids > MAX_LOG_GROUP_IDENTIFIERS {
                return Some((
                    "InvalidParameterException".into(),
                    format!(
                        "logGroupIdentifiers: at most {MAX_LOG_GROUP_IDENTIFIERS}, {ids} given"
                    ),
                ));
            }
            if ids == 0 {
                return Some((
                    "InvalidParameterException".into(),
                    "test rule: DescribeLogGroups must name its groups (logGroupIdentifiers); \
                     a listing pages through every group of a real region"
                        .into(),
                ));
            }
            return None;
        }
        let form = request.form();
        let count = |prefix: &str| form.iter().filter(|(k, _)| k.starts_with(prefix)).count();
        match operation.as_str() {
            "AssumeRole" => {
                let role = form.iter().find(|(k, _)| k == "RoleArn").map(|(_, v)| v)?;
                let account = role.split(':').nth(4)?;
                let external_id = form.iter().find(|(k, _)| k == "ExternalId").map(|(_, v)| v);
                let wrong_id = self
                    .external_id
                    .as_ref()
                    .is_some_and(|wanted| external_id != Some(wanted));
                if self.refused_roles.contains(account) || wrong_id {
                    return Some((
                        "AccessDenied".into(),
                        format!(
                            "User: arn:aws:iam::123456789012:user/moto is not authorized to perform: sts:AssumeRole on resource: {role}"
                        ),
                    ));
                }
            }
            "CreateFlowLogs" => {
                // EC2 takes a delivery role only for CloudWatch Logs (and cross-account
                // Firehose), and DestinationOptions only for S3; moto takes both anywhere.
                let value =
                    |key: &str| form.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
                let s3 = value("LogDestinationType") == Some("s3");
                if s3 && value("DeliverLogsPermissionArn").is_some() {
                    return Some((
                        "InvalidParameter".into(),
                        "DeliverLogsPermissionArn is not applicable for s3 delivery".into(),
                    ));
                }
                if !s3 && count("DestinationOptions.") > 0 {
                    return Some((
                        "InvalidParameter".into(),
                        "DestinationOptions is applicable only for s3 delivery".into(),
                    ));
                }
                let ids = count("ResourceId.");
                if ids > MAX_CREATE_FLOW_LOG_IDS {
                    return Some((
                        "InvalidParameterValue".into(),
                        format!(
                            "The maximum number of resource ids is {MAX_CREATE_FLOW_LOG_IDS} ({ids} given)"
                        ),
                    ));
                }
                let shared_in = self.shared_with(request);
                let shared = form.iter().find(|(k, v)| {
                    k.starts_with("ResourceId.")
                        && (self.shared_vpcs.contains_key(v)
                            || shared_in.iter().any(|s| s.vpc_id == *v))
                });
                if let Some((_, vpc)) = shared {
                    return Some((
                        "UnauthorizedOperation".into(),
                        format!(
                            "You are not authorized to perform this operation on {vpc}: it is owned by another account"
                        ),
                    ));
                }
            }
            "DeleteFlowLogs" => {
                let ids = count("FlowLogId.");
                if ids > MAX_DELETE_FLOW_LOG_IDS {
                    return Some((
                        "InvalidParameterValue".into(),
                        format!(
                            "The maximum number of flow log ids is {MAX_DELETE_FLOW_LOG_IDS} ({ids} given)"
                        ),
                    ));
                }
            }
            "DescribeVpcs" | "DescribeFlowLogs" => {
                let ids = count("FlowLogId.");
                if ids > MAX_DESCRIBE_FLOW_LOG_IDS {
                    return Some((
                        "InvalidParameterValue".into(),
                        format!(
                            "The maximum number of flow log ids is {MAX_DESCRIBE_FLOW_LOG_IDS} ({ids} given)"
                        ),
                    ));
                }
                let mut per_filter: HashMap<&str, usize> = HashMap::new();
                for (k, _) in &form {
                    // Filter.N.Value.M
                    let mut parts = k.split('.');
                    if let (Some("Filter"), Some(n), Some("Value")) =
                        (parts.next(), parts.next(), parts.next())
                    {
                        *per_filter.entry(n).or_default() += 1;
                    }
                }
                if let Some(n) = per_filter
                    .values()
                    .copied()
                    .find(|n| *n > MAX_FILTER_VALUES)
                {
                    return Some((
                        "FilterLimitExceeded".into(),
                        format!(
                            "The maximum number of filter values specified on a single call is {MAX_FILTER_VALUES} ({n} given)"
                        ),
                    ));
                }
            }
            _ => {}
        }
        None
    }

    /// The account that signed `request`, when its keys came from an `AssumeRole` seen here.
    fn account_of(&self, request: &Request) -> Option<String> {
        let key = request.access_key()?;
        self.keys.lock().unwrap().get(key).cloned()
    }

    /// The VPCs shared into the account that signed `request`.
    fn shared_with(&self, request: &Request) -> &[SharedVpc] {
        self.account_of(request)
            .and_then(|a| self.shared_into.get(&a))
            .map_or(&[], Vec::as_slice)
    }

    /// moto's answer, made into AWS's.
    fn rewrite(&self, request: &Request, response: Vec<u8>) -> Vec<u8> {
        let Some(split) = response.windows(4).position(|w| w == b"\r\n\r\n") else {
            return response;
        };
        let (head, body) = (&response[..split], &response[split + 4..]);
        let body = String::from_utf8_lossy(body).into_owned();
        let new_body = match request.operation().as_str() {
            "DescribeLogGroups" => {
                let wanted: Vec<String> = request.json_body()["logGroupIdentifiers"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|v| v.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default();
                let mut value: serde_json::Value =
                    serde_json::from_str(&body).unwrap_or(serde_json::Value::Null);
                if let Some(groups) = value["logGroups"].as_array_mut() {
                    groups.retain(|g| {
                        g["logGroupName"]
                            .as_str()
                            .is_some_and(|n| wanted.iter().any(|w| w == n))
                    });
                }
                value.to_string()
            }
            "AssumeRole" => {
                let form = request.form();
                let account = form
                    .iter()
                    .find(|(k, _)| k == "RoleArn")
                    .and_then(|(_, arn)| arn.split(':').nth(4));
                if let (Some(account), Some(key)) =
                    (account, between(&body, "<AccessKeyId>", "</AccessKeyId>"))
                {
                    self.keys
                        .lock()
                        .unwrap()
                        .insert(key.to_owned(), account.to_owned());
                }
                body
            }
            "DescribeRegions" if !self.regions_of.is_empty() => {
                let Some(enabled) = self
                    .account_of(request)
                    .and_then(|a| self.regions_of.get(&a))
                else {
                    return response;
                };
                rewrite_items(&body, "regionInfo", |item| {
                    let name = between(item, "<regionName>", "</regionName>")?;
                    (!enabled.iter().any(|r| r == name)).then(String::new)
                })
            }
            "DescribeVpcs" if !self.shared_with(request).is_empty() => {
                let form = request.form();
                let asked: Vec<&str> = form
                    .iter()
                    .filter(|(k, _)| k.starts_with("Filter.") && k.contains(".Value."))
                    .map(|(_, v)| v.as_str())
                    .collect();
                let items: String = self
                    .shared_with(request)
                    .iter()
                    .filter(|s| asked.is_empty() || asked.contains(&s.vpc_id.as_str()))
                    .map(SharedVpc::item)
                    .collect();
                if body.contains("<vpcSet/>") {
                    body.replacen("<vpcSet/>", &format!("<vpcSet>{items}</vpcSet>"), 1)
                } else {
                    body.replacen("</vpcSet>", &format!("{items}</vpcSet>"), 1)
                }
            }
            "DescribeVpcs" if !self.shared_vpcs.is_empty() => {
                rewrite_items(&body, "vpcSet", |item| {
                    let id = between(item, "<vpcId>", "</vpcId>")?;
                    let owner = self.shared_vpcs.get(id)?;
                    let old = between(item, "<ownerId>", "</ownerId>")?;
                    Some(item.replacen(
                        &format!("<ownerId>{old}</ownerId>"),
                        &format!("<ownerId>{owner}</ownerId>"),
                        1,
                    ))
                })
            }
            "DescribeFlowLogs"
                if !self.failing_flow_logs.is_empty() || !self.failing_vpcs.is_empty() =>
            {
                rewrite_items(&body, "flowLogSet", |item| {
                    let id = between(item, "<flowLogId>", "</flowLogId>")?;
                    let resource = between(item, "<resourceId>", "</resourceId>")?;
                    let (message, age) = match self.failing_flow_logs.get(id) {
                        Some((message, age)) => (message.clone(), Some(*age)),
                        None => (self.failing_vpcs.get(resource)?.clone(), None),
                    };
                    let mut item = item.to_owned();
                    if let Some(status) =
                        between(&item, "<deliverLogsStatus>", "</deliverLogsStatus>")
                    {
                        item = item.replacen(
                            &format!("<deliverLogsStatus>{status}</deliverLogsStatus>"),
                            &format!("<deliverLogsStatus>FAILED</deliverLogsStatus><deliverLogsErrorMessage>{message}</deliverLogsErrorMessage>"),
                            1,
                        );
                    }
                    if let (Some(age), Some(created)) = (
                        age,
                        between(&item, "<creationTime>", "</creationTime>").map(str::to_owned),
                    ) {
                        item = item.replacen(&created, &iso_seconds_ago(age), 1);
                    }
                    Some(item)
                })
            }
            _ => return response,
        };
        let head = String::from_utf8_lossy(head)
            .lines()
            .map(|l| {
                if l.to_ascii_lowercase().starts_with("content-length:") {
                    format!("Content-Length: {}", new_body.len())
                } else {
                    l.to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join("\r\n");
        format!("{head}\r\n\r\n{new_body}").into_bytes()
    }
}

fn between<'a>(text: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = text.find(open)? + open.len();
    let end = start + text[start..].find(close)?;
    Some(&text[start..end])
}

/// Rewrites each top-level `<item>` of `<set>`; nested items stay inside their parent.
fn rewrite_items(body: &str, set: &str, mut change: impl FnMut(&str) -> Option<String>) -> String {
    let (open, close) = (format!("<{set}>"), format!("</{set}>"));
    let (Some(start), Some(end)) = (body.find(&open), body.rfind(&close)) else {
        return body.to_owned();
    };
    let inner = &body[start + open.len()..end];
    let mut out = String::with_capacity(body.len() + 256);
    out.push_str(&body[..start + open.len()]);
    let (mut depth, mut item_start, mut i) = (0usize, 0usize, 0usize);
    while i < inner.len() {
        if inner[i..].starts_with("<item>") {
            if depth == 0 {
                item_start = i;
            }
            depth += 1;
            i += "<item>".len();
        } else if inner[i..].starts_with("</item>") {
            depth = depth.saturating_sub(1);
            i += "</item>".len();
            if depth == 0 {
                let item = &inner[item_start..i];
                out.push_str(&change(item).unwrap_or_else(|| item.to_owned()));
            }
        } else {
            if depth == 0 {
                out.push_str(&inner[i..i + 1]);
            }
            i += 1;
        }
    }
    out.push_str(&body[end..]);
    out
}

/// `now - seconds` as EC2 writes times: `2026-11-30T22:47:01.000Z`.
fn iso_seconds_ago(seconds: u64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let t = i64::try_from(now.saturating_sub(seconds)).unwrap_or_default();
    crate::rfc3339(t).replace('Z', ".000Z")
}

fn refusal_response(request: &Request, code: &str, message: &str) -> Vec<u8> {
    if request.operation() == "AssumeRole" {
        // STS speaks the awsQuery protocol: its errors are wrapped as `ErrorResponse`.
        let body = format!(
            "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>aws-rules</RequestId></ErrorResponse>"
        );
        return format!(
            "HTTP/1.1 403 Forbidden\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes();
    }
    let (content_type, body) = if request.is_json() {
        (
            "application/x-amz-json-1.1",
            serde_json::json!({"__type": code, "message": message}).to_string(),
        )
    } else {
        (
            "text/xml",
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Errors><Error><Code>{code}</Code><Message>{message}</Message></Error></Errors><RequestID>aws-rules</RequestID></Response>"
            ),
        )
    };
    let status = if code == "AuthFailure" {
        "401 Unauthorized"
    } else {
        "400 Bad Request"
    };
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nx-amzn-ErrorType: {code}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_written_as_ec2_writes_them() {
        let t = iso_seconds_ago(0);
        assert_eq!(t.len(), "2026-11-30T22:47:01.000Z".len(), "{t}");
        assert!(t.ends_with(".000Z") && t.starts_with("20"), "{t}");
    }

    #[test]
    fn only_top_level_items_are_rewritten() {
        let body = "<r><vpcSet><item><ownerId>1</ownerId><x><item>n</item></x><vpcId>vpc-a</vpcId></item><item><ownerId>1</ownerId><vpcId>vpc-b</vpcId></item></vpcSet></r>";
        let out = rewrite_items(body, "vpcSet", |item| {
            (between(item, "<vpcId>", "</vpcId>") == Some("vpc-b"))
                .then(|| item.replace("<ownerId>1</ownerId>", "<ownerId>2</ownerId>"))
        });
        assert_eq!(
            out,
            "<r><vpcSet><item><ownerId>1</ownerId><x><item>n</item></x><vpcId>vpc-a</vpcId></item><item><ownerId>2</ownerId><vpcId>vpc-b</vpcId></item></vpcSet></r>"
        );
    }
}
