//! [`Reconciler`]: one place's clients with the engine, as the suites drive it. Every run is
//! the one run of one place, [`flowguard_core::sweep::run_in_place`], over
//! [`flowguard_aws::AwsPlaces`] with these clients (moto's, or a proxy's in front of it).

use flowguard_aws::{AwsPlaces, Clients, Mode};
use flowguard_core::handler::Setup;
use flowguard_core::sweep::run_in_place;
use flowguard_core::trigger::{Target, Trigger};
use flowguard_core::{Place, Policy, ReconcileError, Report, VpcId};
use std::sync::Arc;

/// The engine bound to one place's clients; clones share them.
#[derive(Debug, Clone)]
pub struct Reconciler {
    places: Arc<AwsPlaces>,
    place: Place,
}

impl Reconciler {
    pub fn new(clients: Clients, place: Place) -> Self {
        Self {
            places: Arc::new(AwsPlaces::with_clients(clients)),
            place,
        }
    }

    /// Runs one trigger in `mode`, as the handler would in this place.
    pub async fn run(
        &self,
        policy: &Policy,
        trigger: &Trigger,
        mode: Mode,
    ) -> Result<Report, ReconcileError> {
        let setup = Setup {
            policy: policy.clone(),
            region: self.place.region.clone(),
            warnings: Vec::new(),
        };
        run_in_place(
            &*self.places,
            &setup,
            self.place.clone(),
            trigger,
            mode,
            None,
        )
        .await
    }

    /// Sweeps the place.
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
