// PendingDials: the sockets of dials in progress, so that a shutdown can
// fail them at once instead of waiting for a connect or handshake timeout.
// Shared by the agent and its dialing coroutines, whose frames may outlive
// the agent's shutdown by one completion.
#pragma once

#include <list>
#include <memory>

#include "core/asio.hpp"

namespace dialback {

class PendingDials {
 public:
  // Listed while the returned guard lives.
  class Entry {
   public:
    Entry(std::shared_ptr<std::list<tcp::socket*>> list, tcp::socket& socket)
        : list_(std::move(list)), it_(list_->insert(list_->end(), &socket)) {}
    ~Entry() { list_->erase(it_); }
    Entry(const Entry&) = delete;
    Entry& operator=(const Entry&) = delete;

   private:
    std::shared_ptr<std::list<tcp::socket*>> list_;
    std::list<tcp::socket*>::iterator it_;
  };

  std::unique_ptr<Entry> add(tcp::socket& socket) {
    return std::make_unique<Entry>(sockets_, socket);
  }
  void close_all() {
    error_code ignored;
    for (auto* socket : *sockets_) socket->close(ignored);
  }

 private:
  std::shared_ptr<std::list<tcp::socket*>> sockets_ = std::make_shared<std::list<tcp::socket*>>();
};

}  // namespace dialback
