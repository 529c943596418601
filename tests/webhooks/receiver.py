"""A real HTTP receiver on loopback that verifies signatures like a shop backend would."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from webhooks.services import SIGNATURE_HEADER, signature_valid


class Receiver:
    def __init__(self, secret: str = "", responses: list[int] | None = None):
        self.secret = secret
        self.responses = list(responses or [])  # status codes to answer in turn; then 200
        self.received: list[dict] = []  # every request: {"event", "signature_ok", "status"}
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    status = receiver.responses.pop(0) if receiver.responses else 200
                    receiver.received.append(
                        {
                            "event": json.loads(body),
                            "signature_ok": signature_valid(
                                secret=receiver.secret,
                                header=self.headers.get(SIGNATURE_HEADER, ""),
                                body=body,
                            ),
                            "status": status,
                        }
                    )
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
