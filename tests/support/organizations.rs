//! Building an organization on the emulator: the organization itself, units and accounts
//! (moto's Organizations), for the suites that exercise organization mode.

use aws_sdk_organizations::Client;
use aws_sdk_organizations::types::OrganizationFeatureSet;

/// Creates the organization (all features) with the caller as its management account;
/// returns its root id.
pub async fn create_organization(client: &Client) -> String {
    client
        .create_organization()
        .feature_set(OrganizationFeatureSet::All)
        .send()
        .await
        .unwrap();
    client.list_roots().send().await.unwrap().roots()[0]
        .id()
        .unwrap()
        .to_owned()
}

/// Creates an organizational unit named `name` under `parent`; returns its id.
pub async fn create_unit(client: &Client, parent: &str, name: &str) -> String {
    let out = client
        .create_organizational_unit()
        .parent_id(parent)
        .name(name)
        .send()
        .await
        .unwrap();
    out.organizational_unit().unwrap().id().unwrap().to_owned()
}

/// Creates an account named `name` at the root, then moves it to `unit` when given; returns
/// its id.
pub async fn create_account(client: &Client, root: &str, name: &str, unit: Option<&str>) -> String {
    let out = client
        .create_account()
        .account_name(name)
        .email(format!("{name}@example.com"))
        .send()
        .await
        .unwrap();
    let id = out
        .create_account_status()
        .unwrap()
        .account_id()
        .unwrap()
        .to_owned();
    if let Some(unit) = unit {
        client
            .move_account()
            .account_id(&id)
            .source_parent_id(root)
            .destination_parent_id(unit)
            .send()
            .await
            .unwrap();
    }
    id
}
