#!/usr/bin/env bash
# The tests talk to a real PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth) and Redis on 6379.
# Install and start it when it is missing or down; a prepared machine pays nothing.
set -euo pipefail
if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  echo "installing PostgreSQL"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql postgresql-client
fi
if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
  ver=$(ls /etc/postgresql | sort -V | tail -n 1)
  conf=/etc/postgresql/$ver/main/pg_hba.conf
  # trust for local TCP connections: the test suite connects as postgres without a password
  if ! grep -qE '^host\s+all\s+all\s+127\.0\.0\.1/32\s+trust' "$conf"; then
    sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\nlocal all postgres trust' "$conf"
  fi
  pg_ctlcluster --skip-systemctl-redirect "$ver" main start
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi
pg_isready -h 127.0.0.1 -p 5432

# Redis on 127.0.0.1:6379: the Celery broker of the real-stack Airflow tests and scripts/airflow-local.sh.
if ! command -v redis-server >/dev/null 2>&1; then
  echo "installing Redis"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; then
  redis-server --bind 127.0.0.1 --port 6379 --daemonize yes --save '' --appendonly no
  for _ in $(seq 1 30); do redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG && break; sleep 0.5; done
fi
redis-cli -h 127.0.0.1 -p 6379 ping
