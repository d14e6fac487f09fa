// ScriptedService: a local service for the tests that need a misbehaving or
// precisely timed one (a response that drips forever, a socket reset after
// the head, a body read in small steps). Every accepted connection runs the
// test's script over the raw socket; the service records when its peer (the
// agent) went away, which is how a test sees that an exchange was aborted.
// Runs on the test's io_context.
#pragma once

#include <chrono>
#include <functional>
#include <list>
#include <optional>
#include <string>

#include "core/asio.hpp"

namespace dialback::test {

class ScriptedService {
 public:
  using Clock = std::chrono::steady_clock;

  // One accepted connection, as the script sees it.
  class Conn {
   public:
    Conn(ScriptedService& service, tcp::socket socket);

    // Reads until the end of a request head (CRLF CRLF). The head is in
    // head(); bytes read past it stay in pending(). False when the peer went away.
    Task<bool> read_head();
    // Reads whatever arrives next (at most 64 KiB) into pending(); 0 when the
    // peer went away (EOF, reset).
    Task<std::size_t> read_some();
    // Writes all of `bytes`; false when the peer went away.
    Task<bool> write(std::string bytes);
    // Waits `duration` (pacing of the script, never readiness); false when the
    // service is stopping.
    Task<bool> pause(std::chrono::milliseconds duration);
    // Closes with a FIN, or with a RST (SO_LINGER 0).
    void close();
    void reset();

    const std::string& head() const { return head_; }
    std::string& pending() { return pending_; }
    std::uint64_t bytes_read() const { return bytes_read_; }  // after the head
    bool peer_gone() const { return peer_gone_; }

   private:
    friend class ScriptedService;
    void mark_gone();

    ScriptedService& service_;
    tcp::socket socket_;
    std::string head_;
    std::string pending_;
    std::uint64_t bytes_read_ = 0;
    bool peer_gone_ = false;
  };
  using Script = std::function<Task<void>(Conn&)>;

  ScriptedService(asio::any_io_executor executor, Script script);
  ~ScriptedService();
  ScriptedService(const ScriptedService&) = delete;
  ScriptedService& operator=(const ScriptedService&) = delete;

  // Binds 127.0.0.1:0 and starts accepting.
  tcp::endpoint start();
  // Closes the acceptor and every connection; scripts end at their next step.
  void stop();
  // True once every coroutine of this service has ended (after stop()).
  bool idle() const { return running_ == 0; }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(endpoint_.port()); }
  std::size_t accepted() const { return accepted_; }
  std::size_t heads_read() const { return heads_read_; }
  // Request bytes read after the head, over all connections.
  std::uint64_t body_bytes() const { return body_bytes_; }
  std::size_t scripts_running() const { return scripts_running_; }
  // When a script first saw its peer go away: a read returned EOF or an
  // error, or a write failed.
  std::optional<Clock::time_point> peer_gone_at() const { return peer_gone_at_; }

 private:
  Task<void> accept_loop();
  Task<void> serve(tcp::socket socket);

  asio::any_io_executor executor_;
  Script script_;
  tcp::acceptor acceptor_;
  tcp::endpoint endpoint_;
  std::list<tcp::socket*> sockets_;
  std::list<asio::steady_timer*> timers_;
  bool stopping_ = false;
  int running_ = 0;
  std::size_t accepted_ = 0;
  std::size_t heads_read_ = 0;
  std::uint64_t body_bytes_ = 0;
  std::size_t scripts_running_ = 0;
  std::optional<Clock::time_point> peer_gone_at_;
};

// "HTTP/1.1 200 OK" with chunked framing, the first line of a streamed response.
std::string chunked_response_head(std::string_view extra_fields = {});
// One chunk of chunked framing around `data`.
std::string chunk(std::string_view data);

}  // namespace dialback::test
