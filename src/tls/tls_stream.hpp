// TlsStream: TLS over a TCP socket, with OpenSSL reading and writing the
// socket itself (through a small BIO over the non-blocking socket) instead
// of through buffers of its own. asio::ssl::stream keeps two 17 KiB buffers
// and a BIO pair with two more per connection, about 70 KiB whether the
// connection is busy or idle; this stream keeps none, and with
// SSL_MODE_RELEASE_BUFFERS OpenSSL frees its record buffers whenever they
// are empty, so an idle connection costs only OpenSSL's session state.
// That is what lets one edge hold 10 000 idle agent sessions.
//
// Same interface as asio::ssl::stream<tcp::socket> where the project uses it
// (async_handshake, async_read_some, async_write_some, async_shutdown,
// next_layer, native_handle), so Beast and SocketByteStream take it as is,
// and the same errors: asio::error::eof after the peer's close_notify,
// asio::ssl::error::stream_truncated on EOF without one, OpenSSL errors in
// asio's SSL category.
//
// One read and one write may be pending at a time (they may be pending
// together); everything runs on the socket's executor. async_shutdown sends
// close_notify and does not wait for the peer's.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>

#include "core/asio.hpp"

namespace dialback {

class TlsStream {
 public:
  using executor_type = tcp::socket::executor_type;
  using next_layer_type = tcp::socket;
  using lowest_layer_type = tcp::socket;
  using handshake_type = asio::ssl::stream_base::handshake_type;

  // `socket` may be connected later (the agent dials through next_layer()).
  TlsStream(tcp::socket socket, asio::ssl::context& context);
  TlsStream(const executor_type& executor, asio::ssl::context& context);
  TlsStream(TlsStream&&) noexcept;
  TlsStream& operator=(TlsStream&&) noexcept;
  ~TlsStream();

  SSL* native_handle() const;
  tcp::socket& next_layer();
  tcp::socket& lowest_layer() { return next_layer(); }
  executor_type get_executor() { return next_layer().get_executor(); }

  template <class Token>
  auto async_handshake(handshake_type type, Token&& token) {
    return asio::async_compose<Token, void(error_code)>(
        Op<false>{impl_.get(), Action::handshake, type}, token, next_layer());
  }

  template <class MutableBuffers, class Token>
  auto async_read_some(const MutableBuffers& buffers, Token&& token) {
    Op<true> op{impl_.get(), Action::read};
    op.read = first_buffer<asio::mutable_buffer>(buffers);
    return asio::async_compose<Token, void(error_code, std::size_t)>(std::move(op), token,
                                                                      next_layer());
  }

  template <class ConstBuffers, class Token>
  auto async_write_some(const ConstBuffers& buffers, Token&& token) {
    Op<true> op{impl_.get(), Action::write};
    op.write = first_buffer<asio::const_buffer>(buffers);
    return asio::async_compose<Token, void(error_code, std::size_t)>(std::move(op), token,
                                                                      next_layer());
  }

  // Completes once a read would find bytes (or EOF, or an error) without
  // waiting: lets a reader wait for an idle peer without holding a buffer.
  template <class Token>
  auto async_wait_readable(Token&& token) {
    return asio::async_compose<Token, void(error_code)>(
        Op<false>{impl_.get(), Action::wait_readable}, token, next_layer());
  }

  template <class Token>
  auto async_shutdown(Token&& token) {
    return asio::async_compose<Token, void(error_code)>(Op<false>{impl_.get(), Action::shutdown},
                                                        token, next_layer());
  }

  // Writes up to one record go straight to the socket; larger ones are
  // batched, up to kBatchPlaintext per send() (as much as an HTTP/2 session
  // hands over at once: a 64 KiB body chunk and its frame headers is one
  // send, not a 64 KiB one and a 36-byte one).
  static constexpr std::size_t kOneRecord = 16384;
  static constexpr std::size_t kBatchPlaintext = 256u << 10;
  // With read-ahead, one recv() takes up to this much (several records).
  static constexpr std::size_t kReadAhead = 64u << 10;
  // Bytes read or written inline between two trips through the event loop.
  static constexpr std::size_t kInlineBudget = 64u << 10;

  struct Impl;  // opaque: the socket, the SSL and its BIO

 private:
  enum class Action { handshake, read, write, shutdown, wait_readable };
  enum class Want { nothing, read, write };
  struct Step {
    Want want = Want::nothing;
    std::size_t bytes = 0;
    error_code ec;
  };

  // One non-blocking attempt of `action`: done (ec, bytes), or wants the
  // socket to become readable or writable first.
  static Step attempt(Impl& impl, Action action, handshake_type type, asio::mutable_buffer read,
                      asio::const_buffer write);
  static Step flush_batch(Impl& impl);
  // Whether an operation that found its bytes (or room) at once may complete
  // inside its initiating call, as it does while the stream's inline budget
  // lasts: running the caller on at once saves a trip through the event
  // loop, but a reader of a busy socket would then never let other work run
  // (a fast download filled the whole stream window before the edge wrote
  // its first byte to the client). Past the budget the completion is posted.
  // Completions after a wait reset the budget.
  static bool completes_inline(Impl& impl, bool waited, std::size_t bytes);
  static tcp::socket& socket_of(Impl& impl);

  template <class Buffer, class Buffers>
  static Buffer first_buffer(const Buffers& buffers) {
    for (auto it = asio::buffer_sequence_begin(buffers); it != asio::buffer_sequence_end(buffers);
         ++it) {
      Buffer buffer(*it);
      if (buffer.size() > 0) return buffer;
    }
    return Buffer();
  }

  template <bool WithBytes>
  struct Op {
    Impl* impl;
    Action action;
    handshake_type type = handshake_type::client;
    asio::mutable_buffer read{};
    asio::const_buffer write{};

    bool waited = false;
    std::optional<Step> finished{};  // done at once, completed once posted

    template <class Self>
    void operator()(Self& self, error_code ec = {}) {
      if (finished) {
        complete(self, *finished);
        return;
      }
      Step step;
      if (ec || (waited && action == Action::wait_readable)) {
        step.ec = ec;  // woken by readability: that is all wait_readable wants
      } else {
        step = attempt(*impl, action, type, read, write);
      }
      if (step.want == Want::nothing) {
        if (!completes_inline(*impl, waited, step.bytes)) {
          finished = step;
          asio::post(socket_of(*impl).get_executor(), std::move(self));
          return;
        }
        complete(self, step);
        return;
      }
      waited = true;
      socket_of(*impl).async_wait(
          step.want == Want::read ? tcp::socket::wait_read : tcp::socket::wait_write,
          std::move(self));
    }

    template <class Self>
    static void complete(Self& self, const Step& step) {
      if constexpr (WithBytes) {
        self.complete(step.ec, step.bytes);
      } else {
        self.complete(step.ec);
      }
    }
  };

  std::unique_ptr<Impl> impl_;
};

}  // namespace dialback
