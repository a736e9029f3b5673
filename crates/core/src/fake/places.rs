//! [`FakePlaces`]: the [`Places`] port over fake regions, one per account, for tests of the
//! handler and the sweep.

use super::FakeRegion;
use crate::error::AwsError;
use crate::ids::Place;
use crate::ports::Places;
use crate::trigger::Trigger;
use std::collections::BTreeMap;
use std::sync::Arc;

/// One fake region per reachable account (the same in every region); any other account
/// refuses the member role, as AWS refuses `AssumeRole`.
#[derive(Debug, Clone, Default)]
pub struct FakePlaces(pub BTreeMap<String, Arc<FakeRegion>>);

impl FakePlaces {
    /// One account's fake, in every region.
    pub fn one(account: &str, fake: Arc<FakeRegion>) -> Self {
        Self(BTreeMap::from([(account.to_owned(), fake)]))
    }
}

impl Places for FakePlaces {
    type Inventory = Arc<FakeRegion>;
    type Remediator = Arc<FakeRegion>;

    async fn ports(
        &self,
        place: &Place,
        _trigger: &Trigger,
    ) -> Result<(Arc<FakeRegion>, Arc<FakeRegion>), AwsError> {
        match self.0.get(&place.account) {
            Some(fake) => Ok((fake.clone(), fake.clone())),
            None => Err(AwsError::service(
                "AssumeRole",
                "AccessDenied",
                format!("cannot assume flowguard-member in {}", place.account),
            )),
        }
    }
}
