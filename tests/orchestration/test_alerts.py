"""The run-failure alert: real Dagster runs that fail, a real local HTTP server as the webhook."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from dagster import (
    DagsterEventType,
    DagsterInstance,
    RunFailureSensorContext,
    SkipReason,
    build_run_status_sensor_context,
    instance_for_test,
    job,
    op,
)

from orchestration.alerts import WILL_RETRY_TAG, WebhookError, alert_on_final_failure, alert_on_run_failure
from pulse.settings import Settings, get_settings

ERROR = "dbt build failed: relation analytics.analytics_daily_metrics does not exist"


class Webhook:
    """A local HTTP server that records the JSON bodies POSTed to it and answers ``status``."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.content_types: list[str] = []
        self.status = 200
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                hook.bodies.append(json.loads(self.rfile.read(length)))
                hook.content_types.append(self.headers["Content-Type"])
                self.send_response(hook.status)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/pulse"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        """Stop serving (again: a no-op)."""
        if self.thread.is_alive():
            self.server.shutdown()
            self.server.server_close()
            self.thread.join()


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook()
    yield hook
    hook.close()


@op
def build_marts() -> None:
    raise RuntimeError(ERROR)


@job(tags={"dagster/asset_partition_range_start": "2026-03-01", "dagster/asset_partition_range_end": "2026-03-07"})
def warehouse_like_job() -> None:
    build_marts()


def failed_run_context(instance: DagsterInstance, tags: dict[str, str] | None = None) -> RunFailureSensorContext:
    """Run the failing job for real and build the failure sensor's context from its stored run and event."""
    result = warehouse_like_job.execute_in_process(instance=instance, raise_on_error=False, tags=tags)
    assert not result.success
    run = instance.get_run_by_id(result.run_id)
    assert run is not None
    (failure,) = instance.all_logs(result.run_id, of_type=DagsterEventType.RUN_FAILURE)
    assert failure.dagster_event is not None
    return build_run_status_sensor_context(
        sensor_name=alert_on_run_failure.name,
        dagster_event=failure.dagster_event,
        dagster_instance=instance,
        dagster_run=run,
    ).for_run_failure()


def test_a_run_failed_for_good_posts_one_slack_message(webhook: Webhook) -> None:
    # Run retries on, as in dagster.yaml, but this run may not be retried (max_retries 0): it failed for good.
    with instance_for_test(overrides={"run_retries": {"enabled": True, "max_retries": 3}}) as instance:
        context = failed_run_context(instance, tags={"dagster/max_retries": "0"})
        assert context.dagster_run.tags.get(WILL_RETRY_TAG) == "false"
        assert alert_on_final_failure(context, Settings(alert_webhook_url=webhook.url)) is None
    assert len(webhook.bodies) == 1 and webhook.content_types == ["application/json"]
    (body,) = webhook.bodies
    assert set(body) == {"text"}
    text = body["text"]
    assert "`warehouse_like_job` failed for good" in text and context.dagster_run.run_id in text
    assert "local dates 2026-03-01 to 2026-03-07" in text
    assert "build_marts" in text and "failed steps" in text


def test_no_message_while_the_retry_daemon_will_retry_the_run(webhook: Webhook) -> None:
    with instance_for_test(overrides={"run_retries": {"enabled": True, "max_retries": 3}}) as instance:
        context = failed_run_context(instance)
        assert context.dagster_run.tags.get(WILL_RETRY_TAG) == "true"  # set by Dagster itself
        skipped = alert_on_final_failure(context, Settings(alert_webhook_url=webhook.url))
    assert isinstance(skipped, SkipReason) and "will be retried" in (skipped.skip_message or "")
    assert webhook.bodies == []


def test_the_sensor_reads_the_webhook_from_the_environment(webhook: Webhook, monkeypatch: pytest.MonkeyPatch) -> None:
    with instance_for_test() as instance:  # no run retries: every failure is final
        context = failed_run_context(instance)
        monkeypatch.delenv("PULSE_ALERT_WEBHOOK_URL", raising=False)
        get_settings.cache_clear()
        assert isinstance(alert_on_run_failure(context), SkipReason)
        monkeypatch.setenv("PULSE_ALERT_WEBHOOK_URL", webhook.url)
        get_settings.cache_clear()
        try:
            alert_on_run_failure(context)
        finally:
            get_settings.cache_clear()
    assert len(webhook.bodies) == 1 and ERROR in webhook.bodies[0]["text"]


def test_a_webhook_that_refuses_fails_the_tick_with_the_reason(webhook: Webhook) -> None:
    webhook.status = 500
    with instance_for_test() as instance:
        context = failed_run_context(instance)
        with pytest.raises(WebhookError, match="HTTP Error 500"):
            alert_on_final_failure(context, Settings(alert_webhook_url=webhook.url))
        webhook.close()
        with pytest.raises(WebhookError, match="not reachable"):
            alert_on_final_failure(context, Settings(alert_webhook_url=webhook.url))
