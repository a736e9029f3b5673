"""The section "Organization scale, simulated" of docs/benchmarks.md, from
bench/results/org-sim.json (written by `./scripts/bench org-sim`, crates/sim). Used by
bench/render.py; `org` is bench/results/org.json when present (for the CPU estimate)."""

HUB_MEMORY_MB = 512    # the hub stack's function memory (cdk/lib/hub-stack.ts)
ONE_VCPU_MB = 1769     # Lambda: "At 1,769 MB, a function has the equivalent of one vCPU"


def fmt_n(n):
    return "–" if n is None else f"{n:,}"


def fmt_s(x):
    return "–" if x is None else (f"{x:.2f} s" if x < 10 else f"{x:.0f} s")


def pct(x):
    return f"{x * 100:+.1f}%"


def verdict(ok):
    return "met" if ok else "**missed**"


def first(outcome):
    return (outcome or {}).get("sweeps", [{}])[0]


def checked_line(outcome, budget):
    """'X of N checked, the last at T s (how the listing went): margin M×'."""
    s, n = first(outcome), outcome["scenario"]["accounts"]
    last, started = s["last_checked_s"], s["sweep_started_s"]
    margin = budget / last if last else 0
    lost = []
    if s["runs_not_checked"]:
        lost.append(f"{fmt_n(s['runs_not_checked'])} not started before the deadline")
    if s["runs_unreachable"]:
        lost.append(f"{fmt_n(s['runs_unreachable'])} unreachable (a call that failed after its retries)")
    if s.get("listed_while_sweeping"):
        how = (f"the sweep at once, taking the accounts as the listing brought them; the listing "
               f"ended at {fmt_s(s['listing_s'])}")
    elif s["listed_first"]:
        how = f"listing the organization {fmt_s(started)}, then the sweep {fmt_s(last - started)}"
    elif s["listed_beside"]:
        how = f"the sweep at once; the listing beside it ended at {fmt_s(s['listing_s'])}, for the next sweep"
    else:
        how = "the sweep alone"
    text = (f"{fmt_n(s['accounts_checked'])} of {fmt_n(n)} checked, the last at {fmt_s(last)} "
            f"({how}): a {margin:.1f}× margin on the budget")
    return text + (f"; {', '.join(lost)}" if lost else "")


def listing_of(sweep):
    if sweep.get("listed_while_sweeping"):
        cut = " (cut by the deadline)" if sweep.get("listing_cut") else ""
        return f"as it swept, ending at {fmt_s(sweep['listing_s'])}{cut}"
    if sweep["listed_first"]:
        return f"first, {fmt_s(sweep['listing_s'])}"
    if sweep["listed_beside"]:
        return f"beside, ending at {fmt_s(sweep['listing_s'])}"
    return "none"


def large_line(outcome, timeout):
    sweeps = outcome["sweeps"]
    per = ", ".join(f"{fmt_n(s['accounts_checked'])}" for s in sweeps)
    n = outcome["scenario"]["accounts"]
    ended = [str(i + 1) for i, s in enumerate(sweeps) if s["timed_out"]]
    return (f"checked per sweep {per}; every one of the {fmt_n(n)} in at least one: "
            f"{fmt_n(outcome['accounts_checked_in_any'])} (the listing: "
            + "; ".join(listing_of(s) for s in sweeps) + f", of the function's {timeout:.0f} s"
            + (f"; sweep {', '.join(ended)} ran past it" if ended else "") + ")")


def target_verdict(outcome, ok, budget):
    """met; or missed, saying whether by time, by the deadline or by accounts that failed."""
    if ok:
        return "met"
    s, why = first(outcome), []
    if s["last_checked_s"] * 2 > budget:
        why.append(f"by time ({budget / s['last_checked_s']:.1f}× margin, not 2×)")
    if s["runs_not_checked"]:
        why.append(f"{fmt_n(s['runs_not_checked'])} not started before the deadline")
    if s["runs_unreachable"]:
        why.append(f"by {fmt_n(s['runs_unreachable'])} account(s) whose calls failed after their retries"
                   + ("; in time" if not why else ""))
    return "**missed** " + ", and ".join(why)


