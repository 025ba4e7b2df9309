#!/bin/sh
# Runs once, when the postgres service initialises its volume (/docker-entrypoint-initdb.d): lets the
# `replica` profile's streaming replica connect for replication, with the same password as the app.
echo "host replication cachelab all scram-sha-256" >>"$PGDATA/pg_hba.conf"
