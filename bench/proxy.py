"""A recording proxy in front of moto server: forwards every request unchanged and counts
them by AWS operation, so that both tools' AWS calls are counted the same way.

    python bench/proxy.py UPSTREAM_URL     prints "PORT\n" on stdout once it listens

The operation is read the way the protocols carry it:
- query protocol (EC2, IAM, STS): `Action=` in the form-encoded body (or the query string);
- JSON protocol (CloudWatch Logs): the `X-Amz-Target` header, `Logs_20140328.DescribeLogGroups`;
- Smithy RPC v2 (CBOR): the path `/service/<Service>/operation/<Operation>`;
the service is the one named in the SigV4 credential scope of the `Authorization` header.

Control endpoints (not forwarded, not counted):
- `GET /__proxy__/counts`: `{"ec2:DescribeVpcs": {"calls": 1, "request_bytes": …,
  "response_bytes": …, "errors": 0, "upstream_ms": …, "params": {"Filter.Name": 1, …}}, …}`
  (errors: HTTP status >= 400; upstream_ms: time spent waiting for moto's answers, summed;
  params: each query-protocol parameter, list indexes dropped, with the most values it had in
  one call, e.g. `ResourceId: 1000` for a CreateFlowLogs of 1000 VPCs);
- `POST /__proxy__/reset`: zero the counters.

Standard library only; one persistent upstream connection per client connection."""

import http.client
import json
import re
import socket
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
              "trailer", "transfer-encoding", "upgrade", "content-length"}
SCOPE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request")
RPCV2 = re.compile(r"^/service/([^/]+)/operation/([^/?]+)")


INDEX = re.compile(r"\.\d+(?=\.|$)")


def operation(method, path, headers, body):
    """`(service:Operation, params)` of one request (best effort; `?` where unreadable).
    `params` is, for the query protocol, the form's parameter names with list indexes
    dropped (`ResourceId.1` -> `ResourceId`) and how many values each had; else `None`."""
    m = SCOPE.search(headers.get("Authorization", ""))
    service = m.group(1) if m else "?"
    target = headers.get("X-Amz-Target")
    if target:
        return f"{service}:{target.rsplit('.', 1)[-1]}", None
    m = RPCV2.match(path)
    if m:
        return f"{service}:{m.group(2)}", None
    query = urllib.parse.urlsplit(path).query
    for source in (body, query.encode()):
        if not source:
            continue
        try:
            form = urllib.parse.parse_qs(source.decode("utf-8", "replace"))
        except ValueError:
            form = {}
        if form.get("Action"):
            params = {}
            for key in form:
                name = INDEX.sub("", key)
                params[name] = params.get(name, 0) + 1
            return f"{service}:{form['Action'][0]}", params
    return f"{service}:{method} {urllib.parse.urlsplit(path).path}", None


class Counter:
    def __init__(self):
        self.lock = threading.Lock()
        self.ops = {}

    def add(self, op, params, request_bytes, response_bytes, status, upstream_ms):
        with self.lock:
            entry = self.ops.setdefault(
                op, {"calls": 0, "request_bytes": 0, "response_bytes": 0, "errors": 0,
                     "upstream_ms": 0.0, "params": {}})
            entry["calls"] += 1
            entry["upstream_ms"] = round(entry["upstream_ms"] + upstream_ms, 3)
            entry["request_bytes"] += request_bytes
            entry["response_bytes"] += response_bytes
            entry["errors"] += status >= 400
            for name, count in (params or {}).items():
                entry["params"][name] = max(entry["params"].get(name, 0), count)

    def snapshot(self):
        with self.lock:
            return json.loads(json.dumps(self.ops))

    def reset(self):
        with self.lock:
            self.ops = {}


def make_handler(upstream, counter):
    target = urllib.parse.urlsplit(upstream)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        upstream_conn = None

        def log_message(self, *args):
            pass

        def _read_body(self):
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                chunks = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass
                        return b"".join(chunks)
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def setup(self):
            super().setup()
            # Headers and body in separate segments would meet the client's delayed ACK
            # (Nagle): tens of milliseconds per response that are neither tool's.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def _send(self, status, body, headers=()):
            self.send_response(status)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self._headers_buffer.append(b"\r\n")
            self._headers_buffer.append(body)
            self.wfile.write(b"".join(self._headers_buffer))
            self._headers_buffer = []

        def _control(self):
            if self.path.startswith("/__proxy__/counts"):
                self._send(200, json.dumps(counter.snapshot()).encode(),
                           [("Content-Type", "application/json")])
            elif self.path.startswith("/__proxy__/reset"):
                counter.reset()
                self._send(200, b"{}", [("Content-Type", "application/json")])
            else:
                self._send(404, b"")

        def _forward(self):
            body = self._read_body()
            if self.path.startswith("/__proxy__/"):
                self._control()
                return
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            headers["Content-Length"] = str(len(body))
            started = time.perf_counter()
            for attempt in (1, 2):
                if self.upstream_conn is None:
                    self.upstream_conn = http.client.HTTPConnection(
                        target.hostname, target.port, timeout=300)
                    self.upstream_conn.connect()
                    self.upstream_conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                try:
                    self.upstream_conn.request(self.command, self.path, body=body, headers=headers)
                    resp = self.upstream_conn.getresponse()
                    payload = resp.read()
                    break
                except (http.client.HTTPException, OSError):
                    self.upstream_conn.close()
                    self.upstream_conn = None
                    if attempt == 2:
                        self._send(502, b"proxy: upstream failed")
                        return
            out = [(k, v) for k, v in resp.getheaders() if k.lower() not in HOP_BY_HOP]
            op, params = operation(self.command, self.path, self.headers, body)
            counter.add(op, params, len(body), len(payload), resp.status,
                        (time.perf_counter() - started) * 1000)
            self._send(resp.status, payload, out)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _forward

        def finish(self):
            super().finish()
            if self.upstream_conn is not None:
                self.upstream_conn.close()

    return Handler


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        pass  # clients that drop their connection are expected


def main():
    upstream = sys.argv[1]
    server = Server(("127.0.0.1", 0), make_handler(upstream, Counter()))
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