def large_verdict(outcome, ok, budget):
    """met; or missed, saying what took the sweeps' time."""
    if ok:
        return "met"
    sweeps, why = outcome["sweeps"], []
    missing = outcome["scenario"]["accounts"] - outcome["accounts_checked_in_any"]
    if missing:
        why.append(f"{fmt_n(missing)} account(s) checked in none of the sweeps")
    ended = sum(1 for s in sweeps if s["timed_out"])
    if ended:
        why.append(f"{ended} ran past the function's timeout")
    return "**missed**" + (": " + "; ".join(why) if why else "")


def section(d, org=None):
    budget = d["lambda"]["budget_s"]
    half = budget / 2
    default = d["default_concurrency"]
    hub = d["hub"]
    hub_n = hub["warm"]["scenario"]["accounts"]
    large_n = d["large"]["warm"]["scenario"]["accounts"]
    cal = {c["mode"]: c for c in d["calibration"]}
    out = ["## Organization scale, simulated", "",
           "The hub at 10,000 and 30,000 accounts, where moto cannot go (issue 27): the real "
           "organization sweep — `flowguard_core::sweep::sweep`, the function the hub runs, with its "
           "concurrency, its deadline and the fair order `AccountScope::sweep_order` at the schedule's "
           "time — over the in-memory fake, where each port call costs the AWS calls the real adapter "
           "makes for it, each call takes a latency drawn from a per-API distribution, answers "
           "throttling at AWS's request rates and at a background share, and is retried as the SDK's "
           "standard strategy retries it. It runs on tokio's paused clock: simulated time jumps from "
           "one call's end to the next, so a 10,000-account sweep takes about a second of real time, "
           "and the same seed gives the same figures. `crates/sim` (`flowguard-sim`), "
           "`./scripts/bench org-sim`.", "",
           f"Built from `{d.get('commit', '?')}`; seed {d['seed']}; {len(d['calibration']) + len(hub) + len(d['curve']) + len(d['large'])} scenarios, each in its "
           f"own process, in {d.get('duration_s', '?')} s of real time on the machine above. Every hub scenario: "
           f"one region, 5 VPCs an account seeded as the moto benchmark seeds them (70% to remediate), "
           f"enforcing (the hub's default), {d['throttle_share'] * 100:g}% of calls answered with throttling "
           f"on top of AWS's rates, the function's {d['lambda']['timeout_s']:.0f} s timeout less its "
           f"{d['lambda']['deadline_margin_s']:.0f} s deadline margin: a budget of {budget:.0f} s from the "
           f"invocation's start. The account list as the hub keeps it: **warm**, a sweep starts at once on "
           f"the list kept from the sweep an hour before (up to {d['lambda']['scope_max_age_s'] / 3600:.0f} h "
           f"old) and lists the organization again beside itself, for the next sweep (the invocation "
           f"ends when both have); **cold** (a new execution environment: no list, no accounts due), "
           f"the sweep starts at once on no list and takes the accounts as the listing's pages bring "
           f"them, in the fair order, inside the budget.", ""]

    out += ["### Targets (issue 27)", "",
            "| target | simulated | |", "|---|---|---|"]
    for mode in ("audit", "sweep"):
        c = cal.get(mode)
        if not c:
            continue
        total = sum(v["simulated"] for v in c["calls"].values())
        out.append(f"| calibration, {mode}: the calls by API that moto's benchmark counted at 100 accounts × 3 "
                   f"regions | {total:,} calls, {'each operation as many as moto counted in every run' if c['calls_match'] else 'not as moto counted'} "
                   f"| {verdict(c['calls_match'])} |")
        out.append(f"| calibration, {mode}: wall time within {d['calibration_tolerance'] * 100:.0f}% of moto's, "
                   f"with moto's per-call latency | {c['simulated_wall_s']:.2f} s against {c['measured_wall_s']:.2f} s "
                   f"measured (median of {', '.join(f'{w:.2f}' for w in c['measured_walls_s'])} s): "
                   f"{pct(c['error'])} | {verdict(c['within_tolerance'])} |")
    for start, what in (("warm", f"{fmt_n(hub_n)} accounts, default latency: every account checked within "
                                 f"half the budget ({half:.0f} s) — (a) warm, the list kept from the sweep "
                                 f"an hour before"),
                        ("cold", "the same — (b) a cold start, the organization listed as the sweep goes")):
        o = hub[start]
        out.append(f"| {what} | at the default concurrency, {default}: {checked_line(o, budget)} "
                   f"| {target_verdict(o, d['hub_within_half_budget'][start], budget)} |")
    every = d["large_every_account_checked"]
    timeout = d["lambda"]["timeout_s"]
    for key, what in (("warm", "warm at every sweep (the list kept; the accounts left due taken first)"),
                      ("cold", "a cold start at every sweep (no list, nothing due)"),
                      ("cold_first", "a cold start, then warm")):
        o = d["large"].get(key)
        if o:
            out.append(f"| {fmt_n(large_n)} accounts: every account checked within 3 scheduled sweeps an hour "
                       f"apart — {what} | {large_line(o, timeout)} | {large_verdict(o, every[key], budget)} |")
    rss = max(o.get("peak_rss_kib", 0) for o in hub.values()) / 1024
    out += [f"| peak RSS at {fmt_n(hub_n)} accounts (issue 27, item 4: at most 96 MiB) | {rss:.0f} MiB: the "
            f"simulation's whole process (the engine, its organization report, the fakes of the runs in flight) "
            f"| {verdict(rss <= 96)} |", ""]

    out += findings(d, org)
    out += choice(d)
    out += curve(d)
    out += model(d)
    out += calibration(d)
    out += notes(d)
    return out


