"""A real Airflow 3 stack on one machine, without docker: `scripts/airflow-local.sh up|down|status`."""

from pipeline.stack.api import AirflowApi, RunState, TaskState
from pipeline.stack.config import StackConfig, read_env_file, stack_env
from pipeline.stack.processes import LocalStack, StackError

__all__ = [
    "AirflowApi",
    "LocalStack",
    "RunState",
    "StackConfig",
    "StackError",
    "TaskState",
    "read_env_file",
    "stack_env",
]
