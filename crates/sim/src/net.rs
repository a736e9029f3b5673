//! The simulated network: every AWS call of the simulation goes through [`Net::call`], which
//! takes the call's latency on tokio's clock (paused: simulated time), answers throttling at
//! AWS's request rates and at a background share, and retries as the SDK's standard strategy
//! does (attempts, full-jitter backoff, attempt and operation timeouts, the retry quota of the
//! call's partition). It counts what happened, by API.
//!
//! Randomness comes from a [`Link`]: one per run (an account×region) or per hub operation,
//! seeded from the scenario's seed and what it stands for, so that a run's draws do not depend
//! on how the runtime interleaves the runs.

use crate::model::{Api, Latency, Limit, Retry, Service, aws_latency, documented_limit, quota};
use flowguard_core::{AwsError, Fault};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;
use tokio::time::{Instant, sleep};

/// How the simulated AWS behaves.
#[derive(Debug, Clone)]
pub struct Profile {
    /// Latency by operation; those absent take [`aws_latency`].
    pub latency: BTreeMap<Api, Latency>,
    /// Every latency multiplied by this (the curve's latency axis).
    pub latency_scale: f64,
    /// Whether AWS's request rates ([`documented_limit`]) throttle.
    pub limits: bool,
    /// The share of attempts answered with throttling whatever the rate (other callers in the
    /// same accounts, AWS's own bad minutes).
    pub throttle_share: f64,
    /// The retry settings of the member, STS and (CLI) caller clients.
    pub retry: Retry,
    /// The retry settings of the Organizations client.
    pub organizations_retry: Retry,
}

impl Profile {
    fn latency_of(&self, api: Api) -> Latency {
        let latency = self
            .latency
            .get(&api)
            .copied()
            .unwrap_or_else(|| aws_latency(api));
        latency.scaled(self.latency_scale)
    }

    fn retry_of(&self, api: Api) -> Retry {
        match api.service() {
            Service::Organizations => self.organizations_retry,
            _ => self.retry,
        }
    }
}

/// What happened to the calls of one operation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ApiCount {
    /// Requests sent (attempts: a retried call counts each attempt, as a proxy would).
    pub calls: u64,
    /// Attempts answered with throttling.
    pub throttled: u64,
    /// Attempts cut by the attempt or the operation timeout.
    pub timed_out: u64,
    /// Attempts after the first.
    pub retries: u64,
    /// Operations that failed after their retries (or with the retry quota spent).
    pub failed: u64,
}

/// What the network saw, over one sweep.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NetFigures {
    pub by_api: BTreeMap<String, ApiCount>,
    pub calls: u64,
    pub throttled: u64,
    pub timed_out: u64,
    pub retries: u64,
    pub failed: u64,
    /// Retries refused because the partition's retry quota was spent.
    pub quota_refusals: u64,
    /// The most attempts in flight at once, over every account.
    pub peak_calls_in_flight: u64,
}

