#pragma once
/// A scripted REST server for provider unit tests (Python, on a free port):
/// canned replies per "METHOD /path?query" (a list: each request takes the
/// next, the last repeats), "{base}" in a reply replaced by the server's own
/// URL; anything else is a tiny object store (PATCH keeps the body at the
/// path, GET returns it, POST echoes 201, otherwise 404). GET /_log answers
/// every "METHOD /path?query" received, in order.

#include <string>

#include <nlohmann/json.hpp>

#include "providers/http/http_client.hpp"
#include "tests/support/local_https.hpp"

namespace provisiond::testing {

inline std::string write_fake_rest_server(const temp_dir& dir) {
  auto script = dir / "fake_rest_server.py";
  std::ofstream{script} << R"(import http.server, json, ssl, sys, threading
mode, routes_file, d = sys.argv[1], sys.argv[2], sys.argv[3]
routes = json.load(open(routes_file))
log, store, lock = [], {}, threading.Lock()
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    disable_nagle_algorithm = True
    def any(self):
        n = int(self.headers.get('Content-Length') or 0)
        body = self.rfile.read(n) if n else b''
        if self.path == '/_log':
            return self.reply(200, log)
        key = self.command + ' ' + self.path
        base = self.path.split('?')[0]
        with lock:
            log.append(key)
            seq = routes.get(key)
            if seq:
                r = seq.pop(0) if len(seq) > 1 else seq[0]
                return self.reply(r[0], r[1], r[2] if len(r) > 2 else {})
            if self.command == 'PATCH':
                store[base] = json.loads(body)
                return self.reply(201, store[base])
            if self.command == 'POST':
                return self.reply(201, json.loads(body) if body else {})
            if self.command == 'GET' and base in store:
                return self.reply(200, store[base])
            if self.command == 'DELETE' and store.pop(base, None) is not None:
                return self.reply(200, {})
        return self.reply(404, {'kind': 'Status', 'reason': 'NotFound', 'message': base + ' not found'})
    def reply(self, status, obj, headers={}):
        b = json.dumps(obj).replace('{base}', url).encode()
        self.send_response(status)
        for k, v in headers.items(): self.send_header(k, v)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(b)))
        self.end_headers()
        self.wfile.write(b)
    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = any
    def log_message(self, *a): pass
srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), H)
if mode == 'https':
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); ctx.load_cert_chain(d + '/server.pem', d + '/server.key')
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
url = mode + '://127.0.0.1:' + str(srv.server_address[1])
print(srv.server_address[1], flush=True)
srv.serve_forever()
)";
  return script;
}

/// `routes`: {"GET /path": [[status, body, {headers}], ...]}. `https` uses
/// dir's server.pem (make_test_ca first).
class fake_rest_server : public python_process {
 public:
  fake_rest_server(const temp_dir& dir, const nlohmann::json& routes, bool https = false)
      : python_process({write_fake_rest_server(dir), https ? "https" : "http", write_routes(dir, routes), dir.str()}),
        scheme_(https ? "https" : "http"),
        ca_(https ? dir / "ca.pem" : std::string{}) {}

  std::string url() const { return scheme_ + "://127.0.0.1:" + std::to_string(port()); }

  /// How many requests "METHOD /path?query" the server received.
  int count(const std::string& key) const {
    int n = 0;
    for (auto& k : log())
      if (k == key) ++n;
    return n;
  }

  nlohmann::json log() const {
    providers::http::client_options o;
    o.ca_file = ca_;
    providers::http::client c{o};
    auto r = c.send({"GET", url() + "/_log", {}, ""});
    return r ? nlohmann::json::parse(r->body, nullptr, false) : nlohmann::json::array();
  }

 private:
  static std::string write_routes(const temp_dir& dir, const nlohmann::json& routes) {
    auto path = dir / "routes.json";
    std::ofstream{path} << routes.dump();
    return path;
  }

  std::string scheme_, ca_;
};

}  // namespace provisiond::testing
