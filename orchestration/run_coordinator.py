"""The instance's run coordinator: Dagster's run queue, except for the runs ``pulse build``/``refresh`` start.

Those commands run in the foreground: the user waits for them, and they wait
themselves (bounded, saying for what) for runs in flight and the dbt pool
(orchestration/run_health.py), so they must not sit in a queue that only a
running daemon empties (a checkout usually has none). A run tagged
``LAUNCH_TAG=now`` is launched at once by the instance's run launcher, as
Dagster's ``DefaultRunCoordinator`` does; every other run (schedules, the
change sensor, the UI's launchpad, backfills) is queued as before. dagster.yaml
names this class; a custom run coordinator is Dagster's documented extension
point, and only the public ``QueuedRunCoordinator`` and instance API are used.
"""

from __future__ import annotations

from typing import Any

from dagster import DagsterRun, DagsterRunStatus, QueuedRunCoordinator

LAUNCH_TAG = "pulse/launch"
LAUNCH_NOW = "now"


class PulseRunCoordinator(QueuedRunCoordinator):
    """Queues every run but the CLI's, which it hands to the run launcher at once."""

    def submit_run(self, context: Any) -> DagsterRun:
        """Launch a NOT_STARTED run tagged ``LAUNCH_TAG=now`` now; queue any other."""
        run: DagsterRun = context.dagster_run
        if run.tags.get(LAUNCH_TAG) != LAUNCH_NOW or run.status != DagsterRunStatus.NOT_STARTED:
            return super().submit_run(context)
        self._instance.launch_run(run.run_id, context.workspace)
        launched = self._instance.get_run_by_id(run.run_id)
        if launched is None:
            raise RuntimeError(f"run {run.run_id} vanished while it was launched")
        return launched
