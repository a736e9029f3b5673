//! The benchmark's scenarios and what it concludes from them: the calibration against the
//! moto benchmark (bench/results/org.json, point 100 × 3), the hub at 10,000 accounts, the
//! curve of accounts checked in time against concurrency and latency, and 30,000 accounts
//! over three scheduled sweeps; the hub warm (its account list kept from the sweep an hour
//! before: the sweep starts at once and the list is refreshed beside it) and cold (a new
//! execution environment, which lists the organization first). Each scenario runs in its own process (see `main.rs`), so that
//! each reports its own peak RSS; this module builds them and reads their outcomes.

use crate::model::{HUB_RETRY, ORGANIZATIONS_RETRY, catalogue, quota};
use crate::net::secs;
use crate::run::{
    DEADLINE_MARGIN, HUB_TIMEOUT, RunMode, SCHEDULE, SCOPE_MAX_AGE, SCOPE_REFRESH, Scenario, Shell,
};
use flowguard_core::facts::facts;
use flowguard_core::organization::ROTATION_SECONDS;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The point of the moto benchmark that the simulation is calibrated on.
pub const CALIBRATION_POINT: &str = "100x3";
/// How far the simulated wall time may be from moto's measured one.
pub const CALIBRATION_TOLERANCE: f64 = 0.30;
/// The concurrencies and latency factors of the curve.
pub const CONCURRENCIES: [usize; 7] = [8, 16, 32, 48, 64, 96, 128];
pub const LATENCY_SCALES: [f64; 3] = [0.5, 1.0, 2.0];
/// The background share of throttled calls of the hub scenarios (issue 27).
pub const THROTTLE_SHARE: f64 = 0.01;
/// Accounts per `ListAccounts` page on AWS: the `MaxResults` that crates/aws/src/organization
/// sends (`PAGE_SIZE`), the most the API takes; moto honours it too (bench/results/org.json: 6
/// calls for 101 accounts, 51 for 1001; before flowguard sent `MaxResults`, moto's default
/// page of 100 gave 2 and 11).
pub const AWS_PAGE_SIZE: usize = 20;
pub const MOTO_PAGE_SIZE: usize = 20;
/// How the hub's invocation starts: warm, on the account list kept from the sweep an hour
/// before (`true`: [`Scenario::list_kept`]), or cold, listing the organization first.
pub const STARTS: [(&str, bool); 2] = [("warm", true), ("cold", false)];

/// The sizes of a run of the suite: the full benchmark, or a quick look.
#[derive(Debug, Clone, Copy)]
pub struct Sizes {
    pub hub: usize,
    pub large: usize,
}

pub const FULL: Sizes = Sizes {
    hub: 10_000,
    large: 30_000,
};
pub const QUICK: Sizes = Sizes {
    hub: 1000,
    large: 3000,
};

/// The hub's scheduled sweep in one region, 5 VPCs an account, the default latency scaled by
/// `latency_scale`, AWS's rates and 1% background throttling, enforcing (the hub's default);
/// warm between sweeps, the first a cold start (no list kept).
pub fn hub(
    name: &str,
    accounts: usize,
    concurrency: usize,
    latency_scale: f64,
    seed: u64,
) -> Scenario {
    Scenario {
        name: name.to_owned(),
        shell: Shell::Hub,
        mode: RunMode::Enforce,
        accounts,
        regions: vec!["us-east-1".to_owned()],
        vpcs: 5,
        concurrency,
        sweeps: 1,
        warm: true,
        list_kept: false,
        fixed_latency_ms: BTreeMap::new(),
        latency_scale,
        limits: true,
        throttle_share: THROTTLE_SHARE,
        page_size: AWS_PAGE_SIZE,
        seed,
    }
}

/// The hub's concurrency by default (crates/core/facts.json, organization.concurrency).
pub fn default_concurrency() -> usize {
    facts().organization.concurrency.default
}

/// moto's measurements at the calibration point, for one mode (`audit` or `sweep`).
#[derive(Debug, Clone)]
pub struct Measured {
    pub mode: &'static str,
    pub walls: Vec<f64>,
    /// Calls by operation, of every run (they must all agree).
    pub calls: Vec<BTreeMap<String, u64>>,
    /// Mean time moto took per call, by operation (upstream_ms / calls over the runs).
    pub latency_ms: BTreeMap<String, f64>,
    pub concurrency: usize,
    pub regions: Vec<String>,
    pub vpcs: usize,
}

