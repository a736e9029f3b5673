//! `flowguard apply`: its refusals (no confirmation, no role, a missing role, a dry run).

use super::{create_role, flowguard, state};
use flowguard_tests::{ACCOUNT, REGION, Seed, moto};

#[tokio::test]
#[ignore = "needs moto server (and the built binaries): run ./scripts/test, which starts it and runs these"]
async fn apply_refuses_without_confirmation_or_role() {
    let m = moto().await;
    create_role(&m).await;
    Seed::new(&m.clients(REGION).await).vpc().await;
    let before = state(&m, REGION).await;

    let out = flowguard(&m, &["apply"]).role().run();
    out.expect(2)
        .stderr_has("not a terminal")
        .stderr_has("--yes");
    assert_eq!(out.stdout, "");

    flowguard(&m, &["apply", "--yes"])
        .run()
        .expect(2)
        .stderr_has("FLOWGUARD_DELIVERY_ROLE_ARN");

    let missing = format!("arn:aws:iam::{ACCOUNT}:role/not-there");
    flowguard(&m, &["apply", "--yes", "--delivery-role-arn", &missing])
        .run()
        .expect(2)
        .stderr_has("does not exist")
        .stderr_has("setup-role");

    flowguard(&m, &["apply", "--yes"])
        .role()
        .env("FLOWGUARD_DRY_RUN", "true")
        .run()
        .expect(2)
        .stderr_has("plan");

    assert_eq!(state(&m, REGION).await, before);
}
