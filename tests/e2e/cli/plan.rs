//! `flowguard plan`: the planned actions, with and without a delivery role, and nothing
//! changed.

use super::{create_role, flowguard, only_report, state};
use flowguard_tests::{REGION, Seed, moto};
use serde_json::Value;

#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn plan_lists_the_actions_and_changes_nothing() {
    let m = moto().await;
    create_role(&m).await;
    let seed = Seed::new(&m.clients(REGION).await);
    let vpc = seed.vpc().await;
    let before = state(&m, REGION).await;

    // Changes are pending: exit 1 (0 would mean nothing to change).
    let plan = flowguard(&m, &["plan"]).role().run();
    plan.expect(1);
    assert!(
        plan.stdout.contains("would remediate") && plan.stdout.contains(&vpc),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("actions: 4 planned"),
        "{}",
        plan.stdout
    );
    // The actions are in the wide table.
    let wide = flowguard(&m, &["plan", "--wide"]).role().run();
    wide.expect(1);
    assert!(
        wide.stdout.contains("create_flow_logs") && wide.stdout.contains("captures REJECT"),
        "{}",
        wide.stdout
    );
    flowguard(&m, &["plan", "--wide", "--format", "json"])
        .role()
        .run()
        .expect(2)
        .stderr_has("--format table");

    let plan = flowguard(&m, &["plan", "--format", "json"]).role().run();
    plan.expect(1);
    let json = plan.json();
    assert_eq!(json["dry_run"], true);
    let report = only_report(&json);
    assert_eq!(report["dry_run"], true);
    let creates: Vec<&Value> = report["actions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["action"] == "create_flow_logs")
        .collect();
    assert_eq!(creates.len(), 2);
    assert!(creates.iter().any(|a| a["target"] == vpc.as_str()));
    assert!(
        creates
            .iter()
            .all(|a| a["result"] == "planned" && a["permission"].is_string()),
        "{report}"
    );

    // Without the role the plan still works and says so.
    let plan = flowguard(&m, &["plan"]).run();
    plan.expect(1);
    assert!(
        plan.stdout
            .contains("FLOWGUARD_DELIVERY_ROLE_ARN is not set"),
        "{}",
        plan.stdout
    );

    assert_eq!(state(&m, REGION).await, before, "plan changed the emulator");
}