/// What the moto benchmark measured at [`CALIBRATION_POINT`].
pub fn measured(org: &Value) -> Result<Vec<Measured>, String> {
    let runs = org["points"][CALIBRATION_POINT]
        .as_array()
        .ok_or(format!("no point {CALIBRATION_POINT} in the moto results"))?;
    let concurrency = org["concurrency"].as_u64().ok_or("no concurrency")? as usize;
    let vpcs = org["vpcs_per_region"]
        .as_u64()
        .ok_or("no vpcs_per_region")? as usize;
    let regions: Vec<String> = org["regions"]
        .as_array()
        .ok_or("no regions")?
        .iter()
        .filter_map(|r| r.as_str().map(str::to_owned))
        .take(3)
        .collect();
    let mut out = Vec::new();
    for mode in ["audit", "sweep"] {
        let figures: Vec<&Value> = runs.iter().map(|r| &r[mode]["flowguard"]).collect();
        let walls = figures
            .iter()
            .filter_map(|f| f["wall_s"].as_f64())
            .collect();
        let mut totals: BTreeMap<String, (f64, f64)> = BTreeMap::new();
        let mut calls = Vec::new();
        for f in &figures {
            let ops = f["by_operation"].as_object().ok_or("no by_operation")?;
            let mut these = BTreeMap::new();
            for (op, o) in ops {
                let n = o["calls"].as_u64().unwrap_or(0);
                let ms = o["upstream_ms"].as_f64().unwrap_or(0.0);
                let total = totals.entry(op.clone()).or_default();
                total.0 += ms;
                total.1 += n as f64;
                these.insert(op.clone(), n);
            }
            calls.push(these);
        }
        let latency_ms = totals
            .into_iter()
            .filter(|(_, (_, n))| *n > 0.0)
            .map(|(op, (ms, n))| (op, ms / n))
            .collect();
        out.push(Measured {
            mode,
            walls,
            calls,
            latency_ms,
            concurrency,
            regions: regions.clone(),
            vpcs,
        });
    }
    Ok(out)
}

/// The CLI's run that moto measured, with moto's per-call latency, no throttling.
pub fn calibration(m: &Measured, seed: u64) -> Scenario {
    Scenario {
        name: format!("calibration {}", m.mode),
        shell: Shell::Cli,
        mode: if m.mode == "audit" {
            RunMode::Audit
        } else {
            RunMode::Enforce
        },
        accounts: 100,
        regions: m.regions.clone(),
        vpcs: m.vpcs,
        concurrency: m.concurrency,
        sweeps: 1,
        warm: false,
        list_kept: false,
        fixed_latency_ms: m.latency_ms.clone(),
        latency_scale: 1.0,
        limits: false,
        throttle_share: 0.0,
        page_size: MOTO_PAGE_SIZE,
        seed,
    }
}

/// Every scenario of the suite, each with the key its outcome is filed under.
pub fn scenarios(moto: &[Measured], sizes: Sizes, seed: u64) -> Vec<(String, Scenario)> {
    let mut all = Vec::new();
    for m in moto {
        all.push((format!("calibration/{}", m.mode), calibration(m, seed)));
    }
    let default = default_concurrency();
    for (start, kept) in STARTS {
        let key = format!("hub/{start}");
        let mut scenario = hub(&key, sizes.hub, default, 1.0, seed);
        scenario.list_kept = kept;
        all.push((key, scenario));
        for c in CONCURRENCIES {
            for scale in LATENCY_SCALES {
                let key = format!("curve/{start}/{c}/{scale}");
                let mut scenario = hub(&key, sizes.hub, c, scale, seed);
                scenario.list_kept = kept;
                all.push((key, scenario));
            }
        }
    }
    // Three hourly sweeps: warm throughout (the list kept from the sweep before the first, the
    // accounts left due taken first), cold at every sweep (a new environment each time: no
    // list, nothing remembered), and a cold start followed by warm sweeps.
    for (key, warm, kept) in [
        ("large/warm", true, true),
        ("large/cold", false, false),
        ("large/cold-first", true, false),
    ] {
        let mut s = hub(key, sizes.large, default, 1.0, seed);
        s.sweeps = 3;
        s.warm = warm;
        s.list_kept = kept;
        all.push((key.to_owned(), s));
    }
    all
}

