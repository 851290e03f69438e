#pragma once
/// A real redis-server for a test: on a unix socket in a temp directory, no
/// persistence (so a restart loses everything, as the fencing tests need).

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>

namespace provisiond::testing {

class redis_server {
 public:
  explicit redis_server(std::string dir) : dir_(std::move(dir)) {}
  ~redis_server() { stop(); }

  bool start() {
    std::filesystem::create_directories(dir_);
    std::filesystem::remove(socket());
    pid_ = ::fork();
    if (pid_ == 0) {
      int devnull = ::open("/dev/null", O_WRONLY);
      ::dup2(devnull, 1);
      ::dup2(devnull, 2);
      std::string sock = socket(), log = dir_ + "/redis.log";
      ::execlp("redis-server", "redis-server", "--port", "0", "--unixsocket", sock.c_str(), "--unixsocketperm", "700",
               "--save", "", "--appendonly", "no", "--dir", dir_.c_str(), "--logfile", log.c_str(), nullptr);
      ::_exit(127);
    }
    // The socket file appears at bind(), a moment before listen(): ready
    // means a connection is accepted, not that the file exists.
    for (int i = 0; i < 500; ++i) {
      if (accepts()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }
  std::string socket() const { return dir_ + "/redis.sock"; }
  bool accepts() const {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    auto path = socket();
    if (path.size() >= sizeof(addr.sun_path)) return false;
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0) return false;
    bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    ::close(fd);
    return ok;
  }
  std::string url() const { return "unix://" + socket(); }

 private:
  std::string dir_;
  pid_t pid_ = -1;
};

}  // namespace provisiond::testing
