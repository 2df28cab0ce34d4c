"""The peer of HEAT's scenario runner API: algomancy-api 0.10.0, minimally configured.

Runs in the peer's own virtualenv (bench/peer/setup.sh), never in the portal's:

    /work/peer-venv/bin/uvicorn app:app --app-dir bench/peer --host 127.0.0.1 --port 8801 \\
        --no-access-log

What it serves is the package's own FastAPI app (``ApiLauncher.build``), configured the way
its docs show, with only what the runner benchmark needs:

- one session ``main`` (the SessionManager creates it when there is none);
- one dataset ``Master data`` (a master-data ``DataSource`` with one small table), put into
  ``main``'s in-memory data manager after build: there is no ETL or data folder to load from;
- one algorithm ``Slow`` with an integer parameter ``duration`` (seconds, 1 to 60, default 1)
  that sleeps that long while reporting progress, like HEAT's ``Slow``
  (scenarios_app/algorithms.py: ``max(10, duration * 5)`` steps);
- no KPIs, no persistence (``has_persistent_state=False``: scenarios live in memory, the
  package's default), no auto-create, no auto-run, no CORS, no proxy headers.

Authentication: algomancy-api has none. It installs no middleware or dependency that reads
``Authorization``; a bearer header sent by the benchmark's client is ignored. Runs are
processed by the package's ``ScenarioProcessor``: one daemon thread per session in this same
process, a queue, no broker, no database.
"""

from __future__ import annotations

import time

import pandas as pd
from algomancy_api import ApiConfiguration, ApiLauncher
from algomancy_data import DataSource
from algomancy_data.datasource import DataClassification
from algomancy_data.etl import ETLFactory
from algomancy_scenario import BaseAlgorithm, ScenarioResult
from algomancy_utils.baseparameterset import BaseParameterSet, IntegerParameter

SESSION = "main"
MASTER_DATA = "Master data"


class SlowParameters(BaseParameterSet):
    def __init__(self) -> None:
        super().__init__("Slow")
        self.add_parameters([IntegerParameter("duration", minvalue=1, maxvalue=60, default=1)])

    def validate(self) -> None:
        pass


class Slow(BaseAlgorithm):
    """Waits ``duration`` seconds in ``max(10, 5 * duration)`` steps, reporting progress."""

    def __init__(self, params: SlowParameters) -> None:
        super().__init__("Slow", params)

    @staticmethod
    def initialize_parameters() -> SlowParameters:
        return SlowParameters()

    def run(self, data: DataSource) -> ScenarioResult:
        duration = self.params["duration"]
        steps = max(10, duration * 5)
        for step in range(1, steps + 1):
            time.sleep(duration / steps)
            self.set_progress(100 * step / steps)
        return ScenarioResult(data_id=data.id)


def master_data() -> DataSource:
    source = DataSource(DataClassification.MASTER_DATA, name=MASTER_DATA)
    source.add_table(
        "profile",
        pd.DataFrame(
            {
                "timestamp": ["2026-06-01T00:00:00", "2026-06-01T00:15:00"],
                "load_kw": [45.0, 46.0],
                "pv_kw": [0.0, 0.0],
                "price_eur_per_kwh": [0.21, 0.21],
            }
        ),
    )
    return source


def build():
    config = ApiConfiguration(
        has_persistent_state=False,
        data_object_type=DataSource,
        etl_factory=ETLFactory,  # never used: no ETL upload in the benchmark
        kpis={},
        algorithms={"Slow": Slow},
        schemas=[],
        autocreate=False,
        autorun=False,
        title="algomancy-api (HEAT runner benchmark peer)",
    )
    application = ApiLauncher.build(config)
    sessions = application.state.session_manager
    main = sessions.get_scenario_manager(sessions.resolve_id_by_display_name(SESSION))
    main.set_data(MASTER_DATA, master_data())
    return application


app = build()
