//! The builders that the tests of every crate share: the place of the tests, fixture events,
//! envelopes, configuration lookups, an S3 policy, a VPC's line of a report, and sets of ids.

use crate::ids::Place;
use crate::report::{Report, VpcReport};
use std::collections::BTreeSet;

/// The account of [`place`] (moto's default account, in the end-to-end suite).
pub const ACCOUNT: &str = "123456789012";
/// The region of [`place`].
pub const REGION: &str = "us-east-1";

/// The place of the tests: [`REGION`] of [`ACCOUNT`].
pub fn place() -> Place {
    Place {
        region: REGION.into(),
        account: ACCOUNT.into(),
    }
}

/// The bytes of the fixture event `name` (a path under the workspace's
/// `tests/fixtures/events/`), as the Lambda receives them.
#[allow(clippy::panic)]
pub fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../../tests/fixtures/events/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// An EventBridge envelope around `detail`, as EventBridge delivers it, in [`place`].
pub fn event(source: &str, detail_type: &str, detail: serde_json::Value) -> serde_json::Value {
    serde_json::json!({
        "version": "0",
        "id": "11111111-2222-3333-4444-555555555555",
        "detail-type": detail_type,
        "source": source,
        "account": ACCOUNT,
        "time": "2024-10-08T09:08:34Z",
        "region": REGION,
        "resources": [],
        "detail": detail,
    })
}

/// The configuration `vars` (name, value) as a lookup, the argument of
/// [`Policy::from_lookup`](crate::Policy::from_lookup) and
/// [`OrgConfig::from_lookup`](crate::organization::OrgConfig::from_lookup).
pub fn variables<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
    |name| {
        vars.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| (*v).to_owned())
    }
}

/// The policy with an S3 destination and every S3 option set: `destination`, the record
/// format `log_format`, Parquet files, Hive-compatible prefixes and hourly partitions.
#[allow(clippy::panic)]
pub fn s3_policy(destination: &str, log_format: &str) -> crate::Policy {
    let vars = [
        ("FLOWGUARD_DESTINATION", destination),
        ("FLOWGUARD_LOG_FORMAT", log_format),
        ("FLOWGUARD_S3_FILE_FORMAT", "parquet"),
        ("FLOWGUARD_S3_HIVE_PARTITIONS", "true"),
        ("FLOWGUARD_S3_PER_HOUR_PARTITION", "true"),
    ];
    crate::Policy::from_lookup(variables(&vars)).unwrap_or_else(|e| panic!("{e}"))
}

/// The line of the VPC `vpc` in `report`.
#[track_caller]
#[allow(clippy::panic)]
pub fn vpc_line<'a>(report: &'a Report, vpc: &str) -> &'a VpcReport {
    report
        .vpcs
        .iter()
        .find(|v| v.vpc_id.as_str() == vpc)
        .unwrap_or_else(|| panic!("no {vpc} in {report}"))
}

/// The set of `ids`, owned.
pub fn set<S: AsRef<str>>(ids: &[S]) -> BTreeSet<String> {
    ids.iter().map(|id| id.as_ref().to_owned()).collect()
}

/// A report at `place` of a sweep in `mode` whose VPCs (`vpc-0`, `vpc-1`, … in that order) ended
/// with `statuses`.
pub fn report_of(place: &Place, mode: crate::Mode, statuses: &[crate::VpcStatus]) -> Report {
    let vpcs = statuses
        .iter()
        .enumerate()
        .map(|(i, status)| VpcReport {
            vpc_id: crate::VpcId::new(format!("vpc-{i}")),
            name: None,
            status: *status,
            reason: String::new(),
            checks: crate::rule::Checks::default(),
            owner_id: None,
        })
        .collect();
    let trigger = crate::report::TriggerReport::from(&crate::Trigger::manual_sweep("test"));
    Report::builder(mode, place, trigger).vpcs(vpcs).build()
}
