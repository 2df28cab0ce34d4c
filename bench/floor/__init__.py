"""The floor: a bare Django project (no middleware, no database) served like HEAT.

bench/harness.py serves it with ``heat_server_command(port, project="bench.floor")``, so the
figures of a bare view come from the same server configuration as HEAT's. ``/sync`` is a sync
view, ``/async`` an async one; both answer a small JSON body, as the runner's status does.
"""
