#!/usr/bin/env python3
"""A stand-in for provisiond that provisionctl's end-to-end test needs for
what a real one cannot be made to do on demand: answer any status, hang,
record the headers it was sent (Authorization, Last-Event-ID), and drop
an event stream midway. Prints PORT=<n>; appends one JSON line per request
to the log file given as argv[1].

GET /v1/requests/status-<code>  answers <code> with the API's error shape
GET /v1/requests/plain-502      answers 502 with an HTML body
GET /v1/requests/evil           answers 400 with a terminal escape in the message
GET /v1/requests/hang           never answers
GET /v1/requests/<id>           answers 200 {"id": <id>, "state": "Completed"}
GET /v1/events/stream           connection 1: events 1, 2 (chunked), then closes;
                                connection 2: a heartbeat, event 3, then `event: dropped`
                                (lastEventId 3) and closes; connection 3+: event 4, then idles
"""
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOG = sys.argv[1]
lock = threading.Lock()
stream_connections = 0


def record(handler):
    entry = {
        "method": handler.command,
        "path": handler.path,
        "authorization": handler.headers.get("Authorization"),
        "lastEventId": handler.headers.get("Last-Event-ID"),
        "accept": handler.headers.get("Accept"),
    }
    with lock, open(LOG, "a") as f:
        f.write(json.dumps(entry) + "\n")


def event(position, request, type_, seq):
    data = {"position": position, "stream": "request-" + request, "requestId": request, "tenantId": "fake",
            "seq": seq, "eventId": f"{request}:{seq}", "type": type_, "schemaVersion": 1,
            "time": "2026-01-01T00:00:00.000Z", "data": {}}
    return f"id: {position}\nevent: {type_}\ndata: {json.dumps(data)}\n\n"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, body, content_type="application/json"):
        raw = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_GET(self):
        record(self)
        path = self.path.split("?")[0]
        if path == "/v1/events/stream":
            return self.stream()
        if not path.startswith("/v1/requests/"):
            return self.answer(404, json.dumps({"error": {"code": "not_found", "message": "no route"}}))
        rid = path[len("/v1/requests/"):]
        if rid.startswith("status-"):
            code = int(rid[len("status-"):])
            return self.answer(code, json.dumps(
                {"error": {"code": "fake", "message": f"answered {code}", "field": "f"}}))
        if rid == "plain-502":
            return self.answer(502, "<html>bad gateway</html>", "text/html")
        if rid == "evil":
            return self.answer(400, json.dumps({"error": {"code": "x", "message": "bad \x1b[31mred"}}))
        if rid == "hang":
            time.sleep(30)
            return
        return self.answer(200, json.dumps({"id": rid, "state": "Completed"}))

    def stream(self):
        global stream_connections
        with lock:
            stream_connections += 1
            n = stream_connections
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        if n == 1:
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            text = "retry: 100\r\n\r\n" + event(1, "req-a", "request_submitted", 1).replace("\n", "\r\n") \
                + event(2, "req-a", "quota_reserved", 2)
            # Chunks cut mid-line and between CR and LF.
            for i in range(0, len(text), 7):
                piece = text[i:i + 7].encode()
                self.wfile.write(b"%x;ext=1\r\n%s\r\n" % (len(piece), piece))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
            self.close_connection = True
            return
        self.send_header("Connection", "close")
        self.end_headers()
        if n == 2:
            self.wfile.write((": heartbeat\n\n" + event(3, "req-a", "request_admitted", 3) +
                              'event: dropped\ndata: {"reason":"too slow","lastEventId":3}\n\n').encode())
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(event(4, "req-a", "request_completed", 4).encode())
        self.wfile.flush()
        try:
            for _ in range(300):  # until the client leaves
                time.sleep(0.1)
                self.wfile.write(b": heartbeat\n\n")
                self.wfile.flush()
        except OSError:
            pass
        self.close_connection = True


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
print(f"PORT={server.server_address[1]}", flush=True)
server.serve_forever()
