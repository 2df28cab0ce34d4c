"""Scenario runner (scenarios_app)."""

from .environment import env

SCENARIOS_TITLE = env("SCENARIOS_TITLE", default="HEAT Scenario Runner")
# A processing scenario whose worker has not written for this long is presumed dead (seconds).
SCENARIOS_HEARTBEAT_INTERVAL = env.float("SCENARIOS_HEARTBEAT_INTERVAL", default=2.0)
SCENARIOS_HEARTBEAT_TIMEOUT = env.float("SCENARIOS_HEARTBEAT_TIMEOUT", default=30.0)
# A dead run is re-queued or failed within timeout + interval (40 s) of its last heartbeat.
SCENARIOS_SWEEP_INTERVAL = env.float("SCENARIOS_SWEEP_INTERVAL", default=10.0)
# Runs a scenario gets (a re-queue after a dead worker is a second run); then it fails.
SCENARIOS_MAX_ATTEMPTS = env.int("SCENARIOS_MAX_ATTEMPTS", default=2)
# Workers write progress at most this often (seconds).
SCENARIOS_PROGRESS_INTERVAL = env.float("SCENARIOS_PROGRESS_INTERVAL", default=0.1)
# ETL uploads: total request size and uncompressed size of an .xlsx.
SCENARIOS_ETL_MAX_BYTES = env.int("SCENARIOS_ETL_MAX_BYTES", default=50 * 1024**2)
SCENARIOS_ETL_MAX_XLSX_UNCOMPRESSED = env.int("SCENARIOS_ETL_MAX_XLSX_UNCOMPRESSED", default=500 * 1024**2)
SCENARIOS_ETL_MAX_JSON_BYTES = env.int("SCENARIOS_ETL_MAX_JSON_BYTES", default=10 * 1024**2)
