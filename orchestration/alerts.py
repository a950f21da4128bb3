"""Alerts: a Slack-compatible message to ``PULSE_ALERT_WEBHOOK_URL`` when a Dagster run has failed for good.

A run that fails while the run-retry daemon will re-execute it (dagster.yaml's ``run_retries``) carries
the tag ``dagster/will_retry=true``: no message then; its last retry, failing with the tag ``false``,
sends one. The message is ``{"text": ...}``, which Slack, Mattermost, Rocket.Chat and Microsoft Teams'
Slack-compatible hooks all accept. Without the setting the sensor skips (the tick says why).
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Mapping

from dagster import DefaultSensorStatus, RunFailureSensorContext, SkipReason, run_failure_sensor

from pulse.settings import Settings, get_settings

WILL_RETRY_TAG = "dagster/will_retry"  # set by Dagster on a failed run: "true" while a retry is coming
WEBHOOK_TIMEOUT_SECONDS = 10.0
MAX_ERROR_CHARS = 1500
RANGE_TAGS = ("dagster/asset_partition_range_start", "dagster/asset_partition_range_end")


class WebhookError(RuntimeError):
    """The webhook did not accept the message; the sensor tick fails and Dagster evaluates the failure again."""


def will_be_retried(tags: Mapping[str, str]) -> bool:
    """Whether the run-retry daemon will re-execute this failed run."""
    return tags.get(WILL_RETRY_TAG, "false").strip().lower() == "true"


def failure_text(context: RunFailureSensorContext) -> str:
    """One Slack message: which job, which dates, the error, how to find the run."""
    run = context.dagster_run
    tags = run.tags
    lines = [f":red_circle: Pulse: Dagster run of `{run.job_name}` failed for good (run {run.run_id})"]
    if all(tag in tags for tag in RANGE_TAGS):
        lines.append(f"local dates {tags[RANGE_TAGS[0]]} to {tags[RANGE_TAGS[1]]}")
    elif "dagster/partition" in tags:
        lines.append(f"local date {tags['dagster/partition']}")
    if "dagster/retry_number" in tags:
        lines.append(f"after {tags['dagster/retry_number']} automatic retries")
    step_errors = []
    for event in context.get_step_failure_events():
        error = event.step_failure_data.error
        while error is not None and error.cause is not None:  # Dagster wraps the op's exception: its root cause
            error = error.cause
        step_errors.append(f"{event.step_key}: {error.message.strip() if error else 'no error message'}")
    if step_errors:
        lines.append("failed steps: " + ", ".join(e.split(":", 1)[0] for e in step_errors))
    message = "\n".join(step_errors) or context.failure_event.message or "no error message"
    lines.append("```" + message[:MAX_ERROR_CHARS] + "```")
    return "\n".join(lines)


def post_message(url: str, text: str, timeout: float = WEBHOOK_TIMEOUT_SECONDS) -> None:
    """POST ``{"text": text}`` as JSON to ``url``; WebhookError naming the reason when it is not accepted."""
    if not url.lower().startswith(("http://", "https://")):
        raise WebhookError("PULSE_ALERT_WEBHOOK_URL must be an http:// or https:// URL")
    body = json.dumps({"text": text}).encode()
    headers = {"Content-Type": "application/json"}
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)  # noqa: S310 - checked above
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - the operator's URL
            if not 200 <= response.status < 300:
                raise WebhookError(f"alert webhook answered HTTP {response.status}")
    except OSError as exc:  # URLError, HTTPError, timeouts, refused connections
        raise WebhookError(f"alert webhook not reachable: {exc}") from exc


def alert_on_final_failure(context: RunFailureSensorContext, settings: Settings) -> SkipReason | None:
    """Send the alert of a failed run unless it will be retried or no webhook is set; the skip reason if not sent."""
    if will_be_retried(context.dagster_run.tags):
        return SkipReason(f"run {context.dagster_run.run_id} failed but will be retried: no alert yet")
    if not settings.alert_webhook_url:
        return SkipReason("PULSE_ALERT_WEBHOOK_URL is not set: no alert sent")
    post_message(settings.alert_webhook_url, failure_text(context))
    context.log.info(f"alert sent for run {context.dagster_run.run_id}")
    return None


@run_failure_sensor(
    name="alert_on_run_failure",
    default_status=DefaultSensorStatus.RUNNING,
    description="Posts a Slack-compatible message to PULSE_ALERT_WEBHOOK_URL when a run has failed for good.",
    minimum_interval_seconds=30,
)
def alert_on_run_failure(context: RunFailureSensorContext) -> SkipReason | None:
    """A run of this code location failed: alert, unless the run-retry daemon will re-execute it."""
    return alert_on_final_failure(context, get_settings())
