"""flowguard against Cloud Custodian (c7n), on the same moto server, same machine, same run.
Run by `./scripts/bench compare` with the bench virtualenv (.venv-bench); prints nothing but
progress on stderr and writes one JSON file.

    compare.py --moto URL --flowguard BIN --lambda BIN --out FILE
               [--sizes 100,1000,5000] [--runs 3] [--event-sizes 100,1000] [--cold 5]
    compare.py --moto URL --seed-only N      (reset and seed moto, for profiling by hand)

Every measured run starts from the same state: moto is reset (POST /moto-api/reset) and
seeded again before each tool's run. The seed: N VPCs, of which 25% have an ACTIVE REJECT flow
log and 5% an ALL flow log into `/vpc/flow-logs` (kept 365 days: both compliant), 5% an
ACCEPT-only flow log (into another group), and 65% none; the delivery role exists. Both tools
must leave every VPC with a flow log that captures rejected traffic; the script checks it.

Both tools reach moto through bench/proxy.py, which counts their AWS calls by operation. The
tools run with dummy credentials, no config files and no instance metadata, and only ever see
a loopback endpoint.

1. Region sweep, for each N: `flowguard apply --yes --format json` (the release CLI) and
   `custodian run --cache-period 0` (pull mode): wall time, client CPU (user+sys) and peak RSS
   of the process (os.wait4's rusage), AWS calls.
2. One CreateVpc event with N other VPCs in the account (two new VPCs: the first event warms
   the process up, the second is measured): flowguard's release Lambda binary under
   bench/runtime_api.py (handler time excluding init: from the event leaving the runtime API to
   the response reaching it), against Custodian's CloudTrail-mode policy run in-process by
   bench/custodian_event.py (`policy.push(event, context)`). Time, CPU of the handler
   (/proc/PID/task/*/schedstat), AWS calls, peak RSS (VmHWM) of the process.
3. Cold start, process start to ready: flowguard's Lambda init (to its first poll of the
   runtime API) against Custodian's imports, provider init and policy load and validation.
4. Behaviour (once, a handful of VPCs): what each tool leaves in place, read back from moto.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import boto3
from botocore.config import Config as BotoConfig

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from runtime_api import RuntimeApi  # noqa: E402

ACCOUNT = "123456789012"  # moto's default account
REGION = "us-east-1"
ROLE_NAME = "flowguard-bench-delivery"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/{ROLE_NAME}"
GROUP = "/vpc/flow-logs"  # flowguard's default, and the group of bench/custodian-policy.yml
ACCEPT_GROUP = "/legacy/vpc-accept"
POLICY = os.path.join(HERE, "custodian-policy.yml")
TRUST = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
    "Action": "sts:AssumeRole",
    "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT},
                  "ArnLike": {"aws:SourceArn": f"arn:aws:ec2:{REGION}:{ACCOUNT}:vpc-flow-log/*"}}}]}


def log(msg):
    print(f"    {msg}", file=sys.stderr, flush=True)


def loopback_only(url):
    host = urllib.parse.urlsplit(url).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit(f"refusing a non-loopback endpoint: {url}")
    return url


def median(xs):
    return statistics.median(xs) if xs else None


# ---------------------------------------------------------------- moto and the proxy

class Moto:
    """The emulator, driven directly (never through the proxy)."""

    def __init__(self, url):
        self.url = loopback_only(url)
        kw = dict(endpoint_url=url, region_name=REGION, aws_access_key_id="testing",
                  aws_secret_access_key="testing",
                  config=BotoConfig(retries={"mode": "standard", "max_attempts": 3},
                                    max_pool_connections=16))
        self.ec2 = boto3.client("ec2", **kw)
        self.logs = boto3.client("logs", **kw)
        self.iam = boto3.client("iam", **kw)

    def reset(self):
        req = urllib.request.Request(f"{self.url}/moto-api/reset", data=b"", method="POST")
        urllib.request.urlopen(req, timeout=60).read()

    def _drop_default_vpc(self):
        for vpc in self.ec2.describe_vpcs()["Vpcs"]:
            if vpc.get("IsDefault"):
                subnets = self.ec2.describe_subnets(
                    Filters=[{"Name": "vpc-id", "Values": [vpc["VpcId"]]}])["Subnets"]
                for s in subnets:
                    self.ec2.delete_subnet(SubnetId=s["SubnetId"])
                self.ec2.delete_vpc(VpcId=vpc["VpcId"])

    def create_vpcs(self, n):
        def one(_):
            return self.ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        with ThreadPoolExecutor(8) as pool:
            return list(pool.map(one, range(n)))

    def flow_logs(self, ids, traffic, group):
        for i in range(0, len(ids), 1000):
            out = self.ec2.create_flow_logs(
                ResourceType="VPC", ResourceIds=ids[i:i + 1000], TrafficType=traffic,
                LogDestinationType="cloud-watch-logs", LogGroupName=group,
                DeliverLogsPermissionArn=ROLE_ARN)
            assert not out.get("Unsuccessful"), out["Unsuccessful"]

    def group(self, name, days):
        self.logs.create_log_group(logGroupName=name)
        if days:
            self.logs.put_retention_policy(logGroupName=name, retentionInDays=days)

    def role(self):
        self.iam.create_role(RoleName=ROLE_NAME, AssumeRolePolicyDocument=json.dumps(TRUST))

    def seed(self, n, new=0):
        """The benchmark's account: n VPCs in the mix of the module doc, plus `new` VPCs
        without any flow log (created last, as a CreateVpc event would announce them)."""
        started = time.perf_counter()
        self.reset()
        self._drop_default_vpc()
        self.role()
        self.group(GROUP, 365)
        self.group(ACCEPT_GROUP, 365)
        ids = self.create_vpcs(n)
        kinds = {"REJECT": [], "ALL": [], "ACCEPT": []}
        for i, vpc in enumerate(ids):
            slot = i % 20
            if slot < 5:
                kinds["REJECT"].append(vpc)
            elif slot == 5:
                kinds["ALL"].append(vpc)
            elif slot == 6:
                kinds["ACCEPT"].append(vpc)
        self.flow_logs(kinds["REJECT"], "REJECT", GROUP)
        self.flow_logs(kinds["ALL"], "ALL", GROUP)
        self.flow_logs(kinds["ACCEPT"], "ACCEPT", ACCEPT_GROUP)
        fresh = self.create_vpcs(new) if new else []
        log(f"seeded {n} VPCs (+{new} new) in {time.perf_counter() - started:.1f} s")
        return ids, fresh

    def all_flow_logs(self):
        return [fl for page in self.ec2.get_paginator("describe_flow_logs").paginate()
                for fl in page["FlowLogs"]]

    def all_vpcs(self):
        return [v["VpcId"] for page in self.ec2.get_paginator("describe_vpcs").paginate()
                for v in page["Vpcs"]]

    def covered(self):
        """(VPCs, VPCs with an ACTIVE flow log capturing REJECT, delivering not FAILED)."""
        vpcs = set(self.all_vpcs())
        ok = {fl["ResourceId"] for fl in self.all_flow_logs()
              if fl.get("FlowLogStatus") == "ACTIVE" and fl.get("TrafficType") in ("REJECT", "ALL")
              and fl.get("DeliverLogsStatus") != "FAILED"}
        return len(vpcs), len(vpcs & ok)


class Proxy:
    def __init__(self, upstream, python):
        self.proc = subprocess.Popen([python, os.path.join(HERE, "proxy.py"), upstream],
                                     stdout=subprocess.PIPE, text=True)
        self.url = f"http://127.0.0.1:{int(self.proc.stdout.readline())}"

    def _call(self, path, method="GET"):
        req = urllib.request.Request(f"{self.url}{path}", method=method,
                                     data=b"" if method == "POST" else None)
        return json.loads(urllib.request.urlopen(req, timeout=30).read())

    def reset(self):
        self._call("/__proxy__/reset", "POST")

    def counts(self):
        return self._call("/__proxy__/counts")

    def close(self):
        self.proc.terminate()
        self.proc.wait()


def total_calls(counts):
    return sum(c["calls"] for c in counts.values())


def calls_summary(counts):
    return {op: c["calls"] for op, c in sorted(counts.items())}


# ---------------------------------------------------------------- processes

def base_env(endpoint, home):
    return {
        "PATH": "/usr/bin:/bin", "HOME": home, "LANG": "C.UTF-8",
        "AWS_ENDPOINT_URL": loopback_only(endpoint),
        "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    }


TIME = "/usr/bin/time"


def measure(cmd, env, cwd, out_path, err_path):
    """Runs cmd to the end under GNU time; wall time, CPU and peak RSS of cmd.

    Peak RSS comes from GNU time's %M (the rusage of its own child): the rusage of a direct
    child of this Python process would not do, because Linux carries the peak RSS of the
    address space a process had before exec (here, a vfork of this Python process with boto3
    loaded, ~70 MiB) into its ru_maxrss. CPU (user+sys) is os.wait4's rusage of GNU time, which
    includes its reaped child, in microseconds (GNU time itself prints hundredths)."""
    rss_file = out_path + ".rss"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        started = time.perf_counter()
        proc = subprocess.Popen([TIME, "-f", "%M", "-o", rss_file, *cmd], env=env, cwd=cwd,
                                stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        _, status, ru = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    with open(rss_file) as f:
        lines = [line for line in f.read().splitlines() if line.strip()]
    peak_kib = int(lines[-1])  # "Command exited with non-zero status N" may come first
    return {"exit": proc.returncode, "wall_s": round(wall, 4),
            "cpu_s": round(ru.ru_utime + ru.ru_stime, 4), "user_s": round(ru.ru_utime, 4),
            "sys_s": round(ru.ru_stime, 4), "peak_rss_mib": round(peak_kib / 1024, 1)}


def vm_hwm_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def cpu_ns(pid):
    """CPU time of all live threads of pid, in ns (schedstat: precise, unlike clock ticks)."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total


