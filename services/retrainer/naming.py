"""Names a run gives the work it asks for, derived from the run's id.

Each is the same however often it is computed, so a command sent twice is recognised by the
service receiving it (and by JetStream's de-duplication) and starts nothing twice.
"""

import uuid

RUN_NAMESPACE = uuid.UUID("5d1f0c8e-3b7a-4f4e-9d55-2f1c7c4b9a10")


def new_run_id() -> str:
    return f"rtr_{uuid.uuid4().hex[:24]}"


def _derived(run_id: str, what: str) -> str:
    return uuid.uuid5(RUN_NAMESPACE, f"{run_id}:{what}").hex


def export_id_of(run_id: str) -> str:
    """The ``dataset.export`` command's id, which the exporter gives the dataset version."""
    return _derived(run_id, "export")


def job_id_of(run_id: str) -> str:
    return f"ftjob-{_derived(run_id, 'job')[:24]}"


def evaluation_id_of(run_id: str) -> str:
    return f"eval-rt-{_derived(run_id, 'evaluation')[:16]}"


def experiment_id_of(run_id: str) -> str:
    return f"exp_rt{_derived(run_id, 'experiment')[:20]}"


def experiment_name_of(model_name: str, run_id: str) -> str:
    return f"{model_name[:40]}-retrain-{run_id.removeprefix('rtr_')[:8]}"


def message_id_of(run_id: str, what: str) -> str:
    """The envelope id of a command the run sends (one per kind of command)."""
    return _derived(run_id, f"message:{what}")


def default_dataset(model_name: str) -> str:
    return f"{model_name}-retraining"


__all__ = [
    "default_dataset",
    "evaluation_id_of",
    "experiment_id_of",
    "experiment_name_of",
    "export_id_of",
    "job_id_of",
    "message_id_of",
    "new_run_id",
]
