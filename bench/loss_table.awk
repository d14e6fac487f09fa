# loss_table.awk - the raw lines of bench/loss.sh ("TRANSPORT LOSS ROUND
# METRIC VALUE") as one markdown table: one row per loss rate, medians over
# rounds, h2 and h3 side by side with h3/h2 ratios.
# Usage: awk -v losses="0 0.01 0.02 0.05" -f bench/loss_table.awk raw.txt
function median(key,    n, a, i, j, t) {
  n = split(vals[key], a, " ")
  if (n == 0) return ""
  for (i = 2; i <= n; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
  return (n % 2) ? a[(n + 1) / 2] + 0 : (a[n / 2] + a[n / 2 + 1]) / 2
}
function has(t, l, m) { return ((t SUBSEP l SUBSEP m) in vals) }
function med(t, l, m) { return median(t SUBSEP l SUBSEP m) }
function v(t, l, m, fmt) { return has(t, l, m) ? sprintf(fmt, med(t, l, m)) : "–" }
function ratio(l, m,    d) {
  if (!has("h3", l, m) || !has("h2", l, m)) return "–"
  d = med("h2", l, m); return d ? sprintf("%.2f", med("h3", l, m) / d) : "–"
}
# MB/s, with * when a round's download was cut off at BULK_SECS
function bulk(t, l) { return v(t, l, "down_mbs", "%.1f") (has(t, l, "down_partial") ? "*" : "") }
# the loss the relay applied: lost / units, both directions
function seen(t, l,    u) {
  u = (has(t, l, "up_units") ? med(t, l, "up_units") : 0) + (has(t, l, "down_units") ? med(t, l, "down_units") : 0)
  return u ? sprintf("%.1f", 100 * ((has(t, l, "up_lost") ? med(t, l, "up_lost") : 0) + (has(t, l, "down_lost") ? med(t, l, "down_lost") : 0)) / u) : "–"
}
function cpu(t, l) {
  return has(t, l, "edge_down_cpu_pct") ? v(t, l, "edge_down_cpu_pct", "%.0f") "/" v(t, l, "agent_down_cpu_pct", "%.0f") "/" v(t, l, "relay_down_cpu_pct", "%.0f") : "–"
}
{ key = $1 SUBSEP $2 SUBSEP $4; vals[key] = (key in vals) ? vals[key] " " $5 : $5
  if ($4 == "rps") rounds[$1 SUBSEP $2]++
  if ($4 == "start_failed") failed[$1 SUBSEP $2]++
  if ($4 ~ /^died_/) died[$1 SUBSEP $2 SUBSEP substr($4, 6)]++
  if ($4 == "errors" && $5 > 0) errors[$1 SUBSEP $2] += $5 }
END {
  n = split(losses, L, " ")
  print "Medians over rounds; × = h3 / h2 (req/s and MB/s: higher is better for h3 above 1; p99: lower is better for h3 below 1)."
  print "c64 = `wrk -t2 -c64`, GET of a 1 KiB file through the public port. MB/s = 10^6 B/s, one curl download per round (* = cut off at BULK_SECS, rate of the bytes that came)."
  print "loss % = what the relay lost, both directions (h2: TCP segments it held back, h3: datagrams it dropped). CPU s/100k = edge+agent CPU per 100k requests of the c64 run. CPU % = edge/agent/relay during the download, % of one core.\n"
  print "| loss | req/s h2 | req/s h3 | req/s × | p50 ms h2 | p50 ms h3 | p99 ms h2 | p99 ms h3 | p99 × | MB/s h2 | MB/s h3 | bulk × | loss % h2 / h3 | CPU s/100k h2 / h3 | CPU % h2 | CPU % h3 | rounds h2 / h3 |"
  print "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  for (i = 1; i <= n; i++) { l = L[i]
    printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s / %s | %s / %s | %s | %s | %d / %d |\n", l == "direct" ? "direct" : sprintf("%g %%", 100 * l),
      v("h2", l, "rps", "%.0f"), v("h3", l, "rps", "%.0f"), ratio(l, "rps"),
      v("h2", l, "p50", "%.1f"), v("h3", l, "p50", "%.1f"),
      v("h2", l, "p99", "%.1f"), v("h3", l, "p99", "%.1f"), ratio(l, "p99"),
      bulk("h2", l), bulk("h3", l), ratio(l, "down_mbs"),
      seen("h2", l), seen("h3", l),
      v("h2", l, "cpu_s_100k", "%.2f"), v("h3", l, "cpu_s_100k", "%.2f"),
      cpu("h2", l), cpu("h3", l), rounds["h2" SUBSEP l] + 0, rounds["h3" SUBSEP l] + 0 }
  for (k in failed) { split(k, p, SUBSEP); printf "\n%s at loss %s: %d round(s) did not start\n", p[1], p[2], failed[k] }
  for (k in died) { split(k, p, SUBSEP); printf "\n%s at loss %s: the %s died in %d round(s) (see the log); the figures of those rounds are cut short\n", p[1], p[2], p[3], died[k] }
  for (k in errors) { split(k, p, SUBSEP); printf "\n%s at loss %s: wrk reported %d errors (all rounds)\n", p[1], p[2], errors[k] }
}
