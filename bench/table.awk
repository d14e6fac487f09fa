# table.awk - the raw lines of bench/run.sh ("PATH ROUND METRIC VALUE") as one
# markdown table: medians over rounds, ratios against direct and against ssh -R.
# Usage: awk -v paths="direct haproxy ..." -f bench/table.awk raw.txt
function median(key,    n, a, i, j, t) {
  n = split(vals[key], a, " ")
  if (n == 0) return ""
  for (i = 2; i <= n; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
  return (n % 2) ? a[(n + 1) / 2] + 0 : (a[n / 2] + a[n / 2 + 1]) / 2
}
function has(p, m) { return ((p SUBSEP m) in vals) }
function v(p, m, fmt) { return has(p, m) ? sprintf(fmt, median(p SUBSEP m)) : "–" }
function r1(p, ref, m,    d) {
  if (p == ref || !has(p, m) || !has(ref, m)) return "–"
  d = median(ref SUBSEP m); return d ? sprintf("%.2f", median(p SUBSEP m) / d) : "–"
}
function rr(p, m) { return r1(p, "direct", m) " / " r1(p, "ssh", m) }
function mib(p, m) { return has(p, m) ? sprintf("%.1f", median(p SUBSEP m) / 1024) : "–" }
function pct(p) { return (has(p, "edge_down_cpu_pct") || has(p, "agent_down_cpu_pct")) ? v(p, "edge_down_cpu_pct", "%.0f") " / " v(p, "agent_down_cpu_pct", "%.0f") : "–" }
function pair(p, a, b) { return (has(p, a) || has(p, b)) ? mib(p, a) " / " mib(p, b) : "–" }
{ key = $1 SUBSEP $3; vals[key] = (key in vals) ? vals[key] " " $4 : $4; if ($3 == "rps") rounds[$1]++
  if ($3 == "start_failed") failed[$1]++ }
END {
  n = split(paths, P, " ")
  print "Medians over rounds. Ratio cells are `× direct / × ssh -R` (for latency and CPU, lower is better)."
  print "c64 = `wrk -t2 -c64`, c1 = `wrk -t1 -c1`, GET of a 1 KiB file. MB/s = 10^6 B/s, one curl transfer per round."
  print "RSS (VmRSS, MiB) is edge / agent (haproxy: the proxy; ssh: sshd's tree / the ssh client); load = peak over the c64 run and the bulk transfers."
  print "CPU = utime+stime of edge+agent per 100k requests of the c64 run; CPU % in download = edge / agent, % of one core during the download.\n"
  print "| path | req/s c64 | ratio | p50 ms c64 | ratio | p99 ms c64 | ratio | p50 ms c1 | ratio | down MB/s | ratio | up MB/s | ratio | RSS idle | RSS load | CPU s/100k req | × ssh -R | CPU % in download | rounds |"
  print "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  for (i = 1; i <= n; i++) { p = P[i]
    printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %d%s |\n", p,
      v(p, "rps", "%.0f"), rr(p, "rps"), v(p, "p50", "%.2f"), rr(p, "p50"), v(p, "p99", "%.2f"), rr(p, "p99"),
      v(p, "p50_c1", "%.3f"), rr(p, "p50_c1"), v(p, "down_mbs", "%.0f"), rr(p, "down_mbs"), v(p, "up_mbs", "%.0f"), rr(p, "up_mbs"),
      pair(p, "edge_idle_kb", "agent_idle_kb"), pair(p, "edge_load_kb", "agent_load_kb"),
      v(p, "cpu_s_100k", "%.2f"), r1(p, "ssh", "cpu_s_100k"), pct(p), rounds[p] + 0, (failed[p] ? " (" failed[p] " failed)" : "") }
  for (i = 1; i <= n; i++) if (has(P[i], "errors") && median(P[i] SUBSEP "errors") > 0) printf "\n%s: wrk reported %d errors (median)\n", P[i], median(P[i] SUBSEP "errors")
}
