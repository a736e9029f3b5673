#![allow(clippy::unwrap_used)]

use super::*;
use crate::fake::report_of;
use crate::ids::Place;
use crate::reconcile::DEADLINE_NEAR;
use crate::report::Report;

const A: &str = "111111111111";
const B: &str = "222222222222";
const C: &str = "333333333333";

fn place(account: &str, region: &str) -> Place {
    Place {
        account: account.to_owned(),
        region: region.to_owned(),
    }
}

fn report(account: &str, region: &str, mode: Mode, statuses: &[VpcStatus]) -> Report {
    let mut report = report_of(&place(account, region), mode, statuses);
    for vpc in &mut report.vpcs {
        vpc.reason = format!("{} in {account} {region}", vpc.status.as_str());
    }
    report
}

fn regions() -> Vec<String> {
    vec!["us-east-1".to_owned(), "eu-west-1".to_owned()]
}

/// Three accounts in two regions: A compliant in one and failing in the other, B with VPCs to
/// fix in one and not checked (the deadline) in the other, C unreachable in one and without a
/// run in the other. Fed in an order that is not the report's.
fn sweep(mode: Mode) -> (OrgReport, HtmlReport) {
    use VpcStatus::{Compliant, Exempt, Failed, NotOwned, Remediated, WouldRemediate};
    let runs = vec![
        AccountRun::ok(report(
            B,
            "us-east-1",
            mode,
            &[WouldRemediate, Compliant, WouldRemediate],
        )),
        AccountRun::ok(report(
            A,
            "eu-west-1",
            mode,
            &[Failed, Remediated, NotOwned],
        )),
        AccountRun::ok(report(
            A,
            "us-east-1",
            mode,
            &[Compliant, Compliant, Exempt],
        )),
        AccountRun::unreachable(
            C,
            "us-east-1",
            Some("AccessDenied".into()),
            "cannot assume",
            None,
        ),
        AccountRun::unreachable(
            B,
            "eu-west-1",
            Some(DEADLINE_NEAR.into()),
            "not checked",
            None,
        ),
    ];
    let mut html = HtmlReport::new();
    for run in &runs {
        html.add(run);
    }
    (OrgReport::new(mode, &regions(), runs), html)
}

fn ctx() -> HtmlContext {
    HtmlContext {
        title: "flowguard audit".to_owned(),
        generated_at: "2026-05-01T12:00:00Z".to_owned(),
        product_version: "0.0.0-test".to_owned(),
    }
}

/// The text of the element whose id is `id`.
fn text_of<'a>(page: &'a str, id: &str) -> &'a str {
    let at = page.find(&format!("id=\"{id}\"")).unwrap();
    let start = at + page[at..].find('>').unwrap() + 1;
    let end = start + page[start..].find('<').unwrap();
    &page[start..end]
}

/// The `data-status` of the grid's cell of `account` in `region`.
fn cell<'a>(page: &'a str, account: &str, region: &str) -> &'a str {
    let key = format!("data-account=\"{account}\" data-region=\"{region}\" data-status=\"");
    let start = page.find(&key).unwrap() + key.len();
    let end = start + page[start..].find('"').unwrap();
    &page[start..end]
}

#[test]
fn the_totals_are_the_organization_reports() {
    let (org, html) = sweep(Mode::Audit);
    let page = html.render(&org, &ctx());
    let expected = [
        ("total-vpcs", 9),
        ("total-compliant", 3),
        ("total-remediated", 1),
        ("total-would_remediate", 2),
        ("total-failed", 1),
        ("total-exempt", 1),
        ("total-not_owned", 1),
        ("total-gone", 0),
        ("total-runs_ok", 3),
        ("total-runs_unreachable", 2),
    ];
    for (id, count) in expected {
        assert_eq!(text_of(&page, id), count.to_string(), "{id}");
    }
    assert_eq!(text_of(&page, "mode"), "audit");
    assert_eq!(text_of(&page, "generated-at"), "2026-05-01T12:00:00Z");
}

#[test]
fn each_cell_has_its_runs_status_and_a_missing_run_is_not_checked() {
    let (org, html) = sweep(Mode::DryRun);
    let page = html.render(&org, &ctx());
    assert_eq!(cell(&page, A, "us-east-1"), "compliant");
    assert_eq!(cell(&page, A, "eu-west-1"), "failed");
    assert_eq!(cell(&page, B, "us-east-1"), "needs-action");
    assert_eq!(cell(&page, B, "eu-west-1"), "not-checked");
    assert_eq!(cell(&page, C, "us-east-1"), "unreachable");
    assert_eq!(cell(&page, C, "eu-west-1"), "not-checked");
    // Regions as given, accounts in order.
    let grid = &page[page.find("id=\"grid\"").unwrap()..];
    assert!(grid.find("us-east-1").unwrap() < grid.find("eu-west-1").unwrap());
    assert!(grid.find(A).unwrap() < grid.find(B).unwrap());
    assert!(page.contains(">2 to fix / 3<"), "{page}");
    assert!(page.contains(">AccessDenied<"), "{page}");
}

