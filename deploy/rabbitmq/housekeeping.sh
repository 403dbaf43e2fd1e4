#!/bin/sh
# Rolls the quorum queues' Raft WAL over every hour, so that the body of a consumed message
# (some carry a guardian's name or contacts) leaves the broker's disk within the hour
# rather than after 16 MiB of traffic (README, "Erased means gone"; DESIGN §4.7).
# Docker compose runs it beside the broker (same Erlang cookie); `make up` runs it against
# the local broker.
set -u
INTERVAL="${BROKER_WAL_ROLL_SECONDS:-3600}"
ctl() {
  if [ -n "${RABBITMQ_NODE:-}" ]; then rabbitmqctl -q -n "$RABBITMQ_NODE" "$@"; else rabbitmqctl -q "$@"; fi
}
# Sleeping in the background lets a stop signal end the script (and its sleep) at once.
sleeper=""
trap 'kill $sleeper 2>/dev/null; exit 0' TERM INT
while true; do
  sleep "$INTERVAL" &
  sleeper=$!
  wait "$sleeper"
  ctl eval 'ra_log_wal:force_roll_over(ra_log_wal).' >/dev/null \
    || echo "broker housekeeping: WAL roll-over failed; next try in ${INTERVAL}s" >&2
done
