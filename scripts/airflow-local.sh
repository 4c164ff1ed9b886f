#!/usr/bin/env bash
# A real Airflow 3 stack on this machine, without docker: api-server, scheduler, dag-processor and
# Celery workers from the project's venv; Airflow's metadata and Dangan's catalogue on the local
# PostgreSQL, the broker on the local Redis (both started when down). The shared settings are
# deploy/airflow.env, the same file docker-compose.yml reads.
#
#   scripts/airflow-local.sh up [--workers N] [--concurrency C] [--engine null] [--api-port 8080]
#   scripts/airflow-local.sh trigger /path/to/batch [--wait 600]
#   scripts/airflow-local.sh status
#   scripts/airflow-local.sh down [--drop-databases]
# State (AIRFLOW_HOME, logs, pids, generated secrets): ./airflow-local (--state-dir to move it).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
py="${DANGAN_PYTHON:-$root/.venv/bin/python}"
case "${1:-}" in
  up|"") bash "$root/scripts/ensure-services.sh" >/dev/null ;;
esac
export PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}"
exec "$py" -m pipeline.stack "$@"
