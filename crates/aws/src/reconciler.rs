//! [`Reconciler`]: the entry points that the Lambda and the CLI share. One per region: it
//! holds that region's clients and runs the engine over them.

use crate::config::Clients;
use crate::inventory::AwsInventory;
use crate::remediator::AwsRemediator;
use flowguard_core::reconcile::{self, ReconcileError, Run};
use flowguard_core::trigger::{Target, Trigger};
use flowguard_core::{LogGroupName, Place, Policy, Report, VpcId};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How a run may act.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Report compliance; no permission checks, no changes.
    Audit,
    /// Plan, check `CreateFlowLogs` with `DryRun=true`, change nothing.
    DryRun,
    /// Plan and apply.
    Enforce,
}

/// Waits before re-reading a VPC that a fresh CreateVpc event named but EC2 does not show yet.
const NOT_YET_VISIBLE_BACKOFF: [Duration; 3] = [
    Duration::from_millis(500),
    Duration::from_secs(1),
    Duration::from_secs(2),
];

/// The engine bound to one region's clients.
#[derive(Debug, Clone)]
pub struct Reconciler {
    inventory: AwsInventory,
    remediator: AwsRemediator,
    place: Place,
}

fn unix_now() -> Option<i64> {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .ok()
        .and_then(|d| i64::try_from(d.as_secs()).ok())
}

impl Reconciler {
    pub fn new(clients: Clients, place: Place) -> Self {
        Self {
            inventory: AwsInventory::new(clients.clone()),
            remediator: AwsRemediator::new(clients),
            place,
        }
    }

    /// The region and account this reconciler acts in.
    pub fn place(&self) -> &Place {
        &self.place
    }

    /// The read-side port (for callers that only audit).
    pub fn inventory(&self) -> &AwsInventory {
        &self.inventory
    }

    /// Runs one trigger. A VPC that a fresh CreateVpc event names but EC2 does not show yet
    /// is re-read a few times (3.5 s in all) before the run gives up with a retryable error.
    pub async fn run(
        &self,
        policy: &Policy,
        trigger: &Trigger,
        mode: Mode,
    ) -> Result<Report, ReconcileError> {
        let run_id = format!(
            "{}-{}",
            trigger.event_id.as_deref().unwrap_or("manual"),
            unix_now().unwrap_or_default()
        );
        let mut waits = NOT_YET_VISIBLE_BACKOFF.iter();
        loop {
            let run = Run {
                policy,
                place: self.place.clone(),
                trigger,
                now: unix_now(),
                run_id: run_id.clone(),
            };
            let result = match mode {
                Mode::Audit => reconcile::audit(&self.inventory, &run).await,
                Mode::DryRun => reconcile::dry_run(&self.inventory, &run).await,
                Mode::Enforce => reconcile::enforce(&self.inventory, &self.remediator, &run).await,
            };
            match (result, waits.next()) {
                (Err(ReconcileError::NotYetVisible(_)), Some(wait)) => {
                    tokio::time::sleep(*wait).await
                }
                (result, _) => return result,
            }
        }
    }

    /// Sweeps the region.
    pub async fn sweep(
        &self,
        policy: &Policy,
        mode: Mode,
        reason: &str,
    ) -> Result<Report, ReconcileError> {
        self.run(policy, &Trigger::manual_sweep(reason), mode).await
    }

    /// Reconciles one VPC.
    pub async fn vpc(
        &self,
        policy: &Policy,
        vpc: VpcId,
        mode: Mode,
    ) -> Result<Report, ReconcileError> {
        let trigger = Trigger {
            target: Target::Vpcs(vec![vpc]),
            ..Trigger::manual_sweep("reconcile one VPC")
        };
        self.run(policy, &trigger, mode).await
    }

    /// Reconciles a log group and the VPCs that deliver to it.
    pub async fn log_group(
        &self,
        policy: &Policy,
        name: LogGroupName,
        mode: Mode,
    ) -> Result<Report, ReconcileError> {
        let trigger = Trigger {
            target: Target::LogGroup(name),
            ..Trigger::manual_sweep("reconcile one log group")
        };
        self.run(policy, &trigger, mode).await
    }
}
