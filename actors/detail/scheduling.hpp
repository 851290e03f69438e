#pragma once
/// Timers on the engine's injected clock (never CAF's delayed_send, so a
/// manual clock in tests moves every timer, and a seeded run replays).

#include <utility>

#include <caf/all.hpp>

#include "actors/detail/context.hpp"

namespace provisiond::actors::detail {

/// Runs `fn` on the timer thread at `at` (engine time). `fn` must not block.
template <class Fn>
void call_at(context* ctx, time_ms at, Fn fn) {
  ctx->opts.timers->schedule(at, std::move(fn));
}

/// Sends `xs...` to `to` at `at` (engine time). Holds a strong handle to
/// `to` until then.
template <class... Ts>
void send_at(context* ctx, const caf::actor& to, time_ms at, Ts... xs) {
  ctx->opts.timers->schedule(at, [to, xs...] { caf::anon_send(to, xs...); });
}

/// The same after `delay_ms` from now.
template <class... Ts>
void send_after(context* ctx, const caf::actor& to, time_ms delay_ms, Ts... xs) {
  send_at(ctx, to, ctx->now() + delay_ms, std::move(xs)...);
}

}  // namespace provisiond::actors::detail
