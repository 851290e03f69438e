#pragma once
/// SIGTERM and SIGINT are taken by `sigwait` on the main thread: block them
/// before any thread starts (threads inherit the mask); SIGPIPE is ignored.

#include <pthread.h>

#include <csignal>

namespace provisiond::app {

inline sigset_t block_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  return signals;
}

}  // namespace provisiond::app
