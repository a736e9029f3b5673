//! [`Reconciler`]: one region's clients with the engine, for the CLI's sweeps and for
//! callers that want a report for one VPC or one log group.

use crate::config::Clients;
use crate::inventory::AwsInventory;
use crate::remediator::AwsRemediator;
pub use flowguard_core::handler::unix_now;
use flowguard_core::reconcile::{self, Mode, ReconcileError, Run};
use flowguard_core::trigger::{Target, Trigger};
use flowguard_core::{LogGroupName, Place, Policy, Report, VpcId};

/// The engine bound to one region's clients.
#[derive(Debug, Clone)]
pub struct Reconciler {
    inventory: AwsInventory,
    remediator: AwsRemediator,
    place: Place,
}

impl Reconciler {
    pub fn new(clients: Clients, place: Place) -> Self {
        Self {
            inventory: AwsInventory::new(clients.clone()),
            remediator: AwsRemediator::new(clients),
            place,
        }
    }

    /// Runs one trigger in `mode`.
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
        let run = Run {
            policy,
            place: self.place.clone(),
            trigger,
            now: unix_now(),
            run_id,
            deadline: None,
        };
        reconcile::reconcile(&self.inventory, &self.remediator, &run, mode).await
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
