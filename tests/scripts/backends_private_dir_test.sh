#!/usr/bin/env bash
# scripts/backends.sh as a newcomer runs it: root, from a clone whose parent only root can enter (a `mktemp -d`
# directory, mode 0700, as /root is). Both servers must start, answer, stop and be destroyed, and the private
# directory's owner and mode must be exactly as before. Skipped (77) when not root: an ordinary user's servers
# run as that user and reach its own directories.
set -euo pipefail
[[ $(id -u) -eq 0 ]] || { echo "skipped: needs root"; exit 77; }

SOURCE=${CACHELAB_SOURCE_DIR:?}
PRIVATE=$(mktemp -d)
trap 'cd /; [[ -d $PRIVATE/project ]] && bash "$PRIVATE/project/scripts/backends.sh" destroy >/dev/null 2>&1; rm -rf "$PRIVATE"' EXIT
mkdir -p "$PRIVATE/project/scripts"
cp "$SOURCE/scripts/backends.sh" "$PRIVATE/project/scripts/"
before=$(stat -c '%U %a' "$PRIVATE")
[[ $before == "root 700" ]] || { echo "FAIL: mktemp -d gave '$before', expected 'root 700'"; exit 1; }

export PG_PORT=54345 REDIS_PORT=63815
unset CACHELAB_STATE_DIR  # the default: .cachelab/ inside the private clone
cd "$PRIVATE/project"
bash scripts/backends.sh start
psql -h 127.0.0.1 -p "$PG_PORT" -U cachelab -d cachelab -tAc 'SELECT 1' | grep -qx 1 ||
  { echo "FAIL: PostgreSQL does not answer"; exit 1; }
redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping | grep -qx PONG || { echo "FAIL: Redis does not answer"; exit 1; }

data=$(bash scripts/backends.sh where)
[[ $data != "$PRIVATE"* ]] || { echo "FAIL: the servers' data ($data) is inside the private directory"; exit 1; }
[[ $(cat .cachelab/backends-dir) == "$data" ]] || { echo "FAIL: .cachelab/backends-dir does not name $data"; exit 1; }
[[ $(stat -c '%U' "$data/pg") == postgres && $(stat -c '%U' "$data/redis") == redis ]] ||
  { echo "FAIL: $data/pg and $data/redis are not owned by postgres and redis"; exit 1; }

# A second start reuses both servers.
bash scripts/backends.sh start | grep -c 'already running' | grep -qx 2 || { echo "FAIL: second start did not reuse"; exit 1; }

bash scripts/backends.sh destroy
[[ ! -e $data ]] || { echo "FAIL: destroy left $data"; exit 1; }
! redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1 || { echo "FAIL: Redis still answers after destroy"; exit 1; }
after=$(stat -c '%U %a' "$PRIVATE")
[[ $after == "$before" ]] || { echo "FAIL: the private directory changed from '$before' to '$after'"; exit 1; }
echo "ok: started, answered, reused, destroyed from a 0700 directory; $PRIVATE unchanged ($after)"
