"""Benchmarks the flowguard Lambda binary: cold init (process start to first poll of the
runtime API), per-event handler time against moto, peak RSS. Prints JSON.

usage: lambda.py BINARY MOTO_URL [cold_starts] [events]"""

import json
import os
import statistics
import subprocess
import sys
import time

import boto3

sys.path.insert(0, os.path.dirname(__file__))
from runtime_api import RuntimeApi  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def peak_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def main():
    binary, moto = sys.argv[1], sys.argv[2]
    cold_starts = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    events = int(sys.argv[4]) if len(sys.argv) > 4 else 20
    kw = dict(endpoint_url=moto, region_name="us-east-1", aws_access_key_id="testing",
              aws_secret_access_key="testing")
    ec2, iam = boto3.client("ec2", **kw), boto3.client("iam", **kw)
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {
        "Service": "vpc-flow-logs.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    try:
        role = iam.create_role(RoleName="bench-delivery", AssumeRolePolicyDocument=json.dumps(trust))
    except iam.exceptions.EntityAlreadyExistsException:
        role = iam.get_role(RoleName="bench-delivery")
    with open(os.path.join(ROOT, "tests/fixtures/events/create_vpc.json")) as f:
        create_vpc = json.load(f)

    env = {
        "PATH": "/usr/bin:/bin",
        "AWS_ENDPOINT_URL": moto, "AWS_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_LAMBDA_FUNCTION_NAME": "flowguard", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST", "AWS_LAMBDA_LOG_STREAM_NAME": "bench",
        "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/flowguard", "AWS_LAMBDA_LOG_FORMAT": "JSON",
        "FLOWGUARD_DELIVERY_ROLE_ARN": role["Role"]["Arn"],
    }
    inits, handler_ms, rss = [], [], []
    for run in range(cold_starts):
        api = RuntimeApi()
        env["AWS_LAMBDA_RUNTIME_API"] = f"127.0.0.1:{api.port}"
        start = time.perf_counter()
        proc = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            # The first event is queued only after the first poll was seen.
            deadline = time.time() + 30
            while api.first_poll is None:
                if proc.poll() is not None or time.time() > deadline:
                    raise SystemExit(f"the function did not start (exit {proc.returncode})")
                time.sleep(0.0005)
            inits.append((api.first_poll - start) * 1000)
            n = events if run == 0 else 1
            for _ in range(n):
                vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
                event = dict(create_vpc)
                event["detail"] = json.loads(json.dumps(create_vpc["detail"]))
                event["detail"]["responseElements"]["vpc"]["vpcId"] = vpc
                event["id"] = f"bench-{vpc}"
                event["time"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
                outcome, seconds, body = api.invoke(event)
                if outcome != "response" or b'"remediated"' not in body:
                    raise SystemExit(f"unexpected answer: {outcome} {body[:300]!r}")
                handler_ms.append(seconds * 1000)
            rss.append(peak_rss_kib(proc.pid))
        finally:
            proc.kill()
            proc.wait()
            api.close()
    print(json.dumps({
        "cold_starts": cold_starts,
        "init_ms_median": round(statistics.median(inits), 2),
        "init_ms_p90": round(sorted(inits)[int(0.9 * (len(inits) - 1))], 2),
        "init_ms_max": round(max(inits), 2),
        "handler_events": len(handler_ms),
        "handler_ms_median": round(statistics.median(handler_ms), 2),
        "handler_ms_p90": round(sorted(handler_ms)[int(0.9 * (len(handler_ms) - 1))], 2),
        "peak_rss_mib_max": round(max(rss) / 1024, 1),
    }))


if __name__ == "__main__":
    main()
