"""``python -m services.trainer.training <spec.json>``: run one job, report JSON lines."""

import sys
import traceback
from pathlib import Path

from services.trainer.training.errors import TrainingError
from services.trainer.training.reporting import Reporter
from services.trainer.training.spec import TrainingSpec


def main(argv: list[str]) -> int:
    reporter = Reporter()
    spec = TrainingSpec.model_validate_json(Path(argv[1]).read_text())
    from services.trainer.training.run import install_stop_signal, train

    stop = install_stop_signal()
    try:
        train(spec, reporter, stop)
    except TrainingError as exc:
        reporter.send("failed", code=exc.code, message=exc.message, param=exc.param)
    except Exception as exc:
        traceback.print_exc()
        reporter.send(
            "failed",
            code="training_error",
            message=f"training stopped with {type(exc).__name__}: {exc}"[:2000],
        )
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
