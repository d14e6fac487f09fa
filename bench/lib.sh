# Helpers shared by the bench/ scripts (sourced): process trees, free ports.

# tree PID...: those pids and their live descendants (sshd forks per connection)
tree() {
  [ $# -gt 0 ] || return 0
  ps -e -o pid= -o ppid= | awk -v roots="$*" '
    { parent[$1] = $2 }
    END { n = split(roots, r, " "); for (i = 1; i <= n; i++) keep[r[i]] = 1
          do { grew = 0; for (k in parent) if (!(k in keep) && (parent[k] in keep)) { keep[k] = 1; grew = 1 } } while (grew)
          for (k in keep) if (k in parent) print k }'
}
stop_pids() {  # TERM the pids and their descendants, KILL what is left after 3 s
  local all p
  all=$(tree "$@")
  [ -n "$all" ] || return 0
  # shellcheck disable=SC2086
  kill -TERM $all 2>/dev/null || true
  for _ in $(seq 30); do
    local alive=""
    for p in $all; do [ -e "/proc/$p" ] && ! grep -q '^State:.*Z' "/proc/$p/status" 2>/dev/null && alive+=" $p"; done
    [ -n "$alive" ] || break
    sleep 0.1
  done
  for p in $all; do kill -KILL "$p" 2>/dev/null || true; done
  for p in "$@"; do wait "$p" 2>/dev/null || true; done
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
