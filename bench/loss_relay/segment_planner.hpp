// TCP loss recovery, simulated on one direction of a relayed byte stream.
//
// A userspace relay cannot drop a TCP segment: the bytes it read are
// already acknowledged to the sender. What the receiver of a real lossy
// path sees is the lost segment arriving late, after its retransmission,
// and everything behind it held back until then (head-of-line blocking).
// So the bytes of each read are cut into segments of at most 1448 bytes
// (an Ethernet MSS with timestamps); each is "lost" with probability
// --loss, and a lost one arrives
//   - after --tcp-recovery more (default one RTT + 1 ms, a fast retransmit)
//     when more data follows it within the RTT (at least 1 ms): the sender
//     would get duplicate ACKs for it;
//   - after --tcp-rto more (default max(200 ms, 2 RTT), Linux's minimum
//     RTO) when nothing follows: a tail loss, recovered by the timer.
// The bytes behind a lost segment are delivered after it: the relay's
// queue is first in, first out. A piece is a run of segments that arrive
// together: a new one begins at each lost segment.
//
// Not modelled (see README.md): the senders' congestion control never sees
// a loss, so their windows do not shrink; duplicate ACKs are not counted
// (one following segment is enough); tail loss probes; SYN and FIN loss.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "impairment.hpp"
#include "relay_stats.hpp"

namespace dialback::loss_relay {

class SegmentPlanner {
 public:
  static constexpr std::size_t kSegmentBytes = 1448;

  struct Piece {
    std::uint64_t id = 0;  // consecutive over the direction's lifetime
    std::size_t bytes = 0;
    std::uint64_t segments = 0;
    Clock::time_point due{};
  };
  // An earlier piece, already queued, that now arrives at `due` (earlier
  // than planned: its lost segment turned out to be followed).
  struct Update {
    std::uint64_t id = 0;
    Clock::time_point due{};
  };

  SegmentPlanner(const PathOptions& options, Impairment impairment, TcpStats& stats);

  // Plans `bytes` read at `now`: appends their pieces to `pieces` and
  // returns the update of an earlier piece, if these bytes settled its loss.
  std::optional<Update> plan(Clock::time_point now, std::size_t bytes, std::vector<Piece>& pieces);

  // The sender has more data waiting (the socket has unread bytes): settles
  // a pending loss as followed without reading them.
  std::optional<Update> followed(Clock::time_point now);
  bool loss_pending() const { return pending_.has_value(); }

  // The end of the stream, read at `now`: when it arrives. A loss still
  // pending is a tail loss.
  Clock::time_point plan_end(Clock::time_point now);

 private:
  // The last lost segment, while it is unknown whether more follows it.
  struct PendingLoss {
    std::uint64_t piece = 0;
    Clock::time_point lost_at{};
    Clock::time_point arrival{};  // had it not been lost
  };

  // Settles the pending loss on data that follows at `now`.
  std::optional<Update> settle(Clock::time_point now);

  const PathOptions& options_;
  Impairment impairment_;
  TcpStats& stats_;
  std::optional<PendingLoss> pending_;
  std::uint64_t next_piece_ = 0;
};

}  // namespace dialback::loss_relay
