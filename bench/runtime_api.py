"""A minimal Lambda runtime API (the 2018-06-01 interface) for measuring the function:
when it first polls for work (end of init), how long each invocation takes, what it answers.
Used by bench/lambda.py only; the tests use cargo lambda watch, the real emulator."""

import json
import queue
import socket
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class RuntimeApi:
    def __init__(self):
        self.events = queue.Queue()
        self.results = queue.Queue()
        self.first_poll = None
        self.init_error = None
        self.sent_at = {}
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def setup(self):
                super().setup()
                # Headers and body would otherwise go in two segments, and the second would
                # wait for the function's delayed ACK (Nagle): up to 40 ms per invocation
                # that belong to this emulator, not to the function.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def _body(self):
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            def _reply(self, status, body=b"", headers=()):
                self.send_response(status)
                for k, v in headers:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                if self.path.endswith("/runtime/invocation/next"):
                    if api.first_poll is None:
                        api.first_poll = time.perf_counter()
                    payload = api.events.get()
                    request_id = str(uuid.uuid4())
                    api.sent_at[request_id] = time.perf_counter()
                    self._reply(200, payload, [
                        ("Lambda-Runtime-Aws-Request-Id", request_id),
                        ("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 60_000)),
                        ("Lambda-Runtime-Invoked-Function-Arn",
                         "arn:aws:lambda:us-east-1:123456789012:function:flowguard"),
                        ("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000"),
                        ("Content-Type", "application/json"),
                    ])
                else:
                    self._reply(404)

            def do_POST(self):
                body = self._body()
                now = time.perf_counter()
                if "/runtime/init/error" in self.path:
                    api.init_error = body
                    self._reply(202)
                    return
                parts = self.path.split("/")
                request_id = parts[-2]
                outcome = parts[-1]  # response | error
                api.results.put((outcome, now - api.sent_at.pop(request_id, now), body))
                self._reply(202)

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                pass  # the function is killed between runs; its dropped connections are expected

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def invoke(self, event, timeout=60):
        self.events.put(json.dumps(event).encode())
        return self.results.get(timeout=timeout)

    def close(self):
        self.server.shutdown()
