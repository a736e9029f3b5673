//! Configuration and environment errors of every command: the variable, the value and what is
//! allowed, in one or two clear lines, exit code 2.

use super::{create_role, flowguard, only_report};
use flowguard_tests::proxy::{AwsRules, FaultProxy};
use flowguard_tests::{ACCOUNT, REGION, Seed, fixture, moto};

#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn bad_configuration_names_the_variable_the_value_and_what_is_allowed() {
    let m = moto().await;
    create_role(&m).await;
    flowguard(&m, &["apply", "--yes"]).role().run().expect(0);

    let out = flowguard(&m, &["audit"])
        .env("FLOWGUARD_RETENTION_DAYS", "30")
        .run();
    out.expect(2)
        .stderr_has("FLOWGUARD_RETENTION_DAYS")
        .stderr_has("\"30\"")
        .stderr_has("365, 400");
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    assert_eq!(out.stdout, "");

    // The flag beats the variable: 731 is valid, and the 365-day group is now too short.
    let out = flowguard(
        &m,
        &["audit", "--retention-days", "731", "--format", "json"],
    )
    .env("FLOWGUARD_RETENTION_DAYS", "30")
    .run();
    out.expect(1);
    assert!(
        only_report(&out.json())["vpcs"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("731"),
        "{}",
        out.stdout
    );
    flowguard(&m, &["audit", "--retention-days", "30"])
        .env("FLOWGUARD_RETENTION_DAYS", "365")
        .run()
        .expect(2);
    flowguard(&m, &["audit"])
        .env("FLOWGUARD_RETENTION_DAYS", "365")
        .run()
        .expect(0);

    // An error names what the user gave: the flag typed, or the variable set.
    for (flag, value, variable) in [
        ("--traffic-type", "ACCEPT", "FLOWGUARD_TRAFFIC_TYPE"),
        (
            "--max-aggregation-interval",
            "300",
            "FLOWGUARD_MAX_AGGREGATION_INTERVAL",
        ),
        ("--log-group", "/vpc/{nope}", "FLOWGUARD_LOG_GROUP"),
        (
            "--delivery-role-arn",
            "my-role",
            "FLOWGUARD_DELIVERY_ROLE_ARN",
        ),
    ] {
        let typed = flowguard(&m, &["plan", flag, value]).run();
        typed
            .expect(2)
            .stderr_has(&format!("{flag} \"{value}\""))
            .stderr_has(value);
        assert!(!typed.stderr.contains(variable), "{}", typed.stderr);
        flowguard(&m, &["plan"])
            .env(variable, value)
            .run()
            .expect(2)
            .stderr_has(&format!("{variable}=\"{value}\""));
    }
    let out = flowguard(&m, &["handle-event"])
        .env("FLOWGUARD_DRY_RUN", "maybe")
        .stdin(fixture("scheduled_event.json").to_string())
        .run();
    out.expect(2).stderr_has("FLOWGUARD_DRY_RUN");
}

#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn environment_problems_are_one_or_two_clear_lines() {
    let m = moto().await;

    let out = flowguard(&m, &["audit"])
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
        .run();
    out.expect(2)
        .stderr_has("http://127.0.0.1:1")
        .stderr_has("cannot reach");
    assert!(out.stderr.lines().count() <= 2, "{}", out.stderr);

    let out = flowguard(&m, &["audit"]).env_remove("AWS_REGION").run();
    out.expect(2)
        .stderr_has("no AWS region")
        .stderr_has("--region");

    let out = flowguard(&m, &["plan"])
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .run();
    out.expect(2).stderr_has("no AWS credentials");
    assert!(out.stderr.lines().count() <= 2, "{}", out.stderr);

    // A region the account has not enabled: AWS refuses the credentials there (AuthFailure),
    // though it took them in the configured region. The other region is still audited.
    let proxy = FaultProxy::with_aws_rules(
        &m.url,
        AwsRules {
            disabled_regions: ["ap-southeast-2".to_owned()].into(),
            ..AwsRules::default()
        },
    );
    let out = flowguard(
        &m,
        &["audit", "--region", REGION, "--region", "ap-southeast-2"],
    )
    .env("AWS_ENDPOINT_URL", &proxy.url)
    .run();
    // The region's first reads (EC2's and CloudWatch Logs') run at once: whichever is refused
    // first is named, with its service's code (AuthFailure, UnrecognizedClientException).
    out.expect(2)
        .stderr_has("ap-southeast-2: AWS refused the credentials in ap-southeast-2 (")
        .stderr_has(" on Describe")
        .stderr_has(
            "which it accepted in us-east-1: ap-southeast-2 is probably a Region that this \
             account has not enabled",
        );
    assert!(out.stdout.contains(REGION), "{}", out.stdout);

    flowguard(&m, &["audit", "--region", "Not A Region"])
        .run()
        .expect(2)
        .stderr_has("not a region name");
    flowguard(&m, &["handle-event", "/no/such/file.json"])
        .run()
        .expect(2)
        .stderr_has("/no/such/file.json");
}

#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn a_kms_key_of_another_region_is_refused_at_start_up_and_a_template_is_not() {
    let m = moto().await;
    Seed::new(&m.clients(REGION).await).vpc().await;
    let literal = format!("arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd");
    let out = flowguard(&m, &["audit", "--region", REGION, "--region", "eu-west-1"])
        .env("FLOWGUARD_KMS_KEY_ARN", &literal)
        .run();
    out.expect(2)
        .stderr_has("FLOWGUARD_KMS_KEY_ARN")
        .stderr_has("eu-west-1");
    let out = flowguard(&m, &["audit", "--region", REGION, "--region", "eu-west-1"])
        .env(
            "FLOWGUARD_KMS_KEY_ARN",
            "arn:aws:kms:{region}:{account_id}:key/mrk-1234abcd",
        )
        .run();
    assert_eq!(
        out.code, 1,
        "audited (not compliant), not refused: {}",
        out.stderr
    );
}
