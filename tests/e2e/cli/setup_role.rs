//! `flowguard setup-role`: the same ARN twice, a dry run, and a differing role.

use super::flowguard;
use flowguard_tests::{ACCOUNT, REGION, Seed, moto};
use serde_json::json;

#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn setup_role_twice_gives_the_same_arn() {
    let m = moto().await;
    let first = flowguard(&m, &["setup-role"]).run();
    first.expect(0).stderr_has("created");
    let arn = first.stdout.trim().to_owned();
    assert_eq!(
        arn,
        format!("arn:aws:iam::{ACCOUNT}:role/flowguard-delivery")
    );

    let second = flowguard(&m, &["setup-role"]).run();
    second.expect(0).stderr_has("exists");
    assert_eq!(second.stdout.trim(), arn);

    let named = flowguard(&m, &["setup-role", "--name", "custom-delivery"]).run();
    named.expect(0);
    assert!(
        named.stdout.trim().ends_with(":role/custom-delivery"),
        "{}",
        named.stdout
    );

    // The role it made is one that apply accepts.
    Seed::new(&m.clients(REGION).await).vpc().await;
    flowguard(&m, &["apply", "--yes", "--delivery-role-arn", &arn])
        .run()
        .expect(0);
}

#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn setup_role_in_dry_run_creates_nothing() {
    let m = moto().await;
    let out = flowguard(&m, &["setup-role", "--dry-run"]).run();
    out.expect(0).stderr_has("would be created");
    assert!(out.stdout.trim().is_empty(), "{}", out.stdout);
    let exists = m
        .clients(REGION)
        .await
        .iam()
        .get_role()
        .role_name("flowguard-delivery")
        .send()
        .await;
    assert!(exists.is_err(), "no role was created");
}

#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn setup_role_leaves_a_differing_role_alone_unless_forced() {
    let m = moto().await;
    // Someone's role of that name, trusting another service.
    let iam = m.clients(REGION).await.iam().clone();
    let theirs = json!({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]
    })
    .to_string();
    iam.create_role()
        .role_name("flowguard-delivery")
        .assume_role_policy_document(&theirs)
        .send()
        .await
        .unwrap();
    let trust = || async {
        let role = iam
            .get_role()
            .role_name("flowguard-delivery")
            .send()
            .await
            .unwrap();
        let doc = role
            .role()
            .unwrap()
            .assume_role_policy_document()
            .unwrap()
            .to_owned();
        flowguard_tests::percent_decode(&doc)
    };

    let out = flowguard(&m, &["setup-role"]).run();
    out.expect(1).stderr_has("differs").stderr_has("--force");
    assert!(trust().await.contains("ec2.amazonaws.com"), "left alone");

    flowguard(&m, &["setup-role", "--force", "--dry-run"])
        .run()
        .expect(1)
        .stderr_has("dry run");
    assert!(
        trust().await.contains("ec2.amazonaws.com"),
        "dry run changes nothing"
    );

    let out = flowguard(&m, &["setup-role", "--force"]).run();
    out.expect(0).stderr_has("overwrote");
    assert!(trust().await.contains("vpc-flow-logs.amazonaws.com"));
    flowguard(&m, &["setup-role"])
        .run()
        .expect(0)
        .stderr_has("matches");
}
