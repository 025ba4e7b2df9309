#!/bin/sh
# The `replica` profile's PostgreSQL: on an empty volume, a base backup of the primary (pg_basebackup -R
# writes standby.signal and primary_conninfo), then the server runs as a hot standby streaming from it.
set -eu
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  until pg_isready -h postgres -U cachelab -d cachelab >/dev/null 2>&1; do sleep 1; done
  PGPASSWORD="$POSTGRES_PASSWORD" pg_basebackup -h postgres -U cachelab -D "$PGDATA" -R -X stream -c fast
  chmod 0700 "$PGDATA"
fi
exec postgres
