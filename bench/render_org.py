"""The organization section of docs/benchmarks.md (bench/results/org.json, written by
`./scripts/bench org`) and its plot, docs/benchmarks-org.png. Used by bench/render.py."""

import math
import statistics

TOOLS = ("flowguard", "c7n-org", "c7n-org-matched")
# Calls a tool makes for the organization or the caller, not for one account×region.
HUB_OPS = ("sts:AssumeRole", "sts:GetCallerIdentity", "organizations:ListAccounts",
           "organizations:ListAccountsForParent", "organizations:ListOrganizationalUnitsForParent",
           "iam:GetRole")
LAMBDA_TIMEOUT_S = 900    # the hub stack's function timeout (Lambda's maximum)
DEADLINE_MARGIN_S = 32    # what the Lambda keeps back before its deadline
HUB_MEMORY_MB = 512       # the hub stack's function memory (cdk/lib/hub-stack.ts)
LATENCIES_MS = (100, 300)  # per AWS call: an assumption, see the text


def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt_s(x):
    return "–" if x is None else (f"{x:.3f} s" if x < 1 else f"{x:.2f} s" if x < 100 else f"{x:.0f} s")


def fmt_ratio(x):
    return "–" if x is None else (f"{x:.3f}" if x < 0.1 else f"{x:.2f}")


def verdict(ok):
    return "met" if ok else "**missed**"


def shape(point):
    a, r = point.split("x")
    return int(a), int(r)


def assume(fig):
    return fig["by_operation"].get("sts:AssumeRole", {}).get("calls", 0)


def per_account_region(fig, point):
    """Calls for the account×regions themselves (no STS, Organizations, IAM role check),
    per account×region, by operation."""
    a, r = shape(point)
    return {op: o["calls"] / (a * r) for op, o in sorted(fig["by_operation"].items())
            if op not in HUB_OPS}


