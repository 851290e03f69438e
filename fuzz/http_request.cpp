// The http_request target: the fuzz targets' only translation unit with
// Boost.Beast. It reads requests out of the input as the server reads them
// off a socket (gateway/http_server.cpp): the same parser, header limit
// (64 KiB) and body limit (http_limits), the same target and header-value
// checks before the body, the same http_request, and then the route table.
#include <cctype>
#include <string>
#include <utility>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http.hpp>

#include "common/settings.hpp"
#include "auth/principal.hpp"
#include "fuzz/backend.hpp"
#include "fuzz/checks.hpp"
#include "fuzz/entries.hpp"
#include "gateway/http_target.hpp"
#include "gateway/routes.hpp"

namespace provisiond::fuzz {

namespace {

namespace http = boost::beast::http;
using parser = http::request_parser<http::string_body>;

constexpr std::size_t header_limit = 64 * 1024;  // gateway/http_server.cpp
constexpr int max_pipelined = 4;

std::string_view std_view(boost::beast::string_view s) { return {s.data(), s.size()}; }

// Feeds `rest` to the parser until `done(p)` or the input ends (end of
// stream then). False: the request is over without an answer to check
// (malformed, or cut off: the server answers 400/413 or closes, no route
// runs). Consumed bytes are removed from `rest`.
template <class Done>
bool feed(parser& p, std::string_view& rest, Done done, boost::beast::error_code& ec) {
  while (!done(p)) {
    std::size_t n = 0;
    if (!rest.empty()) {
      n = p.put(boost::asio::buffer(rest.data(), rest.size()), ec);
      rest.remove_prefix(n);
      if (ec && ec != http::error::need_more) return false;
    }
    // No progress (nothing left, or not enough for the parser's next
    // step): the client has sent all it will; the stream ends here.
    if (n == 0) {
      ec = {};
      p.put_eof(ec);
      return !ec && done(p);
    }
  }
  return true;
}

// What the server checks once the header is in (http_server.cpp validate()).
result<gateway::parsed_target> validate(const parser::value_type& h) {
  auto target = gateway::parse_target(std_view(h.target()));
  if (!target) return target.error();
  for (const auto& f : h)
    if (auto st = gateway::validate_header_value(std_view(f.name_string()), std_view(f.value())); !st)
      return st.error();
  return target;
}

gateway::http_request to_request(gateway::parsed_target target, parser::value_type&& r) {
  gateway::http_request out;
  out.method = std::string(r.method_string());
  out.target = std::string(r.target());
  out.path = std::move(target.path);
  out.query = std::move(target.query);
  for (const auto& f : r) {
    std::string name{f.name_string()};
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers[name] = std::string(f.value());
  }
  out.body = std::move(r.body());
  return out;
}

// Seeds say wh_fuzz where the backend's webhook id (generated) belongs.
void name_the_webhook(std::string& path, const std::string& id) {
  for (auto at = path.find(webhook_placeholder); at != std::string::npos; at = path.find(webhook_placeholder))
    path.replace(at, std::string_view(webhook_placeholder).size(), id);
}

// One request from the front of `rest`; false when the connection would end.
bool one_request(std::string_view& rest, finding& found) {
  parser p;
  p.header_limit(header_limit);
  p.body_limit(http_limits{}.body_limit);
  p.eager(true);
  boost::beast::error_code ec;
  if (!feed(p, rest, [](const parser& x) { return x.is_header_done(); }, ec)) return false;
  auto target = validate(p.get());
  if (!target) {
    found = check_refusal(target.error(), "target or header");
    return false;
  }
  if (!feed(p, rest, [](const parser& x) { return x.is_done(); }, ec)) return false;
  auto msg = p.release();
  const bool keep_alive = msg.keep_alive();
  auto req = to_request(std::move(*target), std::move(msg));
  auto& b = fuzz_backend::get();
  name_the_webhook(req.path, b.webhook_id());
  const auto admin = auth::in_process_admin();  // every route reachable
  auto res = gateway::dispatch(b.api(), req, &admin);  // a throw escapes: a crash
  if (res.stream) {
    (void)res.stream->next();
    res.stream->reader_is_slow();
    (void)res.stream->next();
  }
  const bool write = req.method == "POST" || req.method == "PUT" || req.method == "DELETE";
  if (write && res.status < 300) b.note_write();
  found = check_response(res, req.method + " " + req.path);
  return !found && keep_alive;
}

}  // namespace

finding http_request_input(std::string_view bytes) {
  finding found;
  for (int i = 0; i < max_pipelined && !bytes.empty(); ++i)
    if (!one_request(bytes, found)) break;
  return found;
}

}  // namespace provisiond::fuzz
