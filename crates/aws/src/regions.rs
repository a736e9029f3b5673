//! The account's enabled regions (`ec2:DescribeRegions`), for `flowguard ... --all-regions`.

use crate::error::aws_error;
use flowguard_core::AwsError;

/// The names of the regions enabled for the account (opted in, or not requiring opt-in),
/// sorted. `DescribeRegions` without `AllRegions` returns exactly those, in one answer: the
/// operation has no pagination.
pub async fn enabled_regions(ec2: &aws_sdk_ec2::Client) -> Result<Vec<String>, AwsError> {
    let output = ec2
        .describe_regions()
        .send()
        .await
        .map_err(|e| aws_error("DescribeRegions", e))?;
    let mut names: Vec<String> = output
        .regions()
        .iter()
        .filter_map(|r| r.region_name().map(str::to_owned))
        .collect();
    names.sort();
    names.dedup();
    Ok(names)
}