def findings(d, org):
    hub, default, budget = d["hub"], d["default_concurrency"], d["lambda"]["budget_s"]
    warm, cold = first(hub["warm"]), first(hub["cold"])
    timeout = d["lambda"]["timeout_s"]
    n = hub["warm"]["scenario"]["accounts"]
    pages = -(-(n + 1) // d["page_size"]["aws"])
    large = d["large"]["warm"]
    big = large["scenario"]["accounts"]
    lpages = -(-(big + 1) // d["page_size"]["aws"])
    lcold = first(d["large"]["cold"])
    beside = max(s["listing_s"] for s in large["sweeps"] if s["listed_beside"])
    same = warm["net"]["calls"] == cold["net"]["calls"] and warm["runs_checked"] == cold["runs_checked"]
    curve = {(c["concurrency"], c["latency_scale"]): c for c in d["curve"] if c["start"] == "warm"}
    ended = any(s["timed_out"] for o in d["large"].values() for s in o["sweeps"])
    out = ["### What limits the hub", "",
           f"- **Listing the organization.** Organizations' `ListAccounts` gives 20 accounts a page, one "
           f"page after the other: {pages} pages take {fmt_s(cold['listing_s'])} at {fmt_n(n)} accounts, "
           f"{lpages} pages {fmt_s(lcold['listing_s'])} at {fmt_n(big)}; no concurrency shortens it. The "
           f"hub no longer waits for it. Warm, its sweep starts at once on the kept list and the listing "
           f"runs beside it, for the next sweep. Cold, the sweep starts at once on no list and takes the "
           f"accounts as the pages bring them: whenever a run may start it takes the first waiting "
           f"account in the fair order (`flowguard_core::sweep::sweep`, a priority queue fed by "
           f"`Directory::listing`), so a cold sweep takes about as long as the longer of listing and "
           f"sweeping, not their sum. At {fmt_n(n)} accounts the warm sweep's last check is at "
           f"{fmt_s(warm['last_checked_s'])} (the listing beside it ends at {fmt_s(warm['listing_s'])}); "
           f"the cold one's at {fmt_s(cold['last_checked_s'])}, a {budget / cold['last_checked_s']:.1f}× "
           f"margin (listing first, as the hub did before commit 264b7ba, it ended at 650 s, 1.3×). At {fmt_n(big)} "
           f"the listing takes nearly the whole budget; the fair order's key needs no other account (a "
           f"point on a circle of account hashes, the clock hand half way round an hour), so the "
           f"accounts whose turn it is are taken as soon as they are listed and two sweeps cover the "
           f"circle, cold or warm. The invocation awaits the listing beside a warm sweep, and at "
           f"{fmt_n(big)} accounts it ends at up to {fmt_s(beside)} of the function's {timeout:.0f} s "
           f"timeout" + (" (it ran past it here)" if ended else " (none ran past it here)")
           + ". Were it to run past the timeout, Lambda would reset the environment (\"If the Lambda "
           "function crashes or times out during the Invoke phase, Lambda resets the execution "
           "environment\": https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html), "
           "losing the list and the accounts due; so the hub ends a listing, beside a sweep or read as "
           "it goes, at the invocation's deadline (`Controller::handle_trigger`): a listing cut short "
           "keeps the last good list, and the next sweep lists again.",
           "- **Whether the hub is warm.** The list and the accounts due live only in a warm execution "
           "environment, and AWS does not say how long an idle one lives; outside measurements put it at "
           "10 minutes (https://mikhail.io/2019/08/aws-lambda-cold-starts-after-10-minutes/) to 45–60 "
           "(http://theburningmonk.com/2017/06/finding-coldstarts-how-long-does-aws-lambda-keep-your-idle-functions-around/), "
           "and an hourly sweep leaves it idle for three quarters of an hour or more: a scheduled sweep is "
           "often a cold start. The cold rows above are what the hub can count on; the warm ones are its "
           "better case, not its usual one."]
    # Where accounts were lost to failed calls (not to the deadline): the STS edge.
    collapse = [c for c in curve.values() if c["runs_unreachable"] > 0.01 * c["accounts"]]
    fast = curve.get((default, 0.5))
    if collapse:
        c = min(collapse, key=lambda c: c["concurrency"])
        out.append(
            f"- **STS above the default concurrency.** Every member session's `AssumeRole` comes from the "
            f"hub's account, against one STS rate (AWS publishes none; the model takes a pessimistic "
            f"100 per second), and its retries draw on one retry quota for the whole process (the SDK's "
            f"`sts-<region>` partition, 500 tokens, 5 per throttled retry). When calls are fast "
            f"(half the default latency) and many accounts run at once, `AssumeRole` outruns the rate, "
            f"the quota drains, and every throttled `AssumeRole` then fails without a retry: at "
            f"concurrency {c['concurrency']}, {fmt_n(c['accounts_checked'])} of {fmt_n(c['accounts'])} "
            f"accounts checked, {fmt_n(c['runs_unreachable'])} unreachable "
            f"({fmt_n(c['assume_role_throttled'])} `AssumeRole` calls throttled at latency ×{c['latency_scale']:g}).")
        if fast and fast["runs_unreachable"] <= 0.01 * fast["accounts"]:
            out[-1] += (f" The default, {default}, stays below that edge at half the latency "
                        f"({fmt_n(fast['runs_unreachable'])} unreachable): a fixed concurrency is "
                        f"enough, adaptive concurrency is not needed for it.")
    calm = [c for c in curve.values() if c["latency_scale"] == 1.0 and c["concurrency"] <= default]
    tail, runs = sum(c["runs_unreachable"] for c in calm), len(calm)
    out.append(
        f"- **Slow tails.** Now and then an account's `AssumeRole` times out twice (the model's p99.9 "
        f"for it is about 6 s, beyond the 4 s attempt timeout, and the operation ends at 6 s). The "
        f"sweep takes such a run (throttled or timed out beyond the SDK's retries) once more, before "
        f"any account not started yet, and reports it once; only a second failure leaves it "
        f"`unreachable`, retryable, for the next sweep to take first: {fmt_n(warm['runs_unreachable'])} "
        f"in the default run above, {fmt_n(tail)} over the {runs} runs of the curve at latency ×1 up "
        f"to the default concurrency.")
    if org and "1000x1" in org.get("points", {}):
        fig = org["points"]["1000x1"][0]["sweep"]["flowguard"]
        per = fig["cpu_s"] / 1000
        share = HUB_MEMORY_MB / ONE_VCPU_MB
        out.append(
            f"- **CPU is not simulated.** The CLI's sweep on moto used {per * 1000:.1f} ms of CPU per "
            f"account×region at 1000 × 1 (bench/results/org.json, start-up and listing included): "
            f"{fmt_n(n)} runs would need about {per * n:.0f} CPU-seconds, and the hub's {HUB_MEMORY_MB} MB "
            f"function has {share:.2f} of a vCPU (Lambda gives one vCPU at {ONE_VCPU_MB:,} MB: "
            f"https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html): some "
            f"{per * n / share:.0f} s, of the same order as the simulated sweep. At that size the hub's "
            f"memory setting (its CPU) needs measuring on AWS.")
    out.append("")
    return out


def choice(d):
    """Why the default concurrency is what it is, from the curve (warm: the sweep alone)."""
    default, budget = d["default_concurrency"], d["lambda"]["budget_s"]
    by = {(c["start"], c["concurrency"], c["latency_scale"]): c for c in d["curve"]}
    here, fast, slow = (by.get(("warm", default, s)) for s in (1.0, 0.5, 2.0))
    slow_cold = by.get(("cold", default, 2.0))
    if not (here and fast and slow and slow_cold):
        return []
    concs = sorted({c for _, c, _ in by})
    lower = [c for c in concs if c < default]
    below = by.get(("warm", lower[-1], 1.0)) if lower else None
    edge = [f"{c}: {fmt_n(by[('warm', c, 0.5)]['runs_unreachable'])}" for c in concs
            if c > default and ("warm", c, 0.5) in by]
    out = ["### The hub's concurrency", "",
           f"The default is {default} (`crates/core/facts.json`, which the CDK app reads: "
           f"`FLOWGUARD_CONCURRENCY`), chosen from the curve below. At the default latency a warm "
           f"sweep takes {fmt_s(here['last_checked_s'])} for {fmt_n(here['accounts'])} accounts, "
           f"a {budget / here['last_checked_s']:.1f}× margin on the budget"
           + (f" (at {lower[-1]}: {fmt_s(below['last_checked_s'])}, "
              f"{budget / below['last_checked_s']:.1f}×)" if below else "")
           + f"; at half the latency it stays below the STS edge ({fmt_n(fast['runs_unreachable'])} "
           f"accounts unreachable; above it: " + ", ".join(edge) + "); at twice the latency a warm "
           f"invocation checks {fmt_n(slow['accounts_checked'])} by {fmt_s(slow['last_checked_s'])}, a "
           f"cold one {fmt_n(slow_cold['accounts_checked'])} by {fmt_s(slow_cold['last_checked_s'])}, and the next sweep takes "
           "the rest first. A fixed concurrency: below the STS edge the simulation shows "
           "no need for an adaptive one (backing off on throttling); it would matter only above the "
           "edge, where a lower setting does as well. `FLOWGUARD_CONCURRENCY` still takes 1 to 128.", ""]
    return out


def curve(d):
    scales = sorted({c["latency_scale"] for c in d["curve"]})
    concs = sorted({c["concurrency"] for c in d["curve"]})
    by = {(c["start"], c["concurrency"], c["latency_scale"]): c for c in d["curve"]}
    n = d["curve"][0]["accounts"] if d["curve"] else 0
    half = d["lambda"]["budget_s"] / 2
    out = ["### Accounts checked in time, against concurrency and latency", "",
           f"{fmt_n(n)} accounts, one scheduled sweep, warm / cold (the organization listed as the sweep goes); "
           f"latency: every API's distribution times the factor (×1: the model below). Each cell: "
           f"accounts checked before the deadline, and when the last was, from the invocation's start. "
           f"✓: every account checked within half the budget ({half:.0f} s).", "",
           "| concurrency | " + " | ".join(f"latency ×{s:g}, warm / cold" for s in scales) + " |",
           "|---:|" + "---|" * len(scales)]

    def cell(x):
        if not x:
            return "–"
        mark = " ✓" if x["all_within_half_budget"] else ""
        return f"{fmt_n(x['accounts_checked'])} by {fmt_s(x['last_checked_s'])}{mark}"

    for c in concs:
        cells = [f"{cell(by.get(('warm', c, s)))} / {cell(by.get(('cold', c, s)))}" for s in scales]
        label = f"**{c}** (default)" if c == d["default_concurrency"] else str(c)
        out.append(f"| {label} | " + " | ".join(cells) + " |")
    out += ["", "At latency ×1, warm, what the network saw (the listing beside the sweep included):", "",
            "| concurrency | calls | throttled | of them `AssumeRole` | retries | timed out | peak calls in flight | peak RSS |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for c in concs:
        x = by.get(("warm", c, 1.0))
        if x:
            out.append(f"| {c} | {fmt_n(x['calls'])} | {fmt_n(x['throttled'])} | {fmt_n(x['assume_role_throttled'])} "
                       f"| {fmt_n(x['retries'])} | {fmt_n(x['timed_out_calls'])} | {fmt_n(x['peak_calls_in_flight'])} "
                       f"| {x['peak_rss_kib'] / 1024:.0f} MiB |")
    out.append("")
    return out


def model(d):
    out = ["### The model, and where each number comes from", "",
           "| operation | latency p50 / p99 (mean) | AWS's rate (burst, per second) | counted against | source of the rate |",
           "|---|---|---|---|---|"]
    for r in d["model"]:
        lim = r["limit"]
        out.append(f"| `{r['api']}` | {r['p50_ms']:.0f} / {r['p99_ms']:.0f} ms ({r['mean_ms']:.0f} ms) "
                   f"| {lim['burst']:g}, {lim['per_second']:g} | {'the hub' if r['on_hub'] else 'each member account×region'} "
                   f"| {lim['source']} |")
    h, o, q = d["retry"]["hub"], d["retry"]["organizations"], d["retry"]["quota"]
    out += ["",
            "- **Latency** is an assumption: AWS publishes no latency for these control-plane calls. "
            "Log-normal, p50 150 ms and p99 1.5 s for the calls in a member account (issue 27's "
            "default); `AssumeRole` and Organizations slower, p50 300 ms and p99 3 s. The curve scales "
            "all of them.",
            f"- **Throttling**: AWS's rates above as token buckets (a throttled call takes no token), "
            f"plus {d['throttle_share'] * 100:g}% of all attempts answered with throttling whatever the "
            "rate (other callers in the same accounts). A throttled attempt takes its latency too.",
            f"- **Retries**, as crates/aws configures the SDK's standard strategy: {h['attempts']} attempts, "
            f"the n-th retry after a uniform draw in [0, min({h['initial_backoff']:g} s · 2ⁿ⁻¹, "
            f"{h['max_backoff']:g} s)), {h['attempt_timeout']:g} s per attempt (longer is a timeout, retried), "
            f"{h['operation_timeout']:g} s per operation; Organizations {o['attempts']} attempts, backoff from "
            f"{o['initial_backoff']:g} s (the SDK's default) up to {o['max_backoff']:g} s, {o['operation_timeout']:g} s "
            f"per operation. The client-side retry quota (aws-smithy-runtime 1.16.2): {q['capacity']} tokens "
            f"per retry partition, {q['throttling_cost']} per retry of a throttled call, {q['timeout_cost']} "
            f"of a timeout, {q['success_reward']} back for a first attempt that succeeds; each member "
            f"account's EC2 and CloudWatch Logs clients have their own partition, STS and Organizations "
            f"one each for the whole hub.",
            "- **Calls per port method** (crates/sim/src/ports.rs): `vpcs` one `ec2:DescribeVpcs` (one "
            "per 200 ids); `flow_logs` one `ec2:DescribeFlowLogs` (one per 200 VPC ids); `log_groups` "
            "one `logs:DescribeLogGroups` per 50 distinct names, 4 at once; `create_flow_logs` one "
            "`ec2:CreateFlowLogs`; `vpcs_of` (after a round whose creates named several VPCs) one "
            "`ec2:DescribeFlowLogs` per 1000 new ids (which flow log is each VPC's); `create_log_group`, `put_retention_policy`, `delete_flow_logs` one "
            "each; `verify_delivery_role` one `iam:GetRole` per account, before its first flow log; a "
            "member account's first call waits for its session, one `sts:AssumeRole` shared by "
            f"its regions. The organization: `organizations:ListAccounts`, {d['page_size']['aws']} accounts "
            f"a page on AWS ({d['page_size']['moto']} on moto, which honours `MaxResults` as AWS does).",
            ""]
    return out


def calibration(d):
    out = ["### Calibration against moto", "",
           "The moto benchmark's point 100 accounts × 3 regions (bench/results/org.json): the CLI's "
           "`audit` and `apply --organization` as it ran them (concurrency "
           f"{d['calibration'][0]['concurrency'] if d['calibration'] else '?'}, no deadline, the accounts in "
           "order, `GetCallerIdentity` first), each call taking moto's measured mean time for its "
           "operation (`upstream_ms` / calls through the counting proxy, over the three runs), no "
           "throttling. moto serves one request at a time in effect, but its per-call times were "
           "measured under that same concurrency, so they already hold its queueing: a one-worker "
           "server model was not needed to come within the tolerance.", "",
           "| operation | moto's time per call (audit; sweep) | calls, moto (audit; sweep) | calls, simulated |",
           "|---|---:|---:|---:|"]
    by = {c["mode"]: c for c in d["calibration"]}
    ops = sorted({op for c in d["calibration"] for op in c["calls"]})
    for op in ops:
        ms = "; ".join(f"{by[m]['latency_ms'].get(op, 0):.1f} ms" for m in ("audit", "sweep") if m in by)
        moto = "; ".join(f"{by[m]['calls'].get(op, {}).get('moto', [0])[0]}" for m in ("audit", "sweep") if m in by)
        sim = "; ".join(f"{by[m]['calls'].get(op, {}).get('simulated', 0)}" for m in ("audit", "sweep") if m in by)
        out.append(f"| `{op}` | {ms} | {moto} | {sim} |")
    out.append("")
    return out


def notes(d):
    return ["### Method notes (simulation)", "",
            "- A current-thread tokio runtime started paused; the engine's `Deadline` reads the "
            "simulation's clock (`Deadline::now`), every other clock is the runtime's. Each run's draws "
            "come from its own generator, seeded from the scenario's seed, the sweep, the account and the "
            "region, so they do not depend on how the runs interleave (`crates/sim/tests/sim.rs`: the same "
            "seed gives the same figures).",
            "- An account×region's fake is made from the seed when its run starts and dropped when it "
            "ends, so the process's peak RSS (VmHWM, each scenario in its own process) is the engine's "
            "and its report's, not a fake organization's. Every sweep starts from the seeded state: "
            "the work of a first sweep in every account, the most.",
            "- Sweeps are an hour apart on the simulated clock (AWS's rate buckets refill between "
            "them). A cold start is a new process: no list, no accounts due, full retry quotas; its "
            "Init itself is not modelled, nor are CPU (see above), more than one page per listing in an "
            "account (5 VPCs), connection set-up, the identity cache's own 5 s load timeout, Lambda's "
            "retries of a failed invocation, and the organization's quota (AWS grants up to 10,000 "
            "accounts: 30,000 is beyond it).",
            "- The moto benchmark counts a region's calls of the CLI; the hub makes the same per "
            "account×region (the one sweep loop), without `GetCallerIdentity` (made at its cold start).",
            ""]