def create_vpc_event(vpc):
    with open(os.path.join(ROOT, "tests/fixtures/events/create_vpc.json")) as f:
        event = json.load(f)
    event["detail"]["responseElements"]["vpc"]["vpcId"] = vpc
    event["id"] = f"bench-{vpc}"
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    event["time"] = event["detail"]["eventTime"] = now
    return event


class Bench:
    def __init__(self, args):
        self.args = args
        self.moto = Moto(args.moto)
        self.proxy = Proxy(args.moto, sys.executable)
        self.work = tempfile.mkdtemp(prefix="fg-bench-")
        self.custodian = os.path.join(os.path.dirname(sys.executable), "custodian")

    def close(self):
        self.proxy.close()
        shutil.rmtree(self.work, ignore_errors=True)

    def dir(self, *parts):
        path = os.path.join(self.work, *parts)
        os.makedirs(path, exist_ok=True)
        return path

    def fg_env(self):
        env = base_env(self.proxy.url, self.dir("home"))
        env["FLOWGUARD_DELIVERY_ROLE_ARN"] = ROLE_ARN
        return env

    # ------------------------------------------------------------ 1. sweeps

    def sweep(self, tool, n, run):
        self.moto.seed(n)
        where = self.dir(f"sweep-{tool}-{n}-{run}")
        self.proxy.reset()
        if tool == "flowguard":
            cmd = [self.args.flowguard, "apply", "--yes", "--format", "json", "--region", REGION]
            env = self.fg_env()
        else:
            cmd = [self.custodian, "run", "--cache-period", "0", "-s", os.path.join(where, "out"),
                   "-r", REGION, POLICY]
            env = base_env(self.proxy.url, self.dir("home"))
        figures = measure(cmd, env, where, os.path.join(where, "stdout"),
                          os.path.join(where, "stderr"))
        counts = self.proxy.counts()
        vpcs, covered = self.moto.covered()
        figures.update(calls=total_calls(counts), by_operation=counts, vpcs=vpcs, covered=covered)
        if figures["exit"] != 0 or covered != vpcs:
            tail = open(os.path.join(where, "stderr"), errors="replace").read()[-2000:]
            raise SystemExit(f"{tool} sweep of {n} VPCs: exit {figures['exit']}, "
                             f"{covered}/{vpcs} VPCs covered\n{tail}")
        log(f"{tool:9} sweep N={n}: {figures['wall_s']:.2f} s wall, {figures['cpu_s']:.3f} s CPU, "
            f"{figures['peak_rss_mib']} MiB, {figures['calls']} calls")
        return figures

    # ------------------------------------------------------------ 2. one event, 3. cold start

    def start_flowguard_lambda(self):
        api = RuntimeApi()
        env = self.fg_env()
        env.update({
            "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{api.port}",
            "AWS_LAMBDA_FUNCTION_NAME": "flowguard", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST", "AWS_LAMBDA_LOG_STREAM_NAME": "bench",
            "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/flowguard", "AWS_LAMBDA_LOG_FORMAT": "JSON",
        })
        started = time.perf_counter()
        proc = subprocess.Popen([self.args.lambda_bin], env=env, cwd=self.dir("lambda"),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 30
        while api.first_poll is None:
            if proc.poll() is not None or time.time() > deadline:
                proc.kill()
                raise SystemExit(f"flowguard-lambda did not start (exit {proc.returncode})")
            time.sleep(0.0005)
        return proc, api, (api.first_poll - started) * 1000

    def start_custodian(self):
        env = base_env(self.proxy.url, self.dir("home"))
        cmd = [sys.executable, os.path.join(HERE, "custodian_event.py"), POLICY,
               self.dir("custodian-event-out"), ACCOUNT, REGION]
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, cwd=self.dir("custodian-event"), text=True,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=open(os.path.join(self.work, "custodian-event.err"), "a"))
        line = proc.stdout.readline()
        ready = (time.perf_counter() - started) * 1000
        if not line or not json.loads(line).get("ready"):
            proc.kill()
            raise SystemExit("custodian_event.py did not start (see custodian-event.err)")
        return proc, ready

    @staticmethod
    def stop(proc):
        proc.kill()
        proc.wait()

    def event(self, tool, n, run):
        _, (first, second) = self.moto.seed(n, new=2)
        results = []
        if tool == "flowguard":
            proc, api, init_ms = self.start_flowguard_lambda()
            try:
                for vpc in (first, second):
                    self.proxy.reset()
                    cpu0 = cpu_ns(proc.pid)
                    outcome, seconds, body = api.invoke(create_vpc_event(vpc))
                    cpu = (cpu_ns(proc.pid) - cpu0) / 1e6
                    if outcome != "response" or b'"remediated"' not in body:
                        raise SystemExit(f"flowguard event: {outcome} {body[:500]!r}")
                    counts = self.proxy.counts()
                    results.append({"handler_ms": round(seconds * 1000, 2), "cpu_ms": round(cpu, 2),
                                    "calls": total_calls(counts), "by_operation": counts})
                rss = vm_hwm_kib(proc.pid)
            finally:
                self.stop(proc)
                api.close()
        else:
            proc, init_ms = self.start_custodian()
            try:
                for vpc in (first, second):
                    self.proxy.reset()
                    proc.stdin.write(json.dumps(create_vpc_event(vpc)) + "\n")
                    proc.stdin.flush()
                    answer = json.loads(proc.stdout.readline())
                    counts = self.proxy.counts()
                    # CPU of push() alone, measured inside (getrusage), without the reload.
                    results.append({"handler_ms": answer["push_ms"], "cpu_ms": answer["cpu_ms"],
                                    "policy_reload_ms": answer["load_ms"],
                                    "calls": total_calls(counts), "by_operation": counts})
                rss = vm_hwm_kib(proc.pid)
            finally:
                self.stop(proc)
        with_flow_log = {fl["ResourceId"] for fl in self.moto.all_flow_logs()
                         if fl["TrafficType"] == "REJECT" and fl.get("LogGroupName") == GROUP}
        if not {first, second} <= with_flow_log:
            raise SystemExit(f"{tool} event with N={n}: the new VPCs got no REJECT flow log")
        warm = results[1]
        figures = {"init_ms": round(init_ms, 2), "handler_ms": warm["handler_ms"],
                   "cpu_ms": warm["cpu_ms"], "calls": warm["calls"],
                   "by_operation": warm["by_operation"],
                   "response_bytes": sum(c["response_bytes"] for c in warm["by_operation"].values()),
                   "first_event": {k: v for k, v in results[0].items() if k != "by_operation"},
                   "peak_rss_mib": round(rss / 1024, 1)}
        if "policy_reload_ms" in warm:
            figures["policy_reload_ms"] = warm["policy_reload_ms"]
        log(f"{tool:9} event N={n}: {figures['handler_ms']} ms handler "
            f"(first {results[0]['handler_ms']} ms), {figures['calls']} calls, "
            f"init {figures['init_ms']:.0f} ms, {figures['peak_rss_mib']} MiB")
        return figures

    def cold_starts(self, k):
        """k more cold starts of each tool, interleaved (the account is already seeded)."""
        out = {"flowguard": [], "custodian": []}
        for _ in range(k):
            proc, api, init_ms = self.start_flowguard_lambda()
            self.stop(proc)
            api.close()
            out["flowguard"].append(round(init_ms, 2))
            proc, ready_ms = self.start_custodian()
            self.stop(proc)
            out["custodian"].append(round(ready_ms, 2))
        return out

    # ------------------------------------------------------------ 4. behaviour

    def behaviour(self):
        """A handful of VPCs in the situations where the two tools differ; each tool runs
        twice on a fresh copy; what each leaves in place is read back from moto."""
        def setup():
            self.moto.reset()
            self._setup_behaviour()

        report = {}
        for tool in ("flowguard", "custodian"):
            setup()
            runs = []
            for attempt in (1, 2):
                where = self.dir(f"behaviour-{tool}-{attempt}")
                self.proxy.reset()
                if tool == "flowguard":
                    cmd = [self.args.flowguard, "apply", "--yes", "--format", "json",
                           "--region", REGION]
                    env = self.fg_env()
                else:
                    cmd = [self.custodian, "run", "--cache-period", "0", "-s",
                           os.path.join(where, "out"), "-r", REGION, POLICY]
                    env = base_env(self.proxy.url, self.dir("home"))
                figures = measure(cmd, env, where, os.path.join(where, "stdout"),
                                  os.path.join(where, "stderr"))
                counts = self.proxy.counts()
                runs.append({"exit": figures["exit"], "calls": calls_summary(counts),
                             "create_flow_logs_params": sorted(
                                 counts.get("ec2:CreateFlowLogs", {}).get("params", {}))})
            report[tool] = {"runs": runs, "state": self._behaviour_state()}
        return report

    def _setup_behaviour(self):
        m = self.moto
        m._drop_default_vpc()
        m.role()
        names = ["no_flow_log", "accept_only", "reject_failing_delivery",
                 "reject_group_deleted", "reject_group_30_days"]
        ids = m.create_vpcs(len(names))
        self.behaviour_vpcs = dict(zip(names, ids))
        v = self.behaviour_vpcs
        m.group(ACCEPT_GROUP, 365)
        m.flow_logs([v["accept_only"]], "ACCEPT", ACCEPT_GROUP)
        # A destination group that does not exist: EC2 (and moto) accept the flow log and
        # report DeliverLogsStatus=FAILED.
        m.flow_logs([v["reject_failing_delivery"]], "REJECT", "/team/never-created")
        m.group("/team/deleted", 365)
        m.flow_logs([v["reject_group_deleted"]], "REJECT", "/team/deleted")
        m.logs.delete_log_group(logGroupName="/team/deleted")
        m.group("/team/short", 30)
        m.flow_logs([v["reject_group_30_days"]], "REJECT", "/team/short")
        # /vpc/flow-logs does not exist yet: who creates it, with what retention and tags?

    def _behaviour_state(self):
        m = self.moto
        groups = {g["logGroupName"]: g for g in m.logs.describe_log_groups()["logGroups"]}

        def group_info(name):
            g = groups.get(name)
            if g is None:
                return {"exists": False}
            tags = m.logs.list_tags_log_group(logGroupName=name).get("tags", {})
            return {"exists": True, "retention_days": g.get("retentionInDays"), "tags": tags}

        fls = m.all_flow_logs()
        vpcs = {}
        for name, vpc in self.behaviour_vpcs.items():
            mine = [fl for fl in fls if fl["ResourceId"] == vpc]
            vpcs[name] = {
                "flow_logs": len(mine),
                "new_reject_into_policy_group": any(
                    fl["TrafficType"] == "REJECT" and fl.get("LogGroupName") == GROUP for fl in mine),
                "new_flow_log_tags": sorted(
                    f"{t['Key']}={t['Value']}" for fl in mine if fl.get("LogGroupName") == GROUP
                    for t in fl.get("Tags", [])),
            }
        return {"policy_group": group_info(GROUP), "short_group": group_info("/team/short"),
                "vpcs": vpcs}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--moto", required=True)
    ap.add_argument("--flowguard")
    ap.add_argument("--lambda", dest="lambda_bin")
    ap.add_argument("--out")
    ap.add_argument("--sizes", default="100,1000,5000")
    ap.add_argument("--event-sizes", default="100,1000")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--cold", type=int, default=5, help="extra cold starts per tool per run")
    ap.add_argument("--seed-only", type=int, metavar="N",
                    help="reset moto, seed N VPCs (and the role), and exit: for profiling")
    args = ap.parse_args()
    if args.seed_only is not None:
        Moto(args.moto).seed(args.seed_only)
        return
    if not (args.flowguard and args.lambda_bin and args.out):
        ap.error("--flowguard, --lambda and --out are required")
    sizes = [int(s) for s in args.sizes.split(",") if s]
    event_sizes = [int(s) for s in args.event_sizes.split(",") if s]

    bench = Bench(args)
    started = time.perf_counter()
    sweeps = {str(n): {"flowguard": [], "custodian": []} for n in sizes}
    events = {str(n): {"flowguard": [], "custodian": []} for n in event_sizes}
    cold = {"flowguard": [], "custodian": []}
    try:
        for run in range(args.runs):
            # Alternate which tool goes first, so that neither always meets a warmer moto.
            order = ("flowguard", "custodian") if run % 2 == 0 else ("custodian", "flowguard")
            log(f"run {run + 1}/{args.runs} ({order[0]} first)")
            for n in sizes:
                for tool in order:
                    sweeps[str(n)][tool].append(bench.sweep(tool, n, run))
            for n in event_sizes:
                for tool in order:
                    events[str(n)][tool].append(bench.event(tool, n, run))
            for tool, values in bench.cold_starts(args.cold).items():
                cold[tool].extend(values)
        for tool in ("flowguard", "custodian"):
            for per_size in events.values():
                cold[tool].extend(r["init_ms"] for r in per_size[tool])
        log("behaviour: what each tool leaves in place")
        behaviour = bench.behaviour()
    finally:
        bench.close()

    custodian_version = subprocess.run(
        [sys.executable, "-c", "import c7n.version; print(c7n.version.version)"],
        capture_output=True, text=True).stdout.strip()
    boto_version = subprocess.run(
        [sys.executable, "-c", "import boto3, botocore; print(boto3.__version__, botocore.__version__)"],
        capture_output=True, text=True).stdout.split()
    result = {
        "runs": args.runs, "sizes": sizes, "event_sizes": event_sizes,
        "seed": {"compliant_reject": 0.25, "compliant_all": 0.05, "accept_only": 0.05,
                 "none": 0.65, "group": GROUP, "group_retention_days": 365},
        "versions": {"custodian": custodian_version, "boto3": boto_version[0],
                     "botocore": boto_version[1]},
        "sweeps": sweeps, "events": events, "cold_start_ms": cold, "behaviour": behaviour,
        "duration_s": round(time.perf_counter() - started, 1),
    }
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1, sort_keys=True)
    log(f"compare: done in {result['duration_s']} s")


if __name__ == "__main__":
    main()
