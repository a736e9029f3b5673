//! [`Reconciler`]: one region's clients with the engine, for the CLI's sweeps and for
//! callers that want a report for one VPC.

use crate::config::Clients;
use crate::inventory::AwsInventory;
use crate::remediator::AwsRemediator;
use flowguard_core::organization::partition_of;
pub use flowguard_core::reconcile::unix_now;
use flowguard_core::reconcile::{self, Mode, ReconcileError, Run};
use flowguard_core::trigger::{Target, Trigger};
use flowguard_core::{Place, Policy, Report, VpcId};

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
        let policy = policy.in_account(&self.place.account, partition_of(&self.place.region));
        let run = Run::starting_now(&policy, self.place.clone(), trigger, None);
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
}
