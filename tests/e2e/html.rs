//! The HTML report in a real browser: a sweep over the core's fake (three accounts, two regions)
//! rendered by `flowguard_core::export::html`, opened from disk by headless Chromium (the
//! Debian package `chromium`, which `./scripts/test` installs), and the totals and the grid
//! read back from the DOM the browser built. Chromium is at `CHROMIUM`, else `chromium` on the
//! PATH. No moto: the test needs only the browser.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use flowguard_core::export::html::{HtmlContext, HtmlReport};
use flowguard_core::fake::{FakePlaces, FakeRegion, State, variables, vpc};
use flowguard_core::organization::{OrgConfig, OrgReport};
use flowguard_core::sweep::{Setup, Sweep, sweep};
use flowguard_core::{Mode, Trigger};
use flowguard_tests::policy;
use std::collections::BTreeMap;
use std::fs::File;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

const COMPLIANT: &str = "111111111111";
const TO_FIX: &str = "222222222222";
/// No fake: its member role is refused (`AccessDenied`) in every region.
const UNREACHABLE: &str = "333333333333";
const HOSTILE: &str = "</td><script>document.title='pwned'</script><img src=x onerror=alert(1)>";

/// A sweep in `mode` of the three accounts in us-east-1 and eu-west-1, feeding `html` each
/// finished run (the VPCs of the account to fix with a hostile reason).
async fn sweep_in(mode: Mode, places: &FakePlaces, html: &mut HtmlReport) -> OrgReport {
    let listed = [COMPLIANT, TO_FIX, UNREACHABLE].join(",");
    let lookup = [("FLOWGUARD_ACCOUNTS", listed.as_str())];
    let scope = OrgConfig::from_lookup(variables(&lookup))
        .unwrap()
        .unwrap()
        .scope(&[]);
    let regions = ["us-east-1".to_owned(), "eu-west-1".to_owned()];
    let setup = Setup {
        policy: policy(),
        region: regions[0].clone(),
        warnings: Vec::new(),
    };
    let trigger = Trigger::manual_sweep("html");
    let plan = Sweep {
        setup: &setup,
        scope: &scope,
        due: &Default::default(),
        at: None,
        regions: &regions,
        regions_of: None,
        trigger: &trigger,
        mode,
        concurrency: 3,
        deadline: None,
    };
    sweep(places, &plan, None, |run| {
        let mut run = run.clone();
        if let Some(report) = run.report.as_mut().filter(|r| r.account == TO_FIX) {
            report.vpcs[0].reason = HOSTILE.to_owned();
        }
        html.add(&run);
    })
    .await
}

/// The DOM of `page` as headless Chromium builds it (within a minute), with the files of the
/// run in `dir`.
fn dump_dom(page: &Path, dir: &Path) -> String {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "chromium".to_owned());
    let (dom, log) = (dir.join("dom.html"), dir.join("chromium.log"));
    let mut child = Command::new(&chromium)
        .args([
            "--headless",
            "--disable-gpu",
            "--no-sandbox",
            "--no-first-run",
        ])
        .arg(format!("--user-data-dir={}", dir.join("profile").display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .stdout(File::create(&dom).unwrap())
        .stderr(File::create(&log).unwrap())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot run {chromium}: {e} (./scripts/test installs the Debian package)")
        });
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("{chromium} did not dump the page within a minute");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let log = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(status.success(), "{chromium} failed ({status}): {log}");
    std::fs::read_to_string(&dom).unwrap()
}

/// The text of the element whose id is `id` in the browser's DOM.
fn text_of<'a>(dom: &'a str, id: &str) -> &'a str {
    let at = dom
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no element #{id} in the rendered page:\n{dom}"));
    let start = at + dom[at..].find('>').unwrap() + 1;
    let end = start + dom[start..].find('<').unwrap();
    &dom[start..end]
}

#[tokio::test]
#[ignore = "needs chromium (the Debian package): run ./scripts/test, which installs it"]
async fn chromium_renders_the_totals_the_grid_and_the_vpcs_to_fix() {
    let fake = |ids: &[&str]| {
        let vpcs = ids.iter().map(|id| vpc(id, &[])).collect();
        Arc::new(FakeRegion::new(State {
            vpcs,
            ..State::default()
        }))
    };
    // The compliant account's VPCs get their flow logs first (an apply), then all three are
    // audited. A fake account is the same in every region.
    let places = FakePlaces(BTreeMap::from([
        (COMPLIANT.to_owned(), fake(&["vpc-a1", "vpc-a2", "vpc-a3"])),
        (TO_FIX.to_owned(), fake(&["vpc-b1", "vpc-b2"])),
    ]));
    let only_compliant = FakePlaces(BTreeMap::from([(
        COMPLIANT.to_owned(),
        places.0[COMPLIANT].clone(),
    )]));
    sweep_in(Mode::Enforce, &only_compliant, &mut HtmlReport::new()).await;
    let mut html = HtmlReport::new();
    html.name_account(TO_FIX, HOSTILE);
    let org = sweep_in(Mode::Audit, &places, &mut html).await;

    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("report.html");
    std::fs::write(
        &page,
        html.render(&org, &HtmlContext::new("2026-05-01T12:00:00Z")),
    )
    .unwrap();
    let dom = dump_dom(&page, dir.path());

    // The totals, as the page shows them: 3 VPCs compliant in 2 regions, 2 to fix in 2, and
    // the third account unreachable in both.
    let expected = [
        ("total-vpcs", 10),
        ("total-compliant", 6),
        ("total-would_remediate", 4),
        ("total-failed", 0),
        ("total-remediated", 0),
        ("total-runs_ok", 4),
        ("total-runs_unreachable", 2),
        ("needs-action-count", 4),
    ];
    for (id, count) in expected {
        assert_eq!(text_of(&dom, id), count.to_string(), "#{id}");
    }
    assert_eq!(text_of(&dom, "mode"), "audit");
    // The grid: one cell per account×region, by status.
    let cells = |status: &str| dom.matches(&format!("data-status=\"{status}\"")).count();
    assert_eq!(
        (
            cells("compliant"),
            cells("needs-action"),
            cells("unreachable")
        ),
        (2, 2, 2)
    );
    // The hostile reason and account name are text: the browser built no element of them, and
    // ran nothing (the title is still the page's).
    assert!(!dom.contains("<script") && !dom.contains("<img"), "{dom}");
    assert!(dom.contains("&lt;/td&gt;&lt;script&gt;"), "{dom}");
    assert!(dom.contains("<title>flowguard report</title>"), "{dom}");
}
