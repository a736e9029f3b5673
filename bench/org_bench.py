"""flowguard's organization mode against c7n-org (Cloud Custodian's multi-account runner), on
the same moto server, same machine, same run. Run by `./scripts/bench org` with the bench
virtualenv (.venv-bench); progress on stderr, one JSON file out.

    org_bench.py --moto URL --flowguard BIN --out FILE
           [--sizes 20,100,300] [--runs 3] [--large-runs 1] [--vpcs 5]
           [--regions us-east-1,eu-west-1,ap-southeast-2]
           [--flowguard-only 1000x1] [--c7n-large] [--concurrency 16]
           (a --flowguard-only point may give its own number of runs: 300x3:3,1000x1:1)
    org_bench.py --moto URL --flowguard BIN --out FILE --instructions [--sizes 20,100,300] …
           (flowguard's own work: instructions of its audit and sweep under callgrind, per point)
    org_bench.py --moto URL --seed-only AxR [--vpcs 5] [--regions …]
           (reset and seed moto with A member accounts in the first R regions, and exit: for
           profiling by hand, e.g. heaptrack or callgrind around `flowguard audit --organization`)

The organization (moto is reset, POST /moto-api/reset, then seeded): moto's default account
123456789012 is the management account and the hub; A member accounts (Organizations
CreateAccount), each with the member role `flowguard-member` (trusting the hub account) and the
delivery role `flowguard-delivery`, and, in each of the R regions, the log groups
`/vpc/flow-logs` and `/legacy/vpc-accept` (365 days) and V VPCs: moto's default VPC and V-1
created ones. Over the whole organization 25% of the VPCs have an ACTIVE REJECT flow log and 5%
an ALL flow log into `/vpc/flow-logs`, 5% an ACCEPT-only flow log, 65% none (as bench/compare.py
seeds one account; the slots are spread with a stride so each account×region gets a mix).
Seeding talks to moto directly with moto's `x-moto-account-id` header (one boto3 client per
service, region and thread, instead of thousands of clients built from assumed credentials);
one `AssumeRole` into the first member is checked to act in that account, as the tools need.

Each point A×R, each run:
1. seed; the audits, in an order that alternates between runs: `flowguard audit
   --organization --exclude-account 123456789012 --role flowguard-member --region …
   --concurrency N --format json`, and `c7n-org run -c accounts.yml -s OUT -u policy.yml
   --cache-period 0 -r …` with the single-account policy's filter alone, once with c7n-org's default parallelism (its
   ProcessPoolExecutor of `C7N_ORG_PARALLEL` workers, default 4 × CPUs) and once with
   `C7N_ORG_PARALLEL` = flowguard's concurrency (`--concurrency`, 16 unless told: moto serves
   one call at a time, and c7n-org's workers are processes). Each audit must find every
   non-compliant VPC.
2. the sweeps, each from the seeded state (before the second and third, the flow logs the
   previous sweep created are deleted and the rest compared with the seed's: much faster than
   seeding again, and the same state): `flowguard apply --organization … --yes`
   and c7n-org with the single-account policy (its `set-flow-log` with
   `DeliverLogsPermissionArn: arn:aws:iam::{account_id}:role/flowguard-delivery`, c7n's
   policy-variable interpolation); then every VPC of every member account×region must have an
   ACTIVE flow log capturing REJECT, and the management account no flow log and no log group.

The accounts file is the one `c7n-org aws-accounts --role flowguard-member -i 123456789012`
writes, run against moto. Measured for every run: wall time; client CPU (user+sys of the whole
process tree: os.wait4 of GNU time, which counts every descendant reaped on the way, checked
against /proc sampling); peak RSS of the tree (the most, over 50 ms samples, of the VmRSS summed
over every process under GNU time, and GNU time's own %M of the tool's main process, whichever
is larger; also the summed Pss, which counts pages shared by forked workers once); AWS calls by
operation through bench/proxy.py. The tools see only the loopback proxy, dummy credentials, no
config files, and an HTTP(S) proxy on a closed loopback port in case any client ignored
AWS_ENDPOINT_URL (moto and the counting proxy are exempt through NO_PROXY).

--instructions counts what the client itself executes, which the machine cannot blur: at each
point (one run, after seeding; first one plain audit, for its peak RSS), flowguard's audit and
then its sweep run under `valgrind
--tool=callgrind` (instructions, Ir), with the same checks of their outcome. CPU seconds on a
shared 2-core machine also carry contention with the emulator and the proxy, which grow with the
organization (moto answers more slowly the more accounts it holds); instructions do not.

The results file is written again after each point (with "partial": true until the end), so a
long run that is stopped keeps what it measured.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import boto3
import yaml
from botocore.config import Config as BotoConfig

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no bench/__pycache__ in the work tree
from compare import (  # noqa: E402
    ACCEPT_GROUP, ACCOUNT as MANAGEMENT, GROUP, POLICY, TIME, Proxy, base_env, log, loopback_only,
    total_calls,
)

MEMBER_ROLE = "flowguard-member"
DELIVERY_ROLE = "flowguard-delivery"
REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2")
TOOLS = ("flowguard", "c7n-org", "c7n-org-matched")
HUB_OPS = ("sts:AssumeRole", "sts:GetCallerIdentity", "organizations:ListAccounts",
           "organizations:ListAccountsForParent", "organizations:ListOrganizationalUnitsForParent",
           "iam:GetRole")
SLOT_STRIDE = 7  # coprime with 20: every 20 consecutive VPCs hold each slot once


def slot_kind(index):
    slot = (index * SLOT_STRIDE) % 20
    return "REJECT" if slot < 5 else "ALL" if slot == 5 else "ACCEPT" if slot == 6 else None


# ---------------------------------------------------------------- the organization in moto

class OrgMoto:
    """moto, driven directly (never through the proxy), in any account through the
    `x-moto-account-id` header: per thread, one client per service and region."""

    def __init__(self, url):
        self.url = loopback_only(url)
        self.local = threading.local()

    def client(self, service, region="us-east-1", account=MANAGEMENT):
        self.local.account = account
        clients = getattr(self.local, "clients", None)
        if clients is None:
            clients = self.local.clients = {}
        key = (service, region)
        if key not in clients:
            c = boto3.client(service, endpoint_url=self.url, region_name=region,
                             aws_access_key_id="testing", aws_secret_access_key="testing",
                             config=BotoConfig(retries={"mode": "standard", "max_attempts": 3}))
            c.meta.events.register("before-sign", self._header)
            clients[key] = c
        return clients[key]

    def _header(self, request, **_):
        request.headers["x-moto-account-id"] = self.local.account

    def reset(self):
        req = urllib.request.Request(f"{self.url}/moto-api/reset", data=b"", method="POST")
        urllib.request.urlopen(req, timeout=60).read()

    def seed(self, accounts, regions, vpcs, threads=6):
        started = time.perf_counter()
        self.reset()
        org = self.client("organizations")
        org.create_organization(FeatureSet="ALL")
        ids = []
        for i in range(accounts):
            status = org.create_account(Email=f"member-{i:04d}@example.com",
                                        AccountName=f"member-{i:04d}")["CreateAccountStatus"]
            ids.append(status["AccountId"])
        kinds = {"REJECT": 0, "ALL": 0, "ACCEPT": 0, None: 0}
        self.seeded = {(a, r): set() for a in ids for r in regions}

        def one(item):
            index, account = item
            iam = self.client("iam", account=account)
            iam.create_role(RoleName=MEMBER_ROLE, AssumeRolePolicyDocument=json.dumps({
                "Version": "2012-10-17", "Statement": [{
                    "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{MANAGEMENT}:root"},
                    "Action": "sts:AssumeRole"}]}))
            iam.create_role(RoleName=DELIVERY_ROLE, AssumeRolePolicyDocument=json.dumps({
                "Version": "2012-10-17", "Statement": [{
                    "Effect": "Allow", "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"aws:SourceAccount": account}}}]}))
            role_arn = f"arn:aws:iam::{account}:role/{DELIVERY_ROLE}"
            mine = {"REJECT": 0, "ALL": 0, "ACCEPT": 0, None: 0}
            for r, region in enumerate(regions):
                logs = self.client("logs", region, account)
                for name in (GROUP, ACCEPT_GROUP):
                    logs.create_log_group(logGroupName=name)
                    logs.put_retention_policy(logGroupName=name, retentionInDays=365)
                ec2 = self.client("ec2", region, account)
                default = [v["VpcId"] for v in ec2.describe_vpcs(
                    Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"]]
                made = [ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
                        for _ in range(vpcs - len(default))]
                by_kind = {}
                for v, vpc in enumerate(default + made):
                    kind = slot_kind((index * len(regions) + r) * vpcs + v)
                    mine[kind] += 1
                    if kind:
                        by_kind.setdefault(kind, []).append(vpc)
                for kind, vpc_ids in by_kind.items():
                    out = self.client("ec2", region, account).create_flow_logs(
                        ResourceType="VPC", ResourceIds=vpc_ids, TrafficType=kind,
                        LogDestinationType="cloud-watch-logs",
                        LogGroupName=ACCEPT_GROUP if kind == "ACCEPT" else GROUP,
                        DeliverLogsPermissionArn=role_arn)
                    assert not out.get("Unsuccessful"), out["Unsuccessful"]
                    self.seeded[(account, region)].update(out["FlowLogIds"])
            return mine

        with ThreadPoolExecutor(threads) as pool:
            for mine in pool.map(one, enumerate(ids)):
                for k, n in mine.items():
                    kinds[k] += n
        self._check_assume_role(ids[0])
        log(f"seeded {accounts} accounts × {len(regions)} regions × {vpcs} VPCs "
            f"in {time.perf_counter() - started:.1f} s")
        total = sum(kinds.values())
        return ids, {"vpcs": total, "non_compliant": kinds["ACCEPT"] + kinds[None],
                     "reject": kinds["REJECT"], "all": kinds["ALL"], "accept_only": kinds["ACCEPT"],
                     "none": kinds[None]}

    def restore(self, threads=6):
        """Back to the seeded state after a sweep, much faster than seeding again: every flow
        log that the seed did not create is deleted (the tools create flow logs and nothing
        else in a seeded organization: its log groups exist with 365 days)."""
        started = time.perf_counter()

        def one(item):
            (account, region), seeded = item
            ec2 = self.client("ec2", region, account)
            extra = [fl["FlowLogId"] for p in ec2.get_paginator("describe_flow_logs").paginate()
                     for fl in p["FlowLogs"] if fl["FlowLogId"] not in seeded]
            for i in range(0, len(extra), 1000):
                self.client("ec2", region, account).delete_flow_logs(FlowLogIds=extra[i:i + 1000])
            left = {fl["FlowLogId"] for p in self.client("ec2", region, account).get_paginator(
                "describe_flow_logs").paginate() for fl in p["FlowLogs"]}
            if left != seeded:
                raise SystemExit(f"restore: {account} {region}: {len(left)} flow logs, "
                                 f"expected the {len(seeded)} seeded")
            return len(extra)

        with ThreadPoolExecutor(threads) as pool:
            deleted = sum(pool.map(one, self.seeded.items()))
        log(f"restored the seeded organization (deleted {deleted} flow logs) "
            f"in {time.perf_counter() - started:.1f} s")

    def _check_assume_role(self, account):
        """What the tools rely on: credentials from AssumeRole act in the member account."""
        sts = boto3.client("sts", endpoint_url=self.url, region_name="us-east-1",
                           aws_access_key_id="testing", aws_secret_access_key="testing")
        creds = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/{MEMBER_ROLE}",
                                RoleSessionName="bench-check")["Credentials"]
        iam = boto3.client("sts", endpoint_url=self.url, region_name="us-east-1",
                           aws_access_key_id=creds["AccessKeyId"],
                           aws_secret_access_key=creds["SecretAccessKey"],
                           aws_session_token=creds["SessionToken"])
        seen = iam.get_caller_identity()["Account"]
        if seen != account:
            raise SystemExit(f"moto: AssumeRole into {account} acts in {seen}")

    def verify(self, ids, regions, threads=6):
        """(VPCs, VPCs with an ACTIVE flow log capturing REJECT and not FAILED) over the
        members; and what the management account holds (flow logs, log groups)."""
        def one(item):
            account, region = item
            ec2 = self.client("ec2", region, account)
            vpcs = {v["VpcId"] for p in ec2.get_paginator("describe_vpcs").paginate()
                    for v in p["Vpcs"]}
            ok = {fl["ResourceId"] for p in ec2.get_paginator("describe_flow_logs").paginate()
                  for fl in p["FlowLogs"]
                  if fl.get("FlowLogStatus") == "ACTIVE" and fl.get("TrafficType") in ("REJECT", "ALL")
                  and fl.get("DeliverLogsStatus") != "FAILED"}
            return len(vpcs), len(vpcs & ok)

        with ThreadPoolExecutor(threads) as pool:
            results = list(pool.map(one, [(a, r) for a in ids for r in regions]))
        management = {"flow_logs": 0, "log_groups": 0}
        for region in regions:
            management["flow_logs"] += len(
                self.client("ec2", region, MANAGEMENT).describe_flow_logs()["FlowLogs"])
            management["log_groups"] += len(
                self.client("logs", region, MANAGEMENT).describe_log_groups()["logGroups"])
        return sum(v for v, _ in results), sum(c for _, c in results), management


# ---------------------------------------------------------------- the process tree

def children(pid):
    out = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/children") as f:
                    out.extend(int(p) for p in f.read().split())
            except (FileNotFoundError, ProcessLookupError):
                pass
    except (FileNotFoundError, ProcessLookupError):
        pass
    return out


def tree(pid):
    seen, todo = [], children(pid)
    while todo:
        p = todo.pop()
        seen.append(p)
        todo.extend(children(p))
    return seen


def status_kib(pid, key):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def pss_kib(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return 0


TICK = os.sysconf("SC_CLK_TCK")


def cpu_ticks(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None


class Sampler(threading.Thread):
    """Every `period` s: the VmRSS summed over the tree under `root` (GNU time, excluded),
    every 4th sample also the summed Pss; the last CPU ticks seen of every process."""

    def __init__(self, root, period=0.05):
        super().__init__(daemon=True)
        self.root, self.period = root, period
        self.stop = threading.Event()
        self.peak_rss = self.peak_pss = self.most_procs = self.samples = 0
        self.ticks = {}

    def run(self):
        n = 0
        while not self.stop.is_set():
            pids = tree(self.root)
            self.most_procs = max(self.most_procs, len(pids))
            self.peak_rss = max(self.peak_rss, sum(status_kib(p, "VmRSS:") for p in pids))
            if n % 4 == 0:
                self.peak_pss = max(self.peak_pss, sum(pss_kib(p) for p in pids))
            for p in pids:
                t = cpu_ticks(p)
                if t is not None:
                    self.ticks[p] = t
            n += 1
            self.samples = n
            self.stop.wait(self.period)


def measure_tree(cmd, env, cwd, out_path, err_path):
    rss_file = out_path + ".rss"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        started = time.perf_counter()
        proc = subprocess.Popen([TIME, "-f", "%M", "-o", rss_file, *cmd], env=env, cwd=cwd,
                                stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        sampler = Sampler(proc.pid)
        sampler.start()
        _, status, ru = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        sampler.stop.set()
        sampler.join()
    with open(rss_file) as f:
        lines = [line for line in f.read().splitlines() if line.strip()]
    main_kib = int(lines[-1])
    cpu = ru.ru_utime + ru.ru_stime
    return {"exit": os.waitstatus_to_exitcode(status), "wall_s": round(wall, 3),
            "cpu_s": round(cpu, 3), "user_s": round(ru.ru_utime, 3), "sys_s": round(ru.ru_stime, 3),
            "cpu_sampled_s": round(sum(sampler.ticks.values()) / TICK, 2),
            "peak_rss_mib": round(max(sampler.peak_rss, main_kib) / 1024, 1),
            "peak_rss_main_mib": round(main_kib / 1024, 1),
            "peak_pss_mib": round(max(sampler.peak_pss, 0) / 1024, 1),
            "processes": sampler.most_procs, "samples": sampler.samples}


# ---------------------------------------------------------------- the benchmark

class OrgBench:
    def __init__(self, args):
        self.args = args
        self.regions = args.regions.split(",")
        self.moto = OrgMoto(args.moto)
        self.proxy = Proxy(args.moto, sys.executable)
        self.work = tempfile.mkdtemp(prefix="fg-bench-org-")
        bindir = os.path.dirname(sys.executable)
        self.c7n_org = os.path.join(bindir, "c7n-org")
        with open(POLICY) as f:
            policy = yaml.safe_load(f)
        (p,) = policy["policies"]
        p["actions"][0]["attrs"]["DeliverLogsPermissionArn"] = (
            f"arn:aws:iam::{{account_id}}:role/{DELIVERY_ROLE}")
        self.sweep_policy = self._write("policy-sweep.yml", policy)
        audit = json.loads(json.dumps(policy))
        del audit["policies"][0]["actions"]
        self.audit_policy = self._write("policy-audit.yml", audit)

    def _write(self, name, data):
        path = os.path.join(self.work, name)
        with open(path, "w") as f:
            yaml.safe_dump(data, f, sort_keys=False)
        return path

    def close(self):
        self.proxy.close()
        shutil.rmtree(self.work, ignore_errors=True)

    def dir(self, *parts):
        path = os.path.join(self.work, *parts)
        os.makedirs(path, exist_ok=True)
        return path

    def env(self):
        env = base_env(self.proxy.url, self.dir("home"))
        # A safety net: a client that ignored AWS_ENDPOINT_URL would meet a closed loopback
        # port instead of leaving the machine.
        env.update(HTTP_PROXY="http://127.0.0.1:9", HTTPS_PROXY="http://127.0.0.1:9",
                   NO_PROXY="127.0.0.1,localhost")
        return env

    def accounts_file(self, point):
        """What `c7n-org aws-accounts` writes for this organization (run against moto)."""
        path = os.path.join(self.dir(point), "accounts.yml")
        env = base_env(self.args.moto, self.dir("home"))
        subprocess.run([self.c7n_org, "aws-accounts", "--role", MEMBER_ROLE, "-i", MANAGEMENT,
                        "-f", path], env=env, check=True, capture_output=True)
        with open(path) as f:
            return path, len(yaml.safe_load(f)["accounts"])

    def command(self, tool, mode, point, where):
        regions = [x for r in self.regions_of(point) for x in ("--region", r)]
        if tool == "flowguard":
            cmd = [self.args.flowguard, "audit" if mode == "audit" else "apply", "--organization",
                   "--exclude-account", MANAGEMENT, "--role", MEMBER_ROLE, *regions,
                   "--concurrency", str(self.args.concurrency), "--format", "json"]
            if mode == "sweep":
                cmd.insert(2, "--yes")
            return cmd, self.env()
        env = self.env()
        if tool == "c7n-org-matched":
            env["C7N_ORG_PARALLEL"] = str(self.args.concurrency)
        cmd = [self.c7n_org, "run", "-c", self.accounts_path, "-s", os.path.join(where, "out"),
               "-u", self.audit_policy if mode == "audit" else self.sweep_policy,
               "--cache-period", "0", *[x for r in self.regions_of(point) for x in ("-r", r)]]
        return cmd, env

    def regions_of(self, point):
        return self.regions[:int(point.split("x")[1])]

    def run_tool(self, tool, mode, point, run, expect):
        where = self.dir(f"{point}-{run}-{mode}-{tool}")
        cmd, env = self.command(tool, mode, point, where)
        self.proxy.reset()
        load = round(os.getloadavg()[0], 2)
        figures = measure_tree(cmd, env, where, os.path.join(where, "stdout"),
                               os.path.join(where, "stderr"))
        counts = self.proxy.counts()
        figures.update(calls=total_calls(counts), by_operation=counts, load_before=load)
        err = open(os.path.join(where, "stderr"), errors="replace").read()
        problems = []
        accounts, nregions = expect["accounts"], len(self.regions_of(point))
        if tool == "flowguard":
            ok_exit = (1, 0) if mode == "audit" else (0,)
            if figures["exit"] not in ok_exit:
                problems.append(f"exit {figures['exit']}")
            report = json.load(open(os.path.join(where, "stdout")))
            s = report["summary"]["accounts"]
            if s.get("unreachable") or s.get("ok") != accounts * nregions:
                problems.append(f"accounts: {s}")
            if mode == "audit":
                bad = sum(1 for run_ in report["accounts"] for v in (run_.get("report") or {}).get("vpcs", [])
                          if v["status"] not in ("compliant", "exempt", "not_owned"))
                figures["found_non_compliant"] = bad
        else:
            if figures["exit"] != 0 or "Error running policy" in err or "Exception running" in err:
                problems.append(f"exit {figures['exit']}")
            if mode == "audit":
                found = 0
                for root, _, files in os.walk(os.path.join(where, "out")):
                    if "resources.json" in files:
                        found += len(json.load(open(os.path.join(root, "resources.json"))))
                figures["found_non_compliant"] = found
        if mode == "audit" and figures.get("found_non_compliant") != expect["non_compliant"]:
            problems.append(f"found {figures.get('found_non_compliant')} non-compliant VPCs, "
                            f"expected {expect['non_compliant']}")
        if mode == "sweep":
            vpcs, covered, management = self.moto.verify(self.ids, self.regions_of(point))
            figures.update(vpcs=vpcs, covered=covered, management=management)
            if covered != vpcs or vpcs != expect["vpcs"] or any(management.values()):
                problems.append(f"{covered}/{vpcs} VPCs covered (expected {expect['vpcs']}), "
                                f"management account {management}")
        if abs(figures["cpu_sampled_s"] - figures["cpu_s"]) > max(0.25, 0.1 * figures["cpu_s"]) \
                and figures["cpu_sampled_s"] > figures["cpu_s"]:
            problems.append(f"CPU: wait4 {figures['cpu_s']} s < sampled {figures['cpu_sampled_s']} s "
                            "(children not reaped?)")
        if problems:
            raise SystemExit(f"{tool} {mode} at {point} (run {run + 1}): {'; '.join(problems)}\n"
                             f"{err[-3000:]}")
        log(f"{tool:15} {mode:5} {point}: {figures['wall_s']:.2f} s wall, {figures['cpu_s']:.2f} s CPU "
            f"(sampled {figures['cpu_sampled_s']:.2f}), {figures['peak_rss_mib']} MiB "
            f"(Pss {figures['peak_pss_mib']}, {figures['processes']} procs), {figures['calls']} calls, "
            f"AssumeRole {counts.get('sts:AssumeRole', {}).get('calls', 0)}")
        return figures

    def instructions(self, point):
        """flowguard's audit and sweep of a freshly seeded organization under callgrind: the
        instructions (Ir) each executed, checked as the timed runs are."""
        accounts = int(point.split("x")[0])
        regions = self.regions_of(point)
        self.ids, expect = self.moto.seed(accounts, regions, self.args.vpcs)
        expect["accounts"] = accounts
        figures = {"accounts": accounts, "regions": len(regions)}
        # One plain audit first, for the peak RSS of the same binary (callgrind's is its own).
        where = self.dir(f"{point}-plain-audit")
        cmd, env = self.command("flowguard", "audit", point, where)
        plain = measure_tree(cmd, env, where, os.path.join(where, "stdout"), os.path.join(where, "stderr"))
        if plain["exit"] not in (0, 1):
            raise SystemExit(f"plain audit at {point}: exit {plain['exit']}")
        figures["plain_audit"] = {k: plain[k] for k in ("wall_s", "cpu_s", "peak_rss_mib")}
        for mode in ("audit", "sweep"):
            where = self.dir(f"{point}-callgrind-{mode}")
            cmd, env = self.command("flowguard", mode, point, where)
            cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={where}/callgrind.out", *cmd]
            with open(os.path.join(where, "stdout"), "w") as out:
                done = subprocess.run(cmd, env=env, stdout=out, stderr=subprocess.PIPE, text=True)
            ok_exit = (1, 0) if mode == "audit" else (0,)
            refs = [l for l in done.stderr.splitlines() if "I   refs:" in l]
            if done.returncode not in ok_exit or not refs:
                raise SystemExit(f"callgrind {mode} at {point}: exit {done.returncode}\n{done.stderr[-3000:]}")
            report = json.load(open(os.path.join(where, "stdout")))
            if report["summary"]["accounts"].get("ok") != accounts * len(regions):
                raise SystemExit(f"callgrind {mode} at {point}: {report['summary']['accounts']}")
            if mode == "sweep":
                vpcs, covered, _ = self.moto.verify(self.ids, regions)
                if covered != vpcs:
                    raise SystemExit(f"callgrind sweep at {point}: {covered}/{vpcs} VPCs covered")
            ir = int(refs[-1].split(":")[1].replace(",", ""))
            figures[mode] = {"instructions": ir, "per_account": ir / accounts}
            log(f"flowguard {mode:5} {point} under callgrind: {ir / 1e9:.2f} G instructions, "
                f"{ir / accounts / 1e6:.2f} M per account")
        return figures

    def point(self, point, runs, tools):
        accounts = int(point.split("x")[0])
        regions = self.regions_of(point)
        out = []
        for run in range(runs):
            order = tools if run % 2 == 0 else tuple(reversed(tools))
            log(f"{point}: run {run + 1}/{runs} ({', '.join(order)})")
            self.ids, expect = self.moto.seed(accounts, regions, self.args.vpcs)
            expect["accounts"] = accounts
            if "c7n-org" in tools:
                self.accounts_path, listed = self.accounts_file(point)
                assert listed == accounts, (listed, accounts)
            figures = {"audit": {}, "sweep": {}, "expect": expect}
            for tool in order:
                figures["audit"][tool] = self.run_tool(tool, "audit", point, run, expect)
            for i, tool in enumerate(order):
                if i:
                    self.moto.restore()
                figures["sweep"][tool] = self.run_tool(tool, "sweep", point, run, expect)
            out.append(figures)
        return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--moto", required=True)
    ap.add_argument("--flowguard")
    ap.add_argument("--out")
    ap.add_argument("--instructions", action="store_true",
                    help="flowguard alone, one run per point of --sizes, under callgrind")
    ap.add_argument("--seed-only", metavar="AxR",
                    help="reset moto, seed A member accounts in R regions, and exit: for profiling")
    ap.add_argument("--sizes", default="20,100,300")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--large-runs", type=int, default=1,
                    help="runs at the largest of --sizes (and of the flowguard-only points)")
    ap.add_argument("--vpcs", type=int, default=5)
    ap.add_argument("--regions", default=",".join(REGIONS))
    ap.add_argument("--flowguard-only", default="1000x1",
                    help="comma-separated AxR points run with flowguard alone ('' for none)")
    ap.add_argument("--c7n-large", action="store_true",
                    help="run c7n-org at the --flowguard-only points too")
    ap.add_argument("--concurrency", type=int, default=16,
                    help="flowguard's --concurrency, and c7n-org's matched C7N_ORG_PARALLEL")
    args = ap.parse_args()
    loopback_only(args.moto)
    if args.seed_only:
        accounts, nregions = (int(x) for x in args.seed_only.split("x"))
        OrgMoto(args.moto).seed(accounts, args.regions.split(",")[:nregions], args.vpcs)
        return
    if not (args.flowguard and args.out):
        ap.error("--flowguard and --out are required")
    sizes = [int(s) for s in args.sizes.split(",") if s]
    nregions = len(args.regions.split(","))
    bench = OrgBench(args)
    started = time.perf_counter()
    if args.instructions:
        try:
            points = {f"{a}x{nregions}": bench.instructions(f"{a}x{nregions}") for a in sizes}
        finally:
            bench.close()
        valgrind = subprocess.run(["valgrind", "--version"], capture_output=True, text=True).stdout.strip()
        with open(args.out, "w") as f:
            json.dump({"points": points, "vpcs_per_region": args.vpcs, "valgrind": valgrind,
                       "duration_s": round(time.perf_counter() - started, 1)}, f, indent=1, sort_keys=True)
        log(f"org instructions: done in {time.perf_counter() - started:.0f} s")
        return
    points, runs = {}, {}

    def save(partial):
        result = summary(args, points, runs, started)
        result["partial"] = partial
        with open(args.out, "w") as f:
            json.dump(result, f, indent=1, sort_keys=True)

    try:
        for a in sizes:
            point = f"{a}x{nregions}"
            runs[point] = args.large_runs if a == max(sizes) and len(sizes) > 1 else args.runs
            points[point] = bench.point(point, runs[point], TOOLS)
            save(True)
        for spec in [p for p in args.flowguard_only.split(",") if p]:
            point, _, n = spec.partition(":")
            tools = TOOLS if args.c7n_large else ("flowguard",)
            runs[point] = int(n) if n else args.large_runs
            points[point] = bench.point(point, runs[point], tools)
            save(True)
        save(False)
    finally:
        bench.close()
    log(f"org: done in {time.perf_counter() - started:.0f} s")


def summary(args, points, runs, started):
    versions = subprocess.run(
        [sys.executable, "-c", "import importlib.metadata as m, boto3, botocore; "
         "print(m.version('c7n'), m.version('c7n-org'), boto3.__version__, botocore.__version__)"],
        capture_output=True, text=True).stdout.split()
    workers = subprocess.run([sys.executable, "-c", "import c7n_org.cli as c; print(c.WORKER_COUNT)"],
                             capture_output=True, text=True, env={**os.environ, "PATH": "/usr/bin:/bin"}
                             ).stdout.strip()
    flowguard_version = subprocess.run([args.flowguard, "--version"], capture_output=True,
                                       text=True).stdout.strip()
    return {
        "sizes": [int(s) for s in args.sizes.split(",") if s], "regions": args.regions.split(","),
        "vpcs_per_region": args.vpcs,
        "runs": {p: runs[p] for p in points}, "concurrency": args.concurrency, "flowguard_only": args.flowguard_only,
        "c7n_org_default_workers": int(workers) if workers.isdigit() else None,
        "seed": {"compliant_reject": 0.25, "compliant_all": 0.05, "accept_only": 0.05, "none": 0.65,
                 "group": GROUP, "group_retention_days": 365, "default_vpc_included": True},
        "versions": {"c7n": versions[0], "c7n_org": versions[1], "boto3": versions[2],
                     "botocore": versions[3], "flowguard": flowguard_version},
        "points": points,
        "duration_s": round(time.perf_counter() - started, 1),
    }


if __name__ == "__main__":
    main()
