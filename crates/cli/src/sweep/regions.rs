//! The regions a sweep covers: `--region`s in the order given, every enabled region of the
//! caller (`--all-regions`), or each member's own (`--organization --all-regions`).

use crate::args::SweepArgs;
use crate::failure::{self, Failure, describe};
use aws_config::{Region, SdkConfig};
use flowguard_aws::{Controller, regions};
use flowguard_core::organization::AccountScope;
use flowguard_core::{Place, Trigger};
use futures::StreamExt;
use std::collections::BTreeMap;

fn check_region_name(name: &str) -> Result<(), Failure> {
    let ok = !name.is_empty()
        && name.len() <= 32
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(Failure(format!(
            "not a region name: {name:?} (expected a name such as us-east-1)"
        )))
    }
}

/// The configuration in the home region: the first `--region`, else the configured one, else
/// (for `--all-regions`, which needs some region to ask `DescribeRegions` in) us-east-1.
pub fn home(base: SdkConfig, args: &SweepArgs) -> Result<SdkConfig, Failure> {
    args.regions.iter().try_for_each(|r| check_region_name(r))?;
    let configured = base.region().map(|r| r.as_ref().to_owned());
    let fallback = args.all_regions.then(|| "us-east-1".to_owned());
    let home = args
        .regions
        .first()
        .cloned()
        .or(configured)
        .or(fallback)
        .ok_or_else(failure::no_region)?;
    Ok(base.to_builder().region(Region::new(home)).build())
}

/// The regions to sweep, in the order given: `--region`s (each once), every enabled region
/// of the caller's account, or the home region.
pub async fn regions(
    controller: &Controller,
    config: &SdkConfig,
    args: &SweepArgs,
) -> Result<Vec<String>, Failure> {
    let home = config.region().map(|r| r.as_ref().to_owned());
    if args.all_regions {
        let clients = controller.places.clients("");
        return regions::enabled_regions(&clients.ec2)
            .await
            .map_err(|e| Failure(describe(&e, config)));
    }
    if args.regions.is_empty() {
        return Ok(home.into_iter().collect());
    }
    let mut seen = std::collections::HashSet::new();
    Ok(args
        .regions
        .iter()
        .filter(|r| seen.insert(*r))
        .cloned()
        .collect())
}

/// The enabled regions of each member account in scope (`ec2:DescribeRegions` through its
/// member role, in the home region), `concurrency` accounts at a time. An account that cannot
/// be asked is left out: it is swept in the caller's regions, where its runs report why it
/// cannot be reached.
pub async fn members_regions(
    controller: &Controller,
    scope: &AccountScope,
    config: &SdkConfig,
    concurrency: usize,
) -> BTreeMap<String, Vec<String>> {
    let home = config.region().map_or("", |r| r.as_ref());
    let trigger = Trigger::manual_sweep("flowguard: each account's enabled regions");
    let trigger = &trigger;
    futures::stream::iter(scope.accounts())
        .map(|account| async move {
            let place = Place {
                region: home.to_owned(),
                account: account.to_owned(),
            };
            let clients = controller.places.clients_of(&place, trigger).await.ok()?;
            let enabled = regions::enabled_regions(&clients.ec2).await.ok()?;
            Some((account.to_owned(), enabled))
        })
        .buffer_unordered(concurrency.max(1))
        .filter_map(std::future::ready)
        .collect()
        .await
}