fn median(xs: &[f64]) -> f64 {
    let mut xs = xs.to_vec();
    xs.sort_by(f64::total_cmp);
    match xs.len() {
        0 => 0.0,
        n if n % 2 == 1 => xs[n / 2],
        n => (xs[n / 2 - 1] + xs[n / 2]) / 2.0,
    }
}

/// How the simulation compares with moto at the calibration point.
pub fn compare(m: &Measured, outcome: &Value) -> Value {
    let sim = &outcome["sweeps"][0];
    let simulated = sim["wall_s"].as_f64().unwrap_or(0.0);
    let measured = median(&m.walls);
    let error = if measured > 0.0 {
        (simulated - measured) / measured
    } else {
        f64::NAN
    };
    let sim_calls: BTreeMap<String, u64> = sim["net"]["by_api"]
        .as_object()
        .map(|ops| {
            ops.iter()
                .map(|(op, c)| (op.clone(), c["calls"].as_u64().unwrap_or(0)))
                .collect()
        })
        .unwrap_or_default();
    let same = |calls: &BTreeMap<String, u64>| {
        let nonzero = |m: &BTreeMap<String, u64>| -> BTreeMap<String, u64> {
            m.iter()
                .filter(|(_, n)| **n > 0)
                .map(|(k, v)| (k.clone(), *v))
                .collect()
        };
        nonzero(calls) == nonzero(&sim_calls)
    };
    let ops: std::collections::BTreeSet<&String> = m
        .calls
        .iter()
        .flat_map(BTreeMap::keys)
        .chain(sim_calls.keys())
        .collect();
    let calls: BTreeMap<&String, Value> = ops
        .into_iter()
        .map(|op| {
            let moto: Vec<u64> = m
                .calls
                .iter()
                .map(|c| c.get(op).copied().unwrap_or(0))
                .collect();
            (
                op,
                json!({"moto": moto, "simulated": sim_calls.get(op).copied().unwrap_or(0)}),
            )
        })
        .collect();
    json!({
        "mode": m.mode,
        "measured_wall_s": measured,
        "measured_walls_s": m.walls,
        "simulated_wall_s": simulated,
        "error": error,
        "within_tolerance": error.abs() <= CALIBRATION_TOLERANCE,
        "calls_match": m.calls.iter().all(same),
        "calls": calls,
        "latency_ms": m.latency_ms,
        "concurrency": m.concurrency,
    })
}

/// Whether a hub outcome checked every account of its first sweep with `margin` to spare:
/// its last check within budget / margin.
fn within(outcome: &Value, margin: f64) -> bool {
    let sweep = &outcome["sweeps"][0];
    let accounts = outcome["scenario"]["accounts"].as_u64().unwrap_or(0);
    let budget = outcome["budget_s"].as_f64().unwrap_or(0.0);
    sweep["accounts_checked"].as_u64() == Some(accounts)
        && sweep["last_checked_s"]
            .as_f64()
            .is_some_and(|t| t * margin <= budget)
}

