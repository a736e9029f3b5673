//! The simulated organization: its accounts and regions, and each account×region's state as
//! bench/org_bench.py seeds moto. The state of a place is made when a run asks for it and
//! dropped when the run ends, so the simulation's own memory does not grow with the accounts
//! it has swept (the process's peak RSS is the engine's, not the fake's); every sweep starts
//! from the seeded state (a first sweep's work in every account, the most).

use flowguard_core::fake::State;
use flowguard_core::observed::{Destination, FlowLog, LogGroup, Retention, Vpc};
use flowguard_core::{FlowLogId, LogGroupName, TrafficType, VpcId};
use std::collections::BTreeMap;

/// The group that flowguard's policy uses (its default) and the seed's flow logs deliver to.
pub const GROUP: &str = "/vpc/flow-logs";
/// The group of the seed's ACCEPT-only flow logs.
pub const ACCEPT_GROUP: &str = "/legacy/vpc-accept";
/// The member role's delivery role, as bench/org_bench.py creates it in each member.
pub const DELIVERY_ROLE: &str = "flowguard-delivery";
/// The first member's account id; the others follow (ids sort in the accounts' order).
const FIRST_ACCOUNT: u64 = 100_000_000_000;
/// `SLOT_STRIDE` of bench/org_bench.py: coprime with 20, so that every 20 consecutive VPCs hold
/// each slot once.
const SLOT_STRIDE: usize = 7;

/// What a seeded VPC has: bench/org_bench.py's `slot_kind`: 25% an ACTIVE REJECT flow log, 5%
/// ALL (both into [`GROUP`]), 5% ACCEPT only (into [`ACCEPT_GROUP`]), 65% none.
pub fn slot_kind(index: usize) -> Option<TrafficType> {
    match (index * SLOT_STRIDE) % 20 {
        0..=4 => Some(TrafficType::Reject),
        5 => Some(TrafficType::All),
        6 => Some(TrafficType::Accept),
        _ => None,
    }
}

/// An organization of `accounts` members, each with `vpcs` VPCs in each of `regions`.
#[derive(Debug, Clone)]
pub struct Organization {
    pub accounts: usize,
    pub regions: Vec<String>,
    pub vpcs: usize,
}

impl Organization {
    /// The id of the `index`-th member (from 0).
    pub fn account_id(index: usize) -> String {
        format!("{:012}", FIRST_ACCOUNT + index as u64)
    }

    /// The index of a member's id; `None` for an id that is not one.
    pub fn index_of(&self, account: &str) -> Option<usize> {
        let n: u64 = account.parse().ok()?;
        let index = usize::try_from(n.checked_sub(FIRST_ACCOUNT)?).ok()?;
        (index < self.accounts).then_some(index)
    }

    /// Every member's id, in order.
    pub fn ids(&self) -> Vec<String> {
        (0..self.accounts).map(Self::account_id).collect()
    }

    /// The VPCs that the seed leaves without a flow log capturing rejected traffic.
    pub fn non_compliant(&self) -> usize {
        let all = self.accounts * self.regions.len() * self.vpcs;
        (0..all)
            .filter(|i| !matches!(slot_kind(*i), Some(TrafficType::Reject | TrafficType::All)))
            .count()
    }

    /// The seeded state of the `account`-th member in the `region`-th region.
    pub fn state(&self, account: usize, region: usize) -> State {
        let id = Self::account_id(account);
        let role = format!("arn:aws:iam::{id}:role/{DELIVERY_ROLE}");
        let groups = [GROUP, ACCEPT_GROUP].map(|name| {
            let name = LogGroupName::new(name);
            let group = LogGroup {
                name: name.clone(),
                retention: Retention::Days(365),
            };
            (name, group)
        });
        let mut state = State {
            vpcs: Vec::with_capacity(self.vpcs),
            flow_logs: Vec::new(),
            log_groups: BTreeMap::from(groups),
        };
        let first = (account * self.regions.len() + region) * self.vpcs;
        for v in 0..self.vpcs {
            let vpc = VpcId::new(format!("vpc-{:08x}{:09x}", account, region * 1000 + v));
            if let Some(kind) = slot_kind(first + v) {
                let group = if kind == TrafficType::Accept {
                    ACCEPT_GROUP
                } else {
                    GROUP
                };
                state.flow_logs.push(FlowLog {
                    id: FlowLogId::new(format!("fl-{:08x}{:09x}", account, region * 1000 + v)),
                    resource_id: vpc.as_str().to_owned(),
                    status: "ACTIVE".to_owned(),
                    traffic_type: Some(kind),
                    deliver_status: Some("SUCCESS".to_owned()),
                    deliver_error: None,
                    destination: Destination::CloudWatchLogs(LogGroupName::new(group)),
                    delivery_role_arn: Some(role.clone()),
                    max_aggregation_interval: Some(600),
                    created_at: None,
                    log_format: None,
                    s3_options: None,
                    tags: BTreeMap::new(),
                });
            }
            state.vpcs.push(Vpc {
                id: vpc,
                owner_id: Some(id.clone()),
                tags: BTreeMap::new(),
            });
        }
        state
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seed_is_the_benchmarks_mix() {
        let org = Organization {
            accounts: 100,
            regions: vec!["a".into(), "b".into(), "c".into()],
            vpcs: 5,
        };
        // bench/results/org.json at 100 × 3: 1500 VPCs, 1050 non-compliant.
        assert_eq!(org.non_compliant(), 1050);
        let logs: usize = (0..100)
            .flat_map(|a| (0..3).map(move |r| (a, r)))
            .map(|(a, r)| org.state(a, r).flow_logs.len())
            .sum();
        assert_eq!(logs, 375 + 75 + 75);
        assert_eq!(org.index_of(&Organization::account_id(42)), Some(42));
        assert_eq!(org.index_of("999999999999"), None);
    }
}