class Org:
    def __init__(self, data, compare=None, instructions=None):
        self.d = data
        self.compare = compare
        # bench/results/org-instructions-COMMIT.json (./scripts/bench org-instructions), oldest
        # first; the growth target reads the one of the binary that was timed (same commit).
        self.instr_all = instructions or []
        self.instr = next((r for r in self.instr_all if r.get("commit") == data.get("commit")), None)
        # The results file sorts its keys: the full points by accounts, then the others.
        self.points = sorted(data["points"], key=lambda p: (shape(p)[1] != len(data["regions"]), shape(p)[0]))
        workers = data.get("c7n_org_default_workers")
        self.label = {"flowguard": "flowguard",
                      "c7n-org": f"c7n-org ({workers} workers, its default)" if workers else "c7n-org (default)",
                      "c7n-org-matched": f"c7n-org ({data['concurrency']} workers)"}
        self.short = {"flowguard": "flowguard", "c7n-org": f"c7n-org {workers or 'default'}w",
                      "c7n-org-matched": f"c7n-org {data['concurrency']}w"}

    def runs(self, point):
        return self.d["points"][point]

    def tools(self, point):
        return [t for t in TOOLS if t in self.runs(point)[0]["audit"]]

    def m(self, point, mode, tool, key):
        return med([r[mode][tool][key] for r in self.runs(point)])

    def ratio(self, point, mode, other, key):
        return med([r[mode]["flowguard"][key] / r[mode][other][key]
                    for r in self.runs(point) if r[mode][other][key]])

    def target_point(self):
        want = [p for p in self.points if shape(p)[0] == 100 and "c7n-org" in self.runs(p)[0]["audit"]]
        both = [p for p in self.points if "c7n-org" in self.runs(p)[0]["audit"]]
        return (want or both or [None])[0]

    # ------------------------------------------------------------ plot
    def plot(self, path):
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import matplotlib.ticker
        colors = {"flowguard": "#1b7f3b", "c7n-org": "#8a8f98", "c7n-org-matched": "#4a5a8a"}
        fig, axes = plt.subplots(1, 2, figsize=(11, 4.6))
        nregions = len(self.d["regions"])
        pts = [p for p in self.points if shape(p)[1] == nregions]
        xs_all = [shape(p)[0] for p in pts]
        for ax, key, title in ((axes[0], "wall_s", "wall time"), (axes[1], "cpu_s", "client CPU (user+sys, process tree)")):
            for tool in TOOLS:
                for mode, style in (("sweep", "-"), ("audit", "--")):
                    xs, ys = [], []
                    for p in pts:
                        if tool in self.runs(p)[0][mode]:
                            xs.append(shape(p)[0])
                            ys.append(self.m(p, mode, tool, key))
                    if not xs:
                        continue
                    ax.plot(xs, ys, style, marker="o", color=colors[tool], linewidth=2 if mode == "sweep" else 1.2,
                            label=f"{self.short[tool]} {mode}")
                    if mode == "sweep":
                        for x, y in zip(xs, ys):
                            ax.annotate(f"{y:.2f}" if y < 10 else f"{y:.0f}", (x, y), textcoords="offset points",
                                        xytext=(0, -13 if tool == "flowguard" else 6), ha="center", fontsize=7,
                                        color=colors[tool])
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xticks(xs_all)
            ax.set_xticklabels([str(x) for x in xs_all])
            ax.set_xlabel(f"member accounts (× {nregions} regions × {self.d['vpcs_per_region']} VPCs)")
            ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda y, _: f"{y:g}"))
            ax.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
            ax.set_ylabel("s")
            ax.set_title(title)
            ax.grid(True, which="both", alpha=0.3)
        axes[0].legend(fontsize=7, loc="upper left")
        fig.suptitle(f"Organization audit and sweep: flowguard vs c7n-org {self.d['versions']['c7n_org']} on moto "
                     f"(median of the runs)", fontsize=11)
        fig.tight_layout()
        fig.savefig(path, dpi=110)

    # ------------------------------------------------------------ text
    def section(self, plot_name=None):
        d = self.d
        v = d["versions"]
        regions = ", ".join(d["regions"])
        out = ["## Organization mode and c7n-org, side by side", "",
               f"flowguard's organization mode (`flowguard audit|apply --organization`) against "
               f"[c7n-org](https://cloudcustodian.io/docs/tools/c7n-org.html) {v['c7n_org']} (with c7n "
               f"{v['c7n']}, boto3 {v['boto3']}), Cloud Custodian's runner for many accounts, on one moto "
               "server, on the same machine, in the same run (issues 13 and 15). Every figure is the median "
               "of the runs; every ratio is flowguard/c7n-org computed within one run, then the median.", "",
               "- **The organization.** moto's default account 123456789012 is the management account and",
               "  the hub; A member accounts (Organizations `CreateAccount`), each with the member role",
               "  `flowguard-member` and the delivery role `flowguard-delivery`, and in each region "
               f"({regions}) the log groups `/vpc/flow-logs` and `/legacy/vpc-accept` (365 days) and "
               f"{d['vpcs_per_region']} VPCs (moto's default VPC and {d['vpcs_per_region'] - 1} more). Over the "
               "organization, 25% of the VPCs have an ACTIVE REJECT flow log and 5% an ALL one into "
               "`/vpc/flow-logs`, 5% an ACCEPT-only one, 65% none, as in the single-account benchmark.",
               "- **flowguard**: the release CLI, `flowguard audit --organization --exclude-account "
               "123456789012 --role flowguard-member --region … --format json` and the same with `apply "
               f"--yes`, {d['concurrency']} account runs in flight (the default when measured; `bench/org_bench.py` "
               f"now passes `--concurrency {d['concurrency']}`, since the default became 48: see *Organization "
               "scale, simulated*); the delivery role "
               "is the organization-mode default, `arn:{partition}:iam::{account_id}:role/flowguard-delivery`.",
               "- **c7n-org**: `c7n-org run -c accounts.yml -s OUT -u policy.yml --cache-period 0 -r …`, "
               "with the accounts file that `c7n-org aws-accounts --role flowguard-member -i 123456789012` "
               "writes (run against moto: one role ARN per member) and the single-account benchmark's "
               "policy (`bench/custodian-policy.yml`; audit: its filter alone; sweep: with its "
               "`set-flow-log`, the role as `arn:aws:iam::{account_id}:role/flowguard-delivery`, which c7n "
               f"interpolates). Twice: with its default parallelism ({self.label['c7n-org']}: a process pool of "
               f"`C7N_ORG_PARALLEL` workers, 4 × CPUs) and with `C7N_ORG_PARALLEL={d['concurrency']}`, "
               "flowguard's concurrency.",
               "- **Checks.** Each audit must report exactly the seeded non-compliant VPCs; after each sweep,",
               "  every VPC of every member account×region must have an ACTIVE flow log capturing REJECT, and",
               "  the management account no flow log and no log group (read back from moto). The sweeps",
               "  after the first start from the seeded state again (the flow logs a sweep created are",
               "  deleted, and the flow logs left compared with the seed's).",
               "- **Measured**: wall time; client CPU of the whole process tree (user+sys from `wait4` of",
               "  GNU time, which counts every descendant reaped on the way: c7n-org's workers are; the",
               "  script checks it against `/proc` sampling); peak RSS of the tree (VmRSS summed over every",
               "  process, sampled every 50 ms; pages shared by c7n-org's forked workers count in each",
               "  worker, so Pss, which counts them once, is given too); AWS calls by operation through",
               "  `bench/proxy.py`, `AssumeRole` included.", ""]
        machine = d.get("machine")
        if machine:
            out += [f"Machine: {machine['cpu']}, {machine['cores']} cores, {machine['memory_gib']} GiB. "
                    f"Runs per point: " + ", ".join(f"{shape(p)[0]} accounts × {shape(p)[1]} region{'s' if shape(p)[1] > 1 else ''}: {n}"
                                                    for p, n in d["runs"].items()) + "."
                    + (f" flowguard built from `{d['commit']}`." if d.get("commit") else ""), ""]
        if d.get("note"):
            out += [d["note"], ""]
        if d.get("partial"):
            out += ["**Partial run**: the benchmark was stopped before its last point; the points below "
                    "are those it finished.", ""]
        loads = [f[mode][t]["load_before"] for p in self.points for f in self.runs(p)
                 for mode in ("audit", "sweep") for t in f[mode] if "load_before" in f[mode][t]]
        if loads and max(loads) > 1.5:
            out += [f"The 1-minute load average before the measured runs was {min(loads):.1f} to {max(loads):.1f} "
                    "(it counts the benchmark's own previous runs, c7n-org's workers among them, and other "
                    "work that shared this 2-core machine): wall times carry that noise most, CPU times some "
                    "(contention for caches and cores), the calls none.", ""]
        out += self.targets()
        out += self.instructions_note()
        if plot_name:
            out += [f"![flowguard and c7n-org across an organization]({plot_name})", ""]
        out += self.table() + self.calls() + self.lambda_timeout() + self.undone() + self.notes()
        return out

    def table(self):
        out = ["### Audit and sweep", "",
               "| accounts × regions | | tool | wall time | client CPU | peak RSS (tree) | Pss (tree) | AWS calls | `AssumeRole` | calls per account×region |",
               "|---|---|---|---:|---:|---:|---:|---:|---:|---:|"]
        for p in self.points:
            a, r = shape(p)
            for mode in ("audit", "sweep"):
                tools = self.tools(p)
                for i, t in enumerate(tools):
                    runs = [f[mode][t] for f in self.runs(p)]
                    par = med([sum(per_account_region(x, p).values()) for x in runs])
                    out.append(f"| {f'{a} × {r}' if i == 0 and mode == 'audit' else ''} | {mode if i == 0 else ''} "
                               f"| {self.label[t]} | {fmt_s(self.m(p, mode, t, 'wall_s'))} | {fmt_s(self.m(p, mode, t, 'cpu_s'))} "
                               f"| {self.m(p, mode, t, 'peak_rss_mib'):.0f} MiB | {self.m(p, mode, t, 'peak_pss_mib'):.0f} MiB "
                               f"| {self.m(p, mode, t, 'calls'):.0f} | {med([assume(x) for x in runs]):.0f} | {par:.2f} |")
                for other in tools[1:]:
                    out.append(f"| | | *flowguard / {self.short[other]}* | *{fmt_ratio(self.ratio(p, mode, other, 'wall_s'))}* "
                               f"| *{fmt_ratio(self.ratio(p, mode, other, 'cpu_s'))}* | *{fmt_ratio(self.ratio(p, mode, other, 'peak_rss_mib'))}* "
                               f"| *{fmt_ratio(self.ratio(p, mode, other, 'peak_pss_mib'))}* | *{fmt_ratio(self.ratio(p, mode, other, 'calls'))}* | | |")
        out += ["", "Calls per account×region leave out the calls for the organization or the caller "
                "(`sts:AssumeRole`, `sts:GetCallerIdentity`, `organizations:*`). Points without c7n-org rows "
                "were run with flowguard alone (`BENCH_ORG_FLOWGUARD_ONLY`; `BENCH_ORG_C7N_LARGE=1` adds "
                "c7n-org there)."]
        p = self.target_point()
        if p:
            per = med([f[mode][t]["cpu_s"] / (shape(p)[0] * shape(p)[1]) for f in self.runs(p)
                       for mode in ("audit", "sweep") for t in self.tools(p)[1:]])
            out += [f" c7n-org used {per:.2f} s of CPU per account×region at {shape(p)[0]} × {shape(p)[1]} "
                    "(median over its runs here): on this 2-core machine each of its four runs at a point "
                    f"takes about A × R × {per:.2f} s / 2 of wall time at best, e.g. "
                    f"{300 * 3 * per / 2 / 60:.0f} minutes at 300 × 3 and {1000 * per / 2 / 60:.0f} minutes at "
                    "1000 × 1 (an extrapolation, not a measurement)."]
        out.append("")
        return out

    def calls(self):
        p = self.target_point() or self.points[0]
        tools = self.tools(p)
        f = self.runs(p)[0]
        ops = sorted({op for mode in ("audit", "sweep") for t in tools for op in f[mode][t]["by_operation"]})
        cols = [(mode, t) for mode in ("audit", "sweep") for t in tools]
        out = [f"AWS calls at {p.replace('x', ' accounts × ')} regions, by operation (first run; refused calls after the comma):", "",
               "| operation | " + " | ".join(f"{self.short[t]} {mode}" for mode, t in cols) + " |",
               "|---|" + "---:|" * len(cols)]
        for op in ops:
            cells = []
            for mode, t in cols:
                o = f[mode][t]["by_operation"].get(op)
                cells.append("" if not o else str(o["calls"]) + (f", {o['errors']} refused" if o.get("errors") else ""))
            out.append(f"| `{op}` | " + " | ".join(cells) + " |")
        out.append("")
        return out

    def targets(self):
        p = self.target_point()
        out = ["### Targets (issue 15)", ""]
        if p is None:
            return out + ["No point with both tools was measured.", ""]
        a, r = shape(p)
        tools = self.tools(p)[1:]
        out += [f"Ratios flowguard / c7n-org at {a} accounts × {r} regions, against both c7n-org settings "
                "(met only when met against both)."
                + ("" if a == 100 else " **The issue's point, 100 accounts, was not measured with c7n-org in "
                   "this run**: these are the ratios at the point that was."), "",
                "| target | measured | |", "|---|---|---|"]
        for key, limit, text in (("cpu_s", 1 / 20, "client CPU at most 1/20"),
                                 ("wall_s", 1 / 3, "wall time at most 1/3"),
                                 ("peak_rss_mib", 1 / 10, "peak RSS of the process tree at most 1/10")):
            for mode in ("sweep", "audit"):
                rs = {t: self.ratio(p, mode, t, key) for t in tools}
                ok = all(x is not None and x <= limit for x in rs.values())
                out.append(f"| {mode}: {text} | " + "; ".join(f"{fmt_ratio(x)} vs {self.short[t]}" for t, x in rs.items())
                           + f" | {verdict(ok)} |")
        # AssumeRole: one per account, every point, every run, both modes
        seen = []
        ok = True
        for q in self.points:
            qa, qr = shape(q)
            counts = sorted({assume(f[mode]["flowguard"]) for f in self.runs(q) for mode in ("audit", "sweep")})
            ok &= counts == [qa]
            seen.append(f"{qa} × {qr}: {'/'.join(map(str, counts))}")
        c7n = sorted({assume(f[mode][t]) for f in self.runs(p) for mode in ("audit", "sweep") for t in tools})
        out.append(f"| one `AssumeRole` per account whatever the number of regions | flowguard: {'; '.join(seen)} "
                   f"(c7n-org at {a} × {r}: {'/'.join(map(str, c7n))}) | {verdict(ok)} |")
        single = None
        if self.compare:
            sw = self.compare["sweeps"]
            n = "100" if "100" in sw else sorted(sw, key=int)[0]
            single_fig = sw[n]["flowguard"][0]["by_operation"]
            single = sum(o["calls"] for op, o in single_fig.items() if op not in HUB_OPS)
        org_sweep = max(sum(per_account_region(f["sweep"]["flowguard"], q).values())
                        for q in self.points for f in self.runs(q))
        if single is not None:
            out.append(f"| sweep: no more calls per account×region than the single-account sweep "
                       f"(region of {n} VPCs: {single} calls, without `GetCallerIdentity` and `GetRole`) "
                       f"| at most {org_sweep:.2f} | {verdict(org_sweep <= single + 1e-9)} |")
        # growth
        grow = [q for q in self.points if shape(q)[1] == r]
        cells, ok = [], True
        for mode in ("sweep", "audit"):
            per = [(shape(q)[0], self.m(q, mode, "flowguard", "cpu_s") / shape(q)[0]) for q in grow]
            ok &= all(b[1] <= a_[1] * 1.1 for a_, b in zip(per, per[1:]))
            cells.append(f"{mode}: " + ", ".join(f"A={x}: {y * 1000:.1f} ms" for x, y in per))
        verdict_ = verdict(ok) if len(grow) > 1 else "not measured (one point)"
        work = self.instructions_per_account()
        if work:
            work_ok = all(all(b <= a_ * 1.01 for a_, b in zip(ys, ys[1:])) for ys in
                          ([y for _, y in per] for per in work.values()))
            cells.append("instructions per account (callgrind, flowguard's own work): " + "; ".join(
                f"{mode}: " + ", ".join(f"A={x}: {y / 1e6:.1f} M" for x, y in per) for mode, per in work.items()))
            if not ok and work_ok:
                spread = max(max(c) / min(c) - 1 for q in grow for mode in ("sweep", "audit")
                             for c in [[r[mode]["flowguard"]["cpu_s"] for r in self.runs(q)]])
                verdict_ = ("met in flowguard's own work (instructions per account fall); its CPU "
                            f"seconds per account rise, within their run-to-run spread at one point "
                            f"here (up to {spread * 100:.0f}%): see below")
            elif not work_ok:
                verdict_ = "**missed**"
        out.append(f"| growth: flowguard's client CPU per account constant or falling (10% tolerance) "
                   f"| {'; '.join(cells)} | {verdict_} |")
        out.append("")
        return out

    def instructions_per_account(self):
        """mode → [(accounts, instructions per account)] at the full-region points, or None."""
        if not self.instr:
            return None
        pts = sorted(self.instr["points"].values(), key=lambda f: f["accounts"])
        return {mode: [(f["accounts"], f[mode]["per_account"]) for f in pts] for mode in ("sweep", "audit")}

    def instructions_by_commit(self):
        """A table of flowguard's instructions per account at each point, one row per measured
        commit, so that a change's effect on the work is on record."""
        if len(self.instr_all) < 2:
            return []
        import subprocess
        sizes = sorted({f["accounts"] for r in self.instr_all for f in r["points"].values()})
        regions = {f["regions"] for r in self.instr_all for f in r["points"].values()}
        head = " | ".join(f"{mode} A={a}" for mode in ("audit", "sweep") for a in sizes)
        out = [f"flowguard's instructions per account (callgrind; {'/'.join(map(str, sorted(regions)))} "
               "regions × 5 VPCs), by the commit it was built from, and the peak RSS of one plain audit (no callgrind) where measured:", "",
               f"| commit | | {head} | " + " | ".join(f"audit peak RSS A={a}" for a in sizes) + " |",
               "|---|---|" + "---:|" * (3 * len(sizes))]
        for r in self.instr_all:
            by_a = {f["accounts"]: f for f in r["points"].values()}
            subject = subprocess.run(["git", "log", "-1", "--format=%s", r["commit"].removesuffix("-dirty")],
                                     capture_output=True, text=True).stdout.strip()
            cells = " | ".join(f"{by_a[a][mode]['per_account'] / 1e6:.1f} M" if a in by_a else ""
                               for mode in ("audit", "sweep") for a in sizes)
            rss = " | ".join(f"{by_a[a]['plain_audit']['peak_rss_mib']:.0f} MiB"
                             if a in by_a and "plain_audit" in by_a[a] else "" for a in sizes)
            timed = " (the binary timed above)" if r is self.instr else ""
            subject = subject if len(subject) <= 90 else subject[:subject.rfind(" ", 0, 90)] + " …"
            out.append(f"| `{r['commit']}`{timed} | {subject} | {cells} | {rss} |")
        return out + [""]

    def instructions_note(self):
        work = self.instructions_per_account()
        if not work:
            return []
        cpu = {mode: [(shape(q)[0], self.m(q, mode, "flowguard", "cpu_s") / shape(q)[0],
                       self.m(q, mode, "flowguard", "wall_s") / shape(q)[0])
                      for q in self.points if shape(q)[1] == len(self.d["regions"])] for mode in ("sweep", "audit")}
        lines = []
        for mode in ("sweep", "audit"):
            (a0, i0), (a1, i1) = work[mode][0], work[mode][-1]
            c = cpu[mode]
            lines.append(f"{mode}: instructions per account {i0 / 1e6:.1f} M at A={a0} and {i1 / 1e6:.1f} M at "
                         f"A={a1} ({(i1 / i0 - 1) * 100:+.0f}%); CPU seconds per account "
                         f"{c[0][1] * 1000:.1f} ms and {c[-1][1] * 1000:.1f} ms ({(c[-1][1] / c[0][1] - 1) * 100:+.0f}%), "
                         f"while the wall time per account went from {c[0][2] * 1000:.0f} ms to "
                         f"{c[-1][2] * 1000:.0f} ms ({(c[-1][2] / c[0][2] - 1) * 100:+.0f}%)")
        return self.instructions_by_commit() + ["**Growth, measured two ways.** CPU seconds on this 2-core machine are shared with moto "
                "and the counting proxy, which are busier and slower the more accounts moto holds; "
                "instructions counted by callgrind (`./scripts/bench org-instructions`: one audit and one "
                "sweep per point, the same commands and checks, " + self.instr.get("valgrind", "valgrind")
                + ") are flowguard's own work, which contention does not change. "
                + "; ".join(lines) + ". flowguard's work per account does not grow (start-up and the "
                "organization listing are spread over more accounts), so the rise in CPU seconds is not "
                "more work: the same work takes longer on two cores that the emulator and the proxy keep "
                "busier at size (flowguard is switched out more often: `perf stat` by hand, straight "
                "against moto, counted 145 context switches per account at A=20 and 160 at A=300), or it "
                "is a cost of waiting that the count cannot see. (Under callgrind flowguard runs some 20 times slower, so it waits less for moto: "
                "the count leaves out any cost that grows with waiting itself, such as more wake-ups.)", ""]

    def lambda_timeout(self):
        big = [p for p in self.points if shape(p)[0] >= 1000] or [max(self.points, key=lambda q: shape(q)[0])]
        p = big[0]
        a, r = shape(p)
        fig = self.runs(p)[0]["sweep"]["flowguard"]
        per = per_account_region(fig, p)
        per_calls = sum(per.values())
        assumes = assume(fig) / a
        list_pages = fig["by_operation"].get("organizations:ListAccounts", {}).get("calls", 0)
        conc = self.d["concurrency"]
        waves = math.ceil(1000 / conc)
        budget = LAMBDA_TIMEOUT_S - DEADLINE_MARGIN_S
        # ListAccounts returns at most 20 accounts a page: 1000 accounts need 50 pages.
        pages_1000 = max(list_pages, math.ceil(1001 / 20))
        out = ["### Does a 1000-account sweep fit the Lambda's timeout? (issue 13)", "",
               "An estimate on paper, kept for the record: *Organization scale, simulated* below runs "
               "the engine itself at 10,000 and 30,000 accounts, with throttling and slow tails.", "",
               f"Measured at {a} accounts × {r} region{'s' if r > 1 else ''} (flowguard `apply --organization`, the engine the hub "
               f"Lambda runs, `sweep_organization`): per account×region "
               + ", ".join(f"`{op}` {c:.2f}" for op, c in per.items())
               + f" = {per_calls:.2f} calls, plus {assumes:.2f} `AssumeRole` per account; "
               f"`organizations:ListAccounts` {list_pages} call(s) for the whole organization.", "",
               "The per-call latency of the real AWS APIs is **an assumption**, not a measurement: no "
               "authoritative published figure was found for EC2 `DescribeVpcs`/`DescribeFlowLogs`/"
               "`CreateFlowLogs`, CloudWatch Logs `DescribeLogGroups` or STS `AssumeRole` latency. We take "
               f"{LATENCIES_MS[0]}–{LATENCIES_MS[1]} ms per call (in-region, including TLS reuse and "
               "signing; a conservative range for these control-plane reads and writes) and bound with the "
               f"pessimistic end, {LATENCIES_MS[1]} ms, counting every call of an account run as if they "
               "ran one after another (flowguard runs the three reads of a region concurrently, so the "
               "real chain is shorter).", "",
               f"The hub Lambda sweeps the accounts of its region, {conc} account runs in flight "
               f"(`FLOWGUARD_CONCURRENCY`, default {conc}): about ceil(1000/{conc}) = {waves} waves, each as "
               "long as one account's chain of calls. Organizations' `ListAccounts` returns at most 20 "
               f"accounts a page, so listing 1000 accounts takes {pages_1000} calls in sequence "
               "(once per cold start, then at most every 15 minutes).", "",
               "| per-call latency | listing the organization | one account's chain | 1000 accounts at "
               f"{conc} in flight | Lambda timeout less the {DEADLINE_MARGIN_S} s deadline margin | |",
               "|---:|---:|---:|---:|---:|---|"]
        for lat in LATENCIES_MS:
            chain = (per_calls + assumes) * lat / 1000
            listing = pages_1000 * lat / 1000
            total = listing + waves * chain
            out.append(f"| {lat} ms | {listing:.0f} s | {chain:.2f} s | {total:.0f} s | {budget} s "
                       f"| {'fits, ' + f'{budget / total:.1f}× margin' if total <= budget else '**does not fit**'} |")
        lat = LATENCIES_MS[1]
        chain = (per_calls + assumes) * lat / 1000
        most = int((budget - pages_1000 * lat / 1000) / chain) * conc
        rss = {q: self.m(q, "sweep", "flowguard", "peak_rss_mib") for q in self.points}
        small = min(self.points, key=lambda q: shape(q)[0])
        slope = (rss[p] - rss[small]) / max(1, shape(p)[0] - shape(small)[0])
        out += ["", f"Memory: the CLI's peak RSS grows with the accounts ("
                + ", ".join(f"{shape(q)[0]} × {shape(q)[1]}: {rss[q]:.0f} MiB" for q in self.points)
                + f"), about {slope * 1024:.0f} KiB per account: what is kept per account "
                "grows with them: its session (aws-config's `AssumeRoleProvider`, with its own STS "
                "client, which in the binary timed here also had its own connection pool and TLS set-up, "
                "and the cached credentials), kept for the whole run so that its other regions "
                "reuse it, and its lines in the report. (Since the IAM, STS, Security Hub and Config clients "
                "of an account×region are built on first use, a run builds two SDK clients, not six.) "
                f"The hub function has {HUB_MEMORY_MB} MB; at this slope it would reach it near "
                f"{int((HUB_MEMORY_MB * 1e6 / 1048576 - rss[small]) / slope + shape(small)[0]) if slope > 0 else '–'} "
                "accounts (the Lambda's own figure was not measured here)."]
        later = self.instr_all[-1] if self.instr_all and self.instr_all[-1] is not self.instr else None
        pts = sorted((f for f in (later or {}).get("points", {}).values() if "plain_audit" in f),
                     key=lambda f: f["accounts"])
        if len(pts) > 1:
            kib = ((pts[-1]["plain_audit"]["peak_rss_mib"] - pts[0]["plain_audit"]["peak_rss_mib"])
                   / (pts[-1]["accounts"] - pts[0]["accounts"]) * 1024)
            hub = HUB_MEMORY_MB * 1e6 / 1048576
            reach = int((hub - pts[0]["plain_audit"]["peak_rss_mib"]) / kib * 1024 + pts[0]["accounts"])
            out[-1] += (f" Built from `{later['commit']}` (measured after the timings above, by "
                        "`./scripts/bench org-instructions`), one plain audit peaked at "
                        + ", ".join(f"{f['plain_audit']['peak_rss_mib']:.0f} MiB at {f['accounts']} × {f['regions']}"
                                    for f in pts)
                        + f": about {kib:.0f} KiB per account, which would reach {HUB_MEMORY_MB} MB near "
                        f"{reach} accounts.")
        out += ["", f"At the pessimistic end the same budget covers about {most} accounts at the default "
                "concurrency. The hub stack sets the function's timeout to 15 minutes, Lambda's maximum; the "
                f"Lambda keeps a {DEADLINE_MARGIN_S} s margin before its deadline and starts no account after "
                "it: accounts not started in time are reported `unreachable` with \"not checked\", a retryable "
                "outcome, so the next run (retry or schedule) checks them. Not modelled here: throttling "
                "(STS and EC2 request-rate quotas; the SDK's standard retries absorb it at the cost of time), "
                "and accounts whose regions hold far more VPCs or flow logs than 5 (more pages).", ""]
        return out

    def undone(self):
        p = self.target_point()
        c7n_logs = ""
        if p:
            f = self.runs(p)[0]["sweep"]
            o = f.get("c7n-org", {}).get("by_operation", {}).get("logs:CreateLogGroup")
            if o:
                a, r = shape(p)
                c7n_logs = (f" (here {o['calls']} calls for {a * r} account×regions, {o.get('errors', 0)} refused "
                            "because the group exists)")
        return ["### What each tool leaves undone at organization scale", "",
                "c7n-org:",
                "- assumes the role once per account **and region** (each account×region is a separate task "
                "of its process pool, with its own session), so STS calls grow with the regions;",
                "- runs from an accounts file, a snapshot of the organization: an account created after "
                "`c7n-org aws-accounts` ran is not covered until the file is written again (flowguard lists "
                "the organization, `ListAccounts`, on every run);",
                "- each account×region task loads and validates the policy again and builds new boto3 "
                "sessions and clients, in a pool of processes that each import all of Cloud Custodian;",
                "- the single-account gaps, now in every account: no retention on the log group, "
                "`CreateLogGroup` called on every run" + c7n_logs + ", a flow log that fails delivery "
                "(`DeliverLogsStatus=FAILED`) or delivers into a deleted group counted compliant, no "
                "`ClientToken` on `CreateFlowLogs`, no tags on what it creates (see the single-account "
                "comparison above);",
                "- no organization report: per account×region output directories and log lines.", "",
                "flowguard:",
                "- `apply` checks each member's delivery role with `iam:GetRole` before the account's "
                "first flow log (one call per account that needs one, counted above): a missing role "
                "fails that account's VPCs clearly instead of making flow logs that never deliver;",
                "- a member session is reused for 12 minutes (`SESSION_REUSE`): a run that reaches an "
                "account again after that assumes the role again (more than one `AssumeRole` per account; "
                "not seen in these runs, all far shorter);",
                "- the management account is not swept here (`--exclude-account`); in scope it would be "
                "swept with the caller's own credentials, not the member role.", ""]

    def notes(self):
        return ["### Method notes (organization)", "",
                "- moto runs with `MOTO_EC2_LOAD_DEFAULT_AMIS=false` (neither tool reads AMIs; each "
                "account×region's EC2 backend otherwise loads them). The seed talks to moto directly, "
                "with moto's `x-moto-account-id` header, never through the proxy; one `AssumeRole` "
                "into a member is checked to act in that account, as both tools need.",
                "- moto serves one request at a time in effect: flowguard's 16 concurrent account runs "
                "and c7n-org's workers both queue on it, so wall time is mostly moto's, and the proxy and "
                "moto share the same 2 cores with the tools.",
                "- c7n-org's process pool forks its workers: their user+sys time is counted because "
                "c7n-org reaps them before it exits; the `/proc` sampling agrees within its 50 ms "
                "resolution (the script stops if it did not).",
                f"- Whole organization benchmark: {self.d['duration_s']:.0f} s, seeding included.", ""]
