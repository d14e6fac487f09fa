#include "edge/devtunnel_status_page.hpp"

#include <algorithm>

#include <fmt/chrono.h>
#include <fmt/format.h>

namespace dialback::edge {
namespace {

std::string escaped(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string utc(std::chrono::system_clock::time_point when) {
  return fmt::format("{:%Y-%m-%d %H:%M:%S} UTC", std::chrono::floor<std::chrono::seconds>(when));
}

}  // namespace

std::string devtunnel_status_page(std::vector<DevTunnelUserRow> rows) {
  std::sort(rows.begin(), rows.end(), [](const DevTunnelUserRow& a, const DevTunnelUserRow& b) {
    if (a.active != b.active) return a.active;
    return a.active ? a.user_id < b.user_id : a.last_seen > b.last_seen;
  });
  std::string html =
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta http-equiv=\"refresh\" content=\"10\">\n<title>Dev Tunnel Status</title>\n"
      "<style>body{font-family:sans-serif}table{border-collapse:collapse}"
      "td,th{border:1px solid #999;padding:2px 8px;text-align:left}</style>\n"
      "</head>\n<body>\n<h3>Dev Tunnel Status</h3>\n";
  html += fmt::format("<p>{} user(s)</p>\n", rows.size());
  html +=
      "<table id=\"report-table\">\n<thead><tr><th>User Id</th><th>Server Port</th>"
      "<th>Open Req.</th><th>Open Conn.</th><th>Active Poll</th><th>Total Req.</th>"
      "<th>Total Errors</th><th>First Seen</th><th>Last Seen</th><th>Active</th></tr></thead>\n"
      "<tbody>\n";
  for (const auto& row : rows) {
    html += fmt::format(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
        "<td>{}</td><td>{}</td><td>{}</td></tr>\n",
        escaped(row.user_id), row.port, row.open_requests, row.open_connections, row.active_polls,
        row.total_requests, row.total_errors, utc(row.first_seen), utc(row.last_seen),
        row.active ? "yes" : "no");
  }
  html += "</tbody>\n</table>\n</body>\n</html>\n";
  return html;
}

}  // namespace dialback::edge