/// The suite's results file: the model, the calibration, the hub, the curve, the large
/// organization, and the verdicts.
pub fn assemble(
    moto: &[Measured],
    outcomes: &BTreeMap<String, Value>,
    sizes: Sizes,
    seed: u64,
) -> Value {
    let calibration: Vec<Value> = moto
        .iter()
        .filter_map(|m| {
            outcomes
                .get(&format!("calibration/{}", m.mode))
                .map(|o| compare(m, o))
        })
        .collect();
    let curve: Vec<Value> = STARTS
        .iter()
        .flat_map(|(start, _)| CONCURRENCIES.iter().map(move |c| (*start, *c)))
        .flat_map(|(start, c)| LATENCY_SCALES.iter().map(move |s| (start, c, *s)))
        .filter_map(|(start, c, s)| {
            let o = outcomes.get(&format!("curve/{start}/{c}/{s}"))?;
            let sweep = &o["sweeps"][0];
            Some(json!({
                "start": start,
                "concurrency": c,
                "latency_scale": s,
                "accounts": o["scenario"]["accounts"],
                "accounts_checked": sweep["accounts_checked"],
                "runs_not_checked": sweep["runs_not_checked"],
                "runs_unreachable": sweep["runs_unreachable"],
                "listing_s": sweep["listing_s"],
                "sweep_started_s": sweep["sweep_started_s"],
                "last_checked_s": sweep["last_checked_s"],
                "wall_s": sweep["wall_s"],
                "timed_out": sweep["timed_out"],
                "calls": sweep["net"]["calls"],
                "throttled": sweep["net"]["throttled"],
                "retries": sweep["net"]["retries"],
                "timed_out_calls": sweep["net"]["timed_out"],
                "assume_role_throttled": sweep["net"]["by_api"]["sts:AssumeRole"]["throttled"],
                "peak_calls_in_flight": sweep["net"]["peak_calls_in_flight"],
                "peak_rss_kib": o["peak_rss_kib"],
                "all_within_half_budget": within(o, 2.0),
            }))
        })
        .collect();
    // By start: the smallest concurrency of the curve that checks every account in half the
    // budget at the default latency and at twice it.
    let holds = |start: &str, c: usize, s: f64| {
        outcomes
            .get(&format!("curve/{start}/{c}/{s}"))
            .is_some_and(|o| within(o, 2.0))
    };
    let by_start = |f: &dyn Fn(&str) -> Value| -> Value {
        STARTS
            .iter()
            .map(|(start, _)| ((*start).to_owned(), f(start)))
            .collect::<serde_json::Map<String, Value>>()
            .into()
    };
    let smallest =
        |s: f64| by_start(&|start| json!(CONCURRENCIES.iter().find(|c| holds(start, **c, s))));
    let get = |key: &str| outcomes.get(key).cloned().unwrap_or(Value::Null);
    let every = |o: &Value| o["accounts_checked_in_any"] == o["scenario"]["accounts"];
    let large_keys = [
        ("warm", "large/warm"),
        ("cold", "large/cold"),
        ("cold_first", "large/cold-first"),
    ];
    let large: serde_json::Map<String, Value> = large_keys
        .iter()
        .map(|(k, key)| ((*k).to_owned(), get(key)))
        .collect();
    let large_every: serde_json::Map<String, Value> = large_keys
        .iter()
        .map(|(k, key)| ((*k).to_owned(), json!(every(&get(key)))))
        .collect();
    json!({
        "seed": seed,
        "sizes": {"hub": sizes.hub, "large": sizes.large},
        "model": catalogue(),
        "retry": {"hub": HUB_RETRY, "organizations": ORGANIZATIONS_RETRY,
                  "quota": {"capacity": quota::CAPACITY, "throttling_cost": quota::THROTTLING_COST,
                            "timeout_cost": quota::TIMEOUT_COST, "success_reward": quota::SUCCESS_REWARD}},
        "throttle_share": THROTTLE_SHARE,
        "page_size": {"aws": AWS_PAGE_SIZE, "moto": MOTO_PAGE_SIZE},
        "lambda": {"timeout_s": secs(HUB_TIMEOUT), "deadline_margin_s": secs(DEADLINE_MARGIN),
                   "budget_s": secs(HUB_TIMEOUT - DEADLINE_MARGIN), "schedule_s": SCHEDULE,
                   "rotation_s": ROTATION_SECONDS, "scope_refresh_s": secs(SCOPE_REFRESH),
                   "scope_max_age_s": secs(SCOPE_MAX_AGE)},
        "calibration": calibration,
        "calibration_tolerance": CALIBRATION_TOLERANCE,
        "default_concurrency": default_concurrency(),
        "hub": by_start(&|start| get(&format!("hub/{start}"))),
        "hub_within_half_budget": by_start(&|start| json!(within(&get(&format!("hub/{start}")), 2.0))),
        "curve": curve,
        "smallest_concurrency_within_half_budget": smallest(1.0),
        "smallest_concurrency_within_half_budget_at_double_latency": smallest(2.0),
        "large": large,
        "large_every_account_checked": large_every,
    })
}
