//! Builders shared by the engine's tests, with those that `flowguard_core::fake` shares with
//! the other crates' tests.
#![allow(dead_code)]

pub use flowguard_core::fake::{ACCOUNT, event, fixture, place, set, variables, vpc_line};
use flowguard_core::fake::{State, vpc};
use flowguard_core::observed::{Destination, FlowLog, LogGroup, Observed, Retention};
use flowguard_core::policy::{Policy, TrafficType};
use flowguard_core::reconcile::Run;
use flowguard_core::trigger::Trigger;
use flowguard_core::{FlowLogId, LogGroupName};

pub const MANAGED: &str = "/vpc/flow-logs";
/// The delivery role of [`policy`].
pub const ROLE: &str = "arn:aws:iam::123456789012:role/flow-logs";

/// The policy of the tests: the defaults, with a delivery role.
pub fn policy() -> Policy {
    Policy {
        delivery_role_arn: Some(ROLE.into()),
        ..Policy::default()
    }
}

/// A run of `policy` for `trigger` in [`place`], as if the time were 10 000 (Unix seconds).
pub fn run<'a>(policy: &'a Policy, trigger: &'a Trigger) -> Run<'a> {
    Run {
        policy,
        place: place(),
        trigger,
        now: Some(10_000),
        run_id: "run-1".into(),
        deadline: None,
    }
}

pub fn flow_log(id: &str, vpc: &str, traffic: TrafficType, group: &str) -> FlowLog {
    FlowLog {
        id: FlowLogId::new(id),
        resource_id: vpc.to_owned(),
        status: "ACTIVE".into(),
        traffic_type: Some(traffic),
        deliver_status: Some("SUCCESS".into()),
        deliver_error: None,
        destination: Destination::CloudWatchLogs(LogGroupName::new(group)),
        delivery_role_arn: None,
        max_aggregation_interval: None,
        created_at: None,
        log_format: None,
        s3_options: None,
        tags: Default::default(),
    }
}

pub fn ours(mut fl: FlowLog) -> FlowLog {
    fl.tags.insert("managed-by".into(), "flowguard".into());
    fl
}

/// `fl`, failing delivery with `error` since `created_at` (Unix seconds).
pub fn failing(mut fl: FlowLog, error: &str, created_at: i64) -> FlowLog {
    fl.deliver_status = Some("FAILED".into());
    fl.deliver_error = Some(error.into());
    fl.created_at = Some(created_at);
    fl
}

pub fn group(name: &str, retention: Retention) -> (LogGroupName, LogGroup) {
    (
        LogGroupName::new(name),
        LogGroup {
            name: LogGroupName::new(name),
            retention,
        },
    )
}

pub fn state(vpcs: &[&str], flow_logs: Vec<FlowLog>, groups: &[(&str, Retention)]) -> State {
    State {
        vpcs: vpcs.iter().map(|id| vpc(id, &[])).collect(),
        flow_logs,
        log_groups: groups.iter().map(|(n, r)| group(n, *r)).collect(),
    }
}

pub fn observed(state: &State) -> Observed {
    let mut o = Observed::new(place());
    o.vpcs = state.vpcs.clone();
    o.flow_logs = state.flow_logs.clone();
    o.log_groups = state.log_groups.clone();
    o
}

/// Asserts that `text` contains `needle`, naming the table `case` that failed.
#[track_caller]
pub fn assert_contains(case: &str, text: &str, needle: &str) {
    assert!(text.contains(needle), "{case}: {text:?} lacks {needle:?}");
}

/// Asserts that `text` says each of `needles`.
#[track_caller]
pub fn assert_says(text: &str, needles: &[&str]) {
    for needle in needles {
        assert!(text.contains(needle), "{needle:?} is not in: {text}");
    }
}
