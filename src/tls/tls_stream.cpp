#include "tls/tls_stream.hpp"

#include <algorithm>
#include <cstdint>
#include <string>
#include <utility>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

namespace dialback {
namespace {

struct BioMethodFree {
  void operator()(BIO_METHOD* method) const noexcept { BIO_meth_free(method); }
};

}  // namespace

// Heap-allocated so that its address stays put when the TlsStream moves:
// the BIO and pending operations point at it.
struct TlsStream::Impl {
  explicit Impl(tcp::socket s) : socket(std::move(s)) {}
  ~Impl() {
    if (ssl != nullptr) SSL_free(ssl);  // frees the BIO too; the method after it
  }

  tcp::socket socket;
  SSL* ssl = nullptr;
  std::unique_ptr<BIO_METHOD, BioMethodFree> method;
  error_code io_error;  // the socket error behind the last SSL_ERROR_SYSCALL
  bool eof = false;     // the peer closed its side of the TCP connection
  bool non_blocking = false;
  std::size_t inline_bytes = 0;  // moved inline since the last trip through the loop

  // A large write is encrypted into `batch` record by record and sent with
  // one send() (see attempt()); `batch_sent` of it are in the socket.
  // `accepted` is the plaintext behind a batch still being sent: the write
  // completes with it once the batch is out.
  bool batching = false;
  std::string batch;
  std::size_t batch_sent = 0;
  std::size_t accepted = 0;
};

namespace {

TlsStream::Impl& impl_of(BIO* bio) { return *static_cast<TlsStream::Impl*>(BIO_get_data(bio)); }

bool would_block(const error_code& ec) {
  return ec == asio::error::would_block || ec == asio::error::try_again;
}

// The BIO under the SSL: asio's non-blocking socket calls (send with
// MSG_NOSIGNAL, so a closed peer is an error and never SIGPIPE; a closed
// socket is bad_descriptor, never a stale file descriptor).
int bio_write(BIO* bio, const char* data, int size) {
  auto& impl = impl_of(bio);
  BIO_clear_retry_flags(bio);
  if (impl.batching) {
    impl.batch.append(data, static_cast<std::size_t>(size));
    return size;
  }
  if (impl.batch_sent < impl.batch.size()) {  // nothing may overtake the batch
    BIO_set_retry_write(bio);
    return -1;
  }
  error_code ec;
  const auto buffer = asio::buffer(data, static_cast<std::size_t>(size));
  const std::size_t n = impl.socket.write_some(buffer, ec);
  if (ec) {
    if (would_block(ec)) {
      BIO_set_retry_write(bio);
    } else {
      impl.io_error = ec;
    }
    return -1;
  }
  return static_cast<int>(n);
}

int bio_read(BIO* bio, char* data, int size) {
  auto& impl = impl_of(bio);
  BIO_clear_retry_flags(bio);
  error_code ec;
  const auto buffer = asio::buffer(data, static_cast<std::size_t>(size));
  const std::size_t n = impl.socket.read_some(buffer, ec);
  if (ec == asio::error::eof) {
    impl.eof = true;
    return 0;
  }
  if (ec) {
    if (would_block(ec)) {
      BIO_set_retry_read(bio);
    } else {
      impl.io_error = ec;
    }
    return -1;
  }
  return static_cast<int>(n);
}

long bio_ctrl(BIO* bio, int command, long, void*) {
  switch (command) {
    case BIO_CTRL_FLUSH:
      return 1;  // a batch is flushed by attempt(), never behind OpenSSL's back
    case BIO_CTRL_EOF:
      return impl_of(bio).eof ? 1 : 0;
    default:
      return 0;
  }
}

int bio_create(BIO* bio) {
  BIO_set_init(bio, 1);
  return 1;
}

}  // namespace

TlsStream::TlsStream(tcp::socket socket, asio::ssl::context& context)
    : impl_(std::make_unique<Impl>(std::move(socket))) {
  impl_->ssl = SSL_new(context.native_handle());
  impl_->method.reset(BIO_meth_new(BIO_TYPE_SOURCE_SINK, "dialback socket"));
  if (impl_->ssl == nullptr || !impl_->method) return;  // every operation fails
  BIO_meth_set_write(impl_->method.get(), bio_write);
  BIO_meth_set_read(impl_->method.get(), bio_read);
  BIO_meth_set_ctrl(impl_->method.get(), bio_ctrl);
  BIO_meth_set_create(impl_->method.get(), bio_create);
  BIO* bio = BIO_new(impl_->method.get());
  if (bio == nullptr) {
    SSL_free(impl_->ssl);
    impl_->ssl = nullptr;
    return;
  }
  BIO_set_data(bio, impl_.get());
  SSL_set_bio(impl_->ssl, bio, bio);
  // Partial writes and a moving buffer, as asio::ssl::stream: a write
  // returns after each record. Read-ahead: one recv takes whatever is there
  // (up to the read buffer) instead of a header and a body per record.
  // Record buffers are freed whenever empty: idle connections hold none.
  SSL_set_mode(impl_->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                               SSL_MODE_RELEASE_BUFFERS);
  SSL_set_read_ahead(impl_->ssl, 1);
  // Room for several records (a peer batches them, see attempt()): one
  // recv per batch, not per record. Still freed whenever empty.
  SSL_set_default_read_buffer_len(impl_->ssl, kReadAhead + 4 * SSL3_RT_MAX_ENCRYPTED_OVERHEAD);
}

TlsStream::TlsStream(const executor_type& executor, asio::ssl::context& context)
    : TlsStream(tcp::socket(executor), context) {}

TlsStream::TlsStream(TlsStream&&) noexcept = default;
TlsStream& TlsStream::operator=(TlsStream&&) noexcept = default;
TlsStream::~TlsStream() = default;

SSL* TlsStream::native_handle() const { return impl_->ssl; }

tcp::socket& TlsStream::next_layer() { return impl_->socket; }

tcp::socket& TlsStream::socket_of(Impl& impl) { return impl.socket; }

bool TlsStream::completes_inline(Impl& impl, bool waited, std::size_t bytes) {
  if (waited) {
    impl.inline_bytes = 0;
    return true;
  }
  impl.inline_bytes += std::max<std::size_t>(bytes, 1);
  if (impl.inline_bytes <= kInlineBudget) return true;
  impl.inline_bytes = 0;
  return false;
}

// Sends what is left of the batch; Want::write while the socket is full.
TlsStream::Step TlsStream::flush_batch(Impl& impl) {
  while (impl.batch_sent < impl.batch.size()) {
    error_code ec;
    impl.batch_sent += impl.socket.write_some(
        asio::buffer(impl.batch.data() + impl.batch_sent, impl.batch.size() - impl.batch_sent),
        ec);
    if (would_block(ec)) return {Want::write, 0, {}};
    if (ec) return {Want::nothing, 0, ec};
  }
  // Freed, not kept: an idle session holds no batch (one malloc per batch
  // is nothing next to encrypting it).
  std::string().swap(impl.batch);
  impl.batch_sent = 0;
  return {};
}

TlsStream::Step TlsStream::attempt(Impl& impl, Action action, handshake_type type,
                                   asio::mutable_buffer read, asio::const_buffer write) {
  const auto done = [](std::size_t bytes) { return Step{Want::nothing, bytes, {}}; };
  if (impl.ssl == nullptr) return {Want::nothing, 0, asio::error::no_memory};
  if (!impl.socket.is_open()) return {Want::nothing, 0, asio::error::bad_descriptor};
  if (action == Action::read && read.size() == 0) return done(0);
  if (action == Action::write && write.size() == 0) return done(0);
  if (!impl.non_blocking) {
    error_code ec;
    impl.socket.non_blocking(true, ec);
    if (ec) return {Want::nothing, 0, ec};
    impl.non_blocking = true;
  }
  ERR_clear_error();
  impl.io_error.clear();
  int result = 0;
  std::size_t bytes = 0;
  switch (action) {
    case Action::handshake:
      if (!SSL_is_init_finished(impl.ssl) && SSL_in_before(impl.ssl)) {
        if (type == handshake_type::client) {
          SSL_set_connect_state(impl.ssl);
        } else {
          SSL_set_accept_state(impl.ssl);
        }
      }
      result = SSL_do_handshake(impl.ssl);
      if (result == 1) return done(0);
      break;
    case Action::read:
      result = SSL_read_ex(impl.ssl, read.data(), read.size(), &bytes);
      if (result == 1) return done(bytes);
      break;
    case Action::write: {
      if (impl.batch_sent < impl.batch.size() || impl.accepted > 0) {
        // The rest of a batch from the last attempt goes first.
        const Step step = flush_batch(impl);
        if (step.want != Want::nothing || step.ec) return step;
        return done(std::exchange(impl.accepted, 0));
      }
      if (write.size() <= kOneRecord) {
        result = SSL_write_ex(impl.ssl, write.data(), write.size(), &bytes);
        if (result == 1) return done(bytes);
        break;
      }
      // Several records: encrypted one after another into the batch, sent
      // with one send() rather than one per record (OpenSSL writes each
      // record to the BIO on its own, and partial-write mode returns after
      // each), so the peer wakes once per batch, not per 16 KiB.
      impl.batching = true;
      const auto* data = static_cast<const char*>(write.data());
      const std::size_t want = std::min(write.size(), kBatchPlaintext);
      while (bytes < want) {
        std::size_t n = 0;
        result = SSL_write_ex(impl.ssl, data + bytes, want - bytes, &n);
        if (result != 1) break;
        bytes += n;
      }
      impl.batching = false;
      if (bytes == 0) break;  // the error is reported below; nothing was batched
      impl.accepted = bytes;
      const Step step = flush_batch(impl);
      if (step.want != Want::nothing || step.ec) return step;
      return done(std::exchange(impl.accepted, 0));
    }
    case Action::wait_readable: {
      if (SSL_has_pending(impl.ssl) == 1) return done(0);
      // A one-byte peek: bytes, EOF or an error all mean "read now"; only
      // an empty socket means waiting (readiness is edge-triggered in Asio,
      // so this is asked of the socket rather than assumed).
      std::uint8_t byte = 0;
      error_code ec;
      impl.socket.receive(asio::buffer(&byte, 1), tcp::socket::message_peek, ec);
      if (would_block(ec)) return {Want::read, 0, {}};
      return done(0);
    }
    case Action::shutdown:
      // Our close_notify only: the peer's is not waited for (RFC 8446 §6.1
      // allows closing without it; the caller closes the socket next).
      result = SSL_shutdown(impl.ssl);
      if (result >= 0) return done(0);
      break;
  }
  switch (SSL_get_error(impl.ssl, result)) {
    case SSL_ERROR_WANT_READ:
      return {Want::read, 0, {}};
    case SSL_ERROR_WANT_WRITE:
      return {Want::write, 0, {}};
    case SSL_ERROR_ZERO_RETURN:
      return {Want::nothing, 0, asio::error::eof};
    case SSL_ERROR_SYSCALL:
      ERR_clear_error();
      if (impl.io_error) return {Want::nothing, 0, impl.io_error};
      return {Want::nothing, 0, asio::ssl::error::stream_truncated};
    default: {
      const unsigned long error = ERR_peek_last_error();
      ERR_clear_error();
      if (ERR_GET_LIB(error) == ERR_LIB_SSL &&
          ERR_GET_REASON(error) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
        return {Want::nothing, 0, asio::ssl::error::stream_truncated};
      }
      if (error == 0) return {Want::nothing, 0, asio::ssl::error::unexpected_result};
      return {Want::nothing, 0,
              error_code(static_cast<int>(error), asio::error::get_ssl_category())};
    }
  }
}

}  // namespace dialback