/// A token bucket, as AWS throttles with: full at first use.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    /// Takes a token if there is one.
    fn take(slot: &mut Option<Bucket>, limit: Limit, now: Instant) -> bool {
        let bucket = slot.get_or_insert(Bucket {
            tokens: limit.burst,
            at: now,
        });
        let refill = now.saturating_duration_since(bucket.at).as_secs_f64() * limit.per_second;
        bucket.tokens = (bucket.tokens + refill).min(limit.burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// The state on one side of the wire: rate buckets by operation, retry quotas by partition.
#[derive(Debug, Default)]
struct Side {
    buckets: BTreeMap<Api, Option<Bucket>>,
    quotas: BTreeMap<Service, u32>,
}

impl Side {
    fn quota(&mut self, service: Service) -> &mut u32 {
        self.quotas.entry(service).or_insert(quota::CAPACITY)
    }
}

/// A source of draws and a member's own side (its account×region's rates, its partitions).
#[derive(Debug)]
pub struct Link {
    rng: Mutex<Xoshiro256PlusPlus>,
    side: Mutex<Side>,
}

/// Mixes `parts` into one seed (SplitMix64's finaliser over each part in turn).
pub fn seed_of(parts: &[u64]) -> u64 {
    let mut h: u64 = 0x9E37_79B9_7F4A_7C15;
    for part in parts {
        h ^= part.wrapping_add(0x9E37_79B9_7F4A_7C15);
        h = (h ^ (h >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        h = (h ^ (h >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        h ^= h >> 31;
    }
    h
}

impl Link {
    pub fn new(seed: u64) -> Self {
        Self {
            rng: Mutex::new(Xoshiro256PlusPlus::seed_from_u64(seed)),
            side: Mutex::new(Side::default()),
        }
    }

    /// One attempt's draws: a standard normal (Box–Muller), and two uniforms in [0, 1).
    fn draws(&self) -> (f64, f64, f64) {
        let mut rng = lock(&self.rng);
        let (u1, u2): (f64, f64) = (rng.random(), rng.random());
        let z = (-2.0 * (1.0 - u1).ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
        (z, rng.random(), rng.random())
    }
}

/// The simulated AWS and its counters.
#[derive(Debug)]
pub struct Net {
    profile: Profile,
    hub: Mutex<Side>,
    counts: Mutex<Counts>,
}

#[derive(Debug, Default)]
struct Counts {
    by_api: BTreeMap<Api, ApiCount>,
    in_flight: u64,
    peak: u64,
    quota_refusals: u64,
}

/// Why an attempt failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failure {
    Throttled,
    TimedOut,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Net {
    pub fn new(profile: Profile) -> Self {
        Self {
            profile,
            hub: Mutex::new(Side::default()),
            counts: Mutex::new(Counts::default()),
        }
    }

    /// One operation: its attempts, with the SDK's retries, until it succeeds or gives up.
    pub async fn call(&self, api: Api, link: &Link) -> Result<(), AwsError> {
        let retry = self.profile.retry_of(api);
        let latency = self.profile.latency_of(api);
        let op_end = Instant::now() + retry.operation_timeout;
        let mut held = 0;
        let mut attempt: u32 = 1;
        loop {
            let (z, u_throttle, u_jitter) = link.draws();
            let took = latency.at(z);
            let now = Instant::now();
            let limited = self.profile.limits && !self.take_token(api, link, now);
            let throttled = limited || u_throttle < self.profile.throttle_share;
            let spent = took.min(retry.attempt_timeout);
            let remaining = op_end.saturating_duration_since(now);
            self.begin(api, attempt);
            if spent >= remaining {
                sleep(remaining).await;
                self.end(api, Some(Failure::TimedOut), true);
                return Err(error(api, Failure::TimedOut));
            }
            sleep(spent).await;
            let failure = if took > retry.attempt_timeout {
                Some(Failure::TimedOut)
            } else if throttled {
                Some(Failure::Throttled)
            } else {
                None
            };
            let Some(failure) = failure else {
                self.end(api, None, false);
                self.settle(api, link, held);
                return Ok(());
            };
            let last = attempt >= retry.attempts;
            let cost = match failure {
                Failure::Throttled => quota::THROTTLING_COST,
                Failure::TimedOut => quota::TIMEOUT_COST,
            };
            if last || !self.acquire(api, link, cost) {
                self.end(api, Some(failure), true);
                return Err(error(api, failure));
            }
            self.end(api, Some(failure), false);
            held = cost;
            let factor = 2f64.powi(i32::try_from(attempt - 1).unwrap_or(i32::MAX));
            let ceiling = retry.initial_backoff.mul_f64(factor).min(retry.max_backoff);
            let backoff = ceiling.mul_f64(u_jitter);
            let remaining = op_end.saturating_duration_since(Instant::now());
            if backoff >= remaining {
                sleep(remaining).await;
                self.fail(api);
                return Err(error(api, Failure::TimedOut));
            }
            sleep(backoff).await;
            attempt += 1;
        }
    }

    /// Takes a token of `api`'s rate bucket: the hub's for STS and Organizations, the member
    /// account×region's otherwise. `false`: throttled.
    fn take_token(&self, api: Api, link: &Link, now: Instant) -> bool {
        let limit = documented_limit(api);
        let take = |side: &mut Side| Bucket::take(side.buckets.entry(api).or_default(), limit, now);
        if api.on_hub() {
            take(&mut lock(&self.hub))
        } else {
            take(&mut lock(&link.side))
        }
    }

    /// The side whose retry partition `api` draws on: the hub's for STS, Organizations,
    /// Security Hub and Config (one partition per service for the whole process), the member's
    /// own for EC2 and CloudWatch Logs (`Clients::in_account`).
    fn with_quota<R>(&self, api: Api, link: &Link, f: impl FnOnce(&mut u32) -> R) -> R {
        let service = api.service();
        match service {
            Service::Ec2 | Service::Logs => f(lock(&link.side).quota(service)),
            _ => f(lock(&self.hub).quota(service)),
        }
    }

    fn acquire(&self, api: Api, link: &Link, cost: u32) -> bool {
        let granted = self.with_quota(api, link, |tokens| {
            let granted = *tokens >= cost;
            if granted {
                *tokens -= cost;
            }
            granted
        });
        if !granted {
            lock(&self.counts).quota_refusals += 1;
        }
        granted
    }

    /// A success: the retry's permit back, or a token for a first attempt.
    fn settle(&self, api: Api, link: &Link, held: u32) {
        let give = if held > 0 {
            held
        } else {
            quota::SUCCESS_REWARD
        };
        self.with_quota(api, link, |tokens| {
            *tokens = (*tokens + give).min(quota::CAPACITY);
        });
    }

    fn begin(&self, api: Api, attempt: u32) {
        let mut counts = lock(&self.counts);
        let count = counts.by_api.entry(api).or_default();
        count.calls += 1;
        if attempt > 1 {
            count.retries += 1;
        }
        counts.in_flight += 1;
        counts.peak = counts.peak.max(counts.in_flight);
    }

    fn end(&self, api: Api, failure: Option<Failure>, failed: bool) {
        let mut counts = lock(&self.counts);
        counts.in_flight = counts.in_flight.saturating_sub(1);
        let count = counts.by_api.entry(api).or_default();
        match failure {
            Some(Failure::Throttled) => count.throttled += 1,
            Some(Failure::TimedOut) => count.timed_out += 1,
            None => {}
        }
        if failed {
            count.failed += 1;
        }
    }

    fn fail(&self, api: Api) {
        lock(&self.counts).by_api.entry(api).or_default().failed += 1;
    }

    /// A cold start: a new process, whose SDK clients start with full retry quotas. AWS's rate
    /// buckets are AWS's and stay (an hour between sweeps refills them anyway).
    pub fn restart(&self) {
        lock(&self.hub).quotas.clear();
    }

    /// The figures since the last call, and the counters set back to zero (the rate buckets
    /// and retry quotas stay: they are the process's and AWS's, not a sweep's).
    pub fn take_figures(&self) -> NetFigures {
        let mut counts = lock(&self.counts);
        let by_api = std::mem::take(&mut counts.by_api);
        let mut figures = NetFigures {
            peak_calls_in_flight: std::mem::take(&mut counts.peak),
            quota_refusals: std::mem::take(&mut counts.quota_refusals),
            ..NetFigures::default()
        };
        for (api, count) in by_api {
            figures.calls += count.calls;
            figures.throttled += count.throttled;
            figures.timed_out += count.timed_out;
            figures.retries += count.retries;
            figures.failed += count.failed;
            figures.by_api.insert(api.name(), count);
        }
        figures
    }
}

/// The error an exhausted call returns, as the adapters would report it.
fn error(api: Api, failure: Failure) -> AwsError {
    match failure {
        Failure::Throttled => AwsError {
            operation: api.operation(),
            code: Some(api.throttle_code().to_owned()),
            message: "Rate exceeded (simulated)".to_owned(),
            status: Some(if api.service() == Service::Ec2 {
                503
            } else {
                400
            }),
            fault: Fault::Service,
        },
        Failure::TimedOut => AwsError {
            operation: api.operation(),
            code: None,
            message: "no answer in time (simulated)".to_owned(),
            status: None,
            fault: Fault::Timeout,
        },
    }
}

/// `d` in seconds, rounded to the millisecond, for the figures.
pub fn secs(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0).round() / 1000.0
}
