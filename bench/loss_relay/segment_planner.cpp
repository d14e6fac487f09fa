#include "segment_planner.hpp"

#include <algorithm>

namespace dialback::loss_relay {

SegmentPlanner::SegmentPlanner(const PathOptions& options, Impairment impairment, TcpStats& stats)
    : options_(options), impairment_(std::move(impairment)), stats_(stats) {}

std::optional<SegmentPlanner::Update> SegmentPlanner::settle(Clock::time_point now) {
  const PendingLoss loss = *pending_;
  pending_.reset();
  // Counted as a tail loss when it happened; corrected here.
  if (now - loss.lost_at > options_.followed_within()) return std::nullopt;
  --stats_.rto;
  ++stats_.fast;
  return Update{loss.piece, loss.arrival + options_.fast_recovery()};
}

std::optional<SegmentPlanner::Update> SegmentPlanner::plan(Clock::time_point now, std::size_t bytes,
                                                           std::vector<Piece>& pieces) {
  std::optional<Update> earlier;
  const std::size_t first = pieces.size();
  const std::uint64_t first_id = next_piece_;
  for (std::size_t offset = 0; offset < bytes; offset += kSegmentBytes) {
    if (pending_) {
      auto update = settle(now);
      // A loss earlier in this same read: its piece is still in `pieces`.
      if (update && update->id >= first_id) {
        for (auto i = first; i < pieces.size(); ++i) {
          if (pieces[i].id == update->id) pieces[i].due = update->due;
        }
      } else if (update) {
        earlier = update;
      }
    }
    if (impairment_.lose()) {
      ++stats_.lost;
      ++stats_.rto;
      const auto arrival = impairment_.arrival(now);
      pending_ = PendingLoss{next_piece_, now, arrival};
      pieces.push_back(Piece{next_piece_++, 0, 0, arrival + options_.retransmission_timeout()});
    } else if (pieces.size() == first) {
      pieces.push_back(Piece{next_piece_++, 0, 0, impairment_.arrival(now)});
    }
    // Segments after a lost one join its piece: they wait for it anyway.
    pieces.back().bytes += std::min(kSegmentBytes, bytes - offset);
    ++pieces.back().segments;
  }
  return earlier;
}

std::optional<SegmentPlanner::Update> SegmentPlanner::followed(Clock::time_point now) {
  if (!pending_) return std::nullopt;
  return settle(now);
}

Clock::time_point SegmentPlanner::plan_end(Clock::time_point now) {
  pending_.reset();
  return impairment_.arrival(now);
}

}  // namespace dialback::loss_relay
