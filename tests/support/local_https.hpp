#pragma once
/// Test helpers for TLS: a CA and a server certificate made with the openssl
/// CLI in a temp dir, and a small Python HTTP(S) server on a free port.

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "tests/support/temp_dir.hpp"

namespace provisiond::testing {

/// ca.pem, server.pem and server.key (for localhost and 127.0.0.1) in `dir`.
inline bool make_test_ca(const temp_dir& dir) {
  std::string d = dir.str();
  std::string cmd =
      "cd " + d + " && "
      "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=provisiond-test-ca "
      ">/dev/null 2>&1 && "
      "openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=localhost >/dev/null 2>&1 && "
      "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > san.ext && "
      "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 "
      "-extfile san.ext >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

/// `python3 args...`, a server that prints its port on its first line;
/// killed when this goes.
class python_process {
 public:
  explicit python_process(std::vector<std::string> args) {
    int fds[2];
    if (::pipe(fds) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(fds[1], 1);
      ::close(fds[0]);
      std::vector<char*> argv;
      std::string python = "python3";
      argv.push_back(python.data());
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execvp("python3", argv.data());
      ::_exit(127);
    }
    ::close(fds[1]);
    FILE* f = ::fdopen(fds[0], "r");
    if (f && std::fscanf(f, "%d", &port_) != 1) port_ = 0;
    if (f) std::fclose(f);
  }
  ~python_process() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  python_process(const python_process&) = delete;
  python_process& operator=(const python_process&) = delete;
  int port() const { return port_; }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

/// A Python server: `mode` "https" or "http" answers every request with
/// 200 and a body "hello <path>" (HTTP/1.1 keep-alive; /big answers 1 MiB),
/// "silent" accepts connections and never answers.
inline std::string write_test_server(const temp_dir& dir, const std::string& mode) {
  auto script = dir / ("server-" + mode + ".py");
  std::ofstream{script} << R"(import http.server, socket, ssl, sys, time
mode, d = sys.argv[1], sys.argv[2]
if mode == 'silent':
    s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(8)
    print(s.getsockname()[1], flush=True)
    conns = []
    while True:
        c, _ = s.accept(); conns.append(c)
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    def do_GET(self):
        self.rfile.read(int(self.headers.get('Content-Length') or 0))
        body = (b'x' * (1 << 20)) if self.path == '/big' else ('hello ' + self.path + ' ' + str(self.client_address[1])).encode()
        self.send_response(200); self.send_header('Content-Length', str(len(body))); self.end_headers(); self.wfile.write(body)
    do_POST = do_GET
    def log_message(self, *a): pass
srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), H)
if mode == 'https':
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); ctx.load_cert_chain(d + '/server.pem', d + '/server.key')
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
print(srv.server_address[1], flush=True)
srv.serve_forever()
)";
  return script;
}

class python_server : public python_process {
 public:
  python_server(const temp_dir& dir, const std::string& mode)
      : python_process({write_test_server(dir, mode), mode, dir.str()}) {}
};

}  // namespace provisiond::testing
