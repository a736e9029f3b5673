"""Cloud Custodian's CloudTrail-mode handler, run in-process, for bench/compare.py.

    python bench/custodian_event.py POLICY_YML OUTPUT_DIR ACCOUNT_ID REGION

Start-up does what Custodian's own Lambda entry point (c7n/handler.py) does before it can
handle an event: import it, initialise the AWS provider with the execution options (the account
id given, as a deployed policy's config.json carries it, so no STS call), load the `aws.vpc`
resource, then load the policy — the pull-mode policy of POLICY_YML with a `cloudtrail` mode on
CreateVpc added — and validate it. Then it prints one JSON line `{"ready": true}`.

Each line on stdin is one EventBridge event; for each, it times `policy.push(event, context)`
with a fake Lambda context (the handler, without start-up) and prints one JSON line:
`{"push_ms", "load_ms", "vm_hwm_kib", "cpu_ms"}`. `load_ms` is what c7n/handler.py does per
event before `push` (PolicyCollection.from_data and validate), measured separately on a copy."""

import json
import os
import resource
import sys
import time


def vm_hwm_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def cpu_ms():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return (r.ru_utime + r.ru_stime) * 1000


class FakeContext:
    function_name = "custodian-vpc-flow-logs-reject"
    function_version = "$LATEST"
    invoked_function_arn = (
        "arn:aws:lambda:us-east-1:123456789012:function:custodian-vpc-flow-logs-reject")
    memory_limit_in_mb = 512
    aws_request_id = "00000000-0000-0000-0000-000000000000"
    log_group_name = "/aws/lambda/custodian-vpc-flow-logs-reject"
    log_stream_name = "bench"

    def get_remaining_time_in_millis(self):
        return 60_000


def main():
    policy_file, output_dir, account_id, region = sys.argv[1:5]

    import logging

    import yaml
    from c7n import handler  # noqa: F401  (Custodian's Lambda entry point: its imports and logging set-up)
    from c7n.config import Config
    from c7n.policy import PolicyCollection
    from c7n.resources import load_resources
    from c7n.resources.aws import AWS

    # The entry point logs at DEBUG to CloudWatch; keep what it writes out of the timings.
    logging.root.handlers = [logging.NullHandler()]
    with open(policy_file) as f:
        data = yaml.safe_load(f)
    for p in data["policies"]:
        p["mode"] = {
            "type": "cloudtrail",
            "events": [{"source": "ec2.amazonaws.com", "event": "CreateVpc",
                        "ids": "responseElements.vpc.vpcId"}],
        }
    config = AWS().initialize(Config.empty(
        account_id=account_id, region=region, output_dir=output_dir, cache_period=0))
    load_resources(("aws.vpc",))

    def load():
        collection = PolicyCollection.from_data(data, config)
        loaded = list(collection)
        for p in loaded:
            p.validate()
        return loaded

    policies = load()
    print(json.dumps({"ready": True}), flush=True)

    for line in sys.stdin:
        if not line.strip():
            continue
        event = json.loads(line)
        started = time.perf_counter()
        load()
        load_ms = (time.perf_counter() - started) * 1000
        cpu_before = cpu_ms()
        started = time.perf_counter()
        for p in policies:
            p.push(event, FakeContext())
        push_ms = (time.perf_counter() - started) * 1000
        print(json.dumps({"push_ms": round(push_ms, 2), "load_ms": round(load_ms, 2),
                          "vm_hwm_kib": vm_hwm_kib(),
                          "cpu_ms": round(cpu_ms() - cpu_before, 2)}), flush=True)


if __name__ == "__main__":
    os.environ.setdefault("C7N_DEBUG_EVENT", "no")
    main()
