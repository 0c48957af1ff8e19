"""Dataset exports: accepted at once (202) and run by the exporter; this follows one to its end."""

import time
from collections.abc import Callable
from typing import Any

from tuneloop.client.errors import ApiError, row_error_of
from tuneloop.client.http import ApiClient

FINISHED = ("succeeded", "failed")
POLL_SECONDS = 0.5


def export_error(status: dict[str, Any]) -> ApiError:
    """The failure of an export as the error the API reports for it."""
    info = status.get("error") or {}
    code = str(info.get("code") or "export_failed")
    total = info.get("total_errors")
    return ApiError(
        500 if code == "export_failed" else 422,
        code,
        str(info.get("message") or f"the export {status.get('id')} failed"),
        [row_error_of(item) for item in info.get("errors") or []],
        total if isinstance(total, int) else None,
        {"error": info},
    )


def wait_for_export(
    client: ApiClient,
    accepted: dict[str, Any],
    interval: float | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> dict[str, Any]:
    """The new dataset version (with its manifest) once the export has succeeded.

    Raises :class:`ApiError` with the export's reason (e.g. ``too_few_examples`` and the
    examples excluded per reason) if it failed.
    """
    status, polls = accepted, 0
    while status["status"] not in FINISHED:
        if polls:
            sleep(POLL_SECONDS if interval is None else interval)
        status = client.get(f"/v1/datasets/exports/{accepted['id']}")
        polls += 1
    if status["status"] == "failed":
        raise export_error(status)
    detail: dict[str, Any] = client.get(f"/v1/datasets/{status['dataset_id']}")
    return detail


__all__ = ["export_error", "wait_for_export"]
