# Sourced by the tool builds. Builds of several minutes take
# /tmp/heavy.lock so two of them on one machine queue rather than share
# its two cores; whoever waited re-checks what the other built.

heavy_lock=/tmp/heavy.lock

# holds_heavy_lock: true when an ancestor of this shell already holds the
# lock (someone ran `flock /tmp/heavy.lock make test`); taking it again
# would wait for ourselves forever.
holds_heavy_lock() {
  [[ -e $heavy_lock ]] || return 1
  local inode holders pid
  inode=$(stat -c %i "$heavy_lock")
  holders=$(awk -v i=":$inode" '$2 == "FLOCK" && index($6, i) == length($6) - length(i) + 1 { print $5 }' /proc/locks)
  [[ -n $holders ]] || return 1
  pid=$$
  while [[ $pid -gt 1 ]]; do
    if grep -qx "$pid" <<<"$holders"; then return 0; fi
    pid=$(awk '{ print $4 }' "/proc/$pid/stat" 2>/dev/null) || return 1
  done
  return 1
}