#[test]
fn the_table_lists_only_the_vpcs_that_need_action_in_the_reports_order() {
    let (org, html) = sweep(Mode::Audit);
    assert_eq!(html.needs_action(), 3);
    let page = html.render(&org, &ctx());
    assert_eq!(text_of(&page, "needs-action-count"), "3");
    let table = &page[page.find("id=\"needs-action\"").unwrap()..];
    let table = &table[..table.find("</table>").unwrap()];
    let reasons: Vec<&str> = table
        .split("<td class=\"reason\">")
        .skip(1)
        .map(|rest| &rest[..rest.find('<').unwrap()])
        .collect();
    assert_eq!(
        reasons,
        [
            "failed in 111111111111 eu-west-1",
            "would_remediate in 222222222222 us-east-1",
            "would_remediate in 222222222222 us-east-1",
        ]
    );
    // An audit says "not compliant"; a plan says "would remediate". No Name column while the
    // report has no names.
    assert!(table.contains(">not compliant<") && !table.contains("<th>Name</th>"));
    let (org, html) = sweep(Mode::DryRun);
    assert!(html.render(&org, &ctx()).contains(">would remediate<"));
}

#[test]
fn nothing_to_do_says_so() {
    let runs = vec![AccountRun::ok(report(
        A,
        "us-east-1",
        Mode::Audit,
        &[VpcStatus::Compliant],
    ))];
    let mut html = HtmlReport::new();
    html.add(&runs[0]);
    let org = OrgReport::new(Mode::Audit, &regions()[..1], runs);
    let page = html.render(&org, &ctx());
    assert!(page.contains("No VPC needs action."));
    assert!(!page.contains("id=\"unreachable\""));
}

#[test]
fn hostile_strings_are_escaped_everywhere() {
    let hostile = "</td><script>alert(1)</script><img src=x onerror=\"alert('x')\">&amp;";
    let mut r = report(A, "us-east-1", Mode::Audit, &[VpcStatus::WouldRemediate]);
    r.vpcs[0].reason = hostile.to_owned();
    let runs = vec![
        AccountRun::ok(r),
        AccountRun::unreachable(B, "us-east-1", Some(hostile.into()), hostile, None),
    ];
    let mut html = HtmlReport::new();
    html.add(&runs[0]);
    html.name_account(A, hostile);
    let mut org = OrgReport::new(Mode::Audit, &regions()[..1], runs);
    org.warnings.push(hostile.to_owned());
    let mut ctx = ctx();
    ctx.title = hostile.to_owned();
    ctx.generated_at = hostile.to_owned();
    let page = html.render(&org, &ctx);
    for tag in ["<script", "<img", "</td><script"] {
        assert!(!page.contains(tag), "{tag} in {page}");
    }
    let escaped = "&lt;/td&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x \
                   onerror=&quot;alert(&#39;x&#39;)&quot;&gt;&amp;amp;";
    // The title, the time, the account's name (grid and table), the reason, the code (cell,
    // title, table), the error (title, table) and the warning.
    assert!(page.matches(escaped).count() >= 9, "{page}");
}

#[test]
fn escape_replaces_the_five_characters_and_control_characters() {
    assert_eq!(escape("a&b<c>d\"e'f"), "a&amp;b&lt;c&gt;d&quot;e&#39;f");
    assert_eq!(
        escape("tab\tline\nnul\0esc\u{1b}."),
        "tab\tline\nnul\u{FFFD}esc\u{FFFD}."
    );
    assert_eq!(escape("é 名前 🚀"), "é 名前 🚀");
    assert_eq!(escape(""), "");
}

#[test]
fn the_page_loads_nothing() {
    let (org, html) = sweep(Mode::Audit);
    let page = html.render(&org, &ctx());
    assert!(page.contains("content=\"default-src 'none'; style-src 'unsafe-inline'\""));
    for external in [
        "http:", "https:", "src=", "href=", "url(", "@import", "<script", "<link",
    ] {
        assert!(!page.contains(external), "{external}");
    }
}

#[test]
fn the_page_is_as_it_was() {
    let (org, html) = sweep(Mode::Audit);
    let mut html = html;
    html.name_account(A, "production");
    let page = html.render(&org, &ctx());
    // The style is the same file in every page: snapshot the rest.
    insta::assert_snapshot!(page.replace(STYLE, "/* style.css */\n"));
}
