//! What a test reads of a [`FakeRegion`], and how it makes one misbehave.

use super::{FakeRegion, State};
use crate::error::AwsError;
use crate::ids::VpcId;
use crate::ports::FindingUpdate;

impl FakeRegion {
    /// The Security Hub updates asked for so far.
    pub fn finding_updates(&self) -> Vec<FindingUpdate> {
        Self::lock(&self.finding_updates).clone()
    }

    /// A copy of the current state.
    pub fn state(&self) -> State {
        Self::lock(&self.state).clone()
    }

    /// Every call so far, in order.
    pub fn calls(&self) -> Vec<&'static str> {
        Self::lock(&self.calls).clone()
    }

    /// Makes `operation` fail with `error` from now on.
    pub fn fail(&self, operation: &'static str, error: AwsError) {
        Self::lock(&self.failures).insert(operation, error);
    }

    /// Refuses a whole `CreateFlowLogs` batch on the first duplicate (moto's behaviour).
    pub fn whole_batch_duplicates(&self) {
        *Self::lock(&self.whole_batch_duplicates) = true;
    }

    /// Makes the region belong to `account`: `CreateFlowLogs` naming a VPC that another
    /// account owns is then refused as a whole with `UnauthorizedOperation`, as EC2 does.
    pub fn account(&self, account: &str) {
        *Self::lock(&self.account) = Some(account.to_owned());
    }

    /// Makes `CreateFlowLogs` refuse any request naming `vpc` with a top-level
    /// `InvalidVpcID.NotFound`, while `DescribeVpcs` still shows it.
    pub fn unknown_to_create(&self, vpc: &str) {
        Self::lock(&self.unknown_to_create).push(VpcId::new(vpc));
    }

    /// Deletes `vpc` right after the next `DescribeVpcs` has shown it: someone deletes it
    /// between flowguard's read and its write.
    pub fn vanish_after_read(&self, vpc: &str) {
        Self::lock(&self.vanishing).push(VpcId::new(vpc));
    }

    /// Makes every `operation` take `duration`.
    pub fn slow(&self, operation: &'static str, duration: std::time::Duration) {
        Self::lock(&self.slow).insert(operation, duration);
    }

    /// Deletes a VPC (and its flow logs), as someone else would mid-run.
    pub fn delete_vpc(&self, vpc: &str) {
        let mut state = Self::lock(&self.state);
        state.vpcs.retain(|v| v.id.as_str() != vpc);
        state.flow_logs.retain(|fl| fl.resource_id != vpc);
    }

    /// Makes the next `n` `DescribeFlowLogs` calls see no flow logs.
    pub fn stale_flow_log_reads(&self, n: u32) {
        *Self::lock(&self.stale_flow_log_reads) = n;
    }
}
