"""Boundaries the code keeps: services never import each other, only config reads the
environment, every package declares its public surface."""

import ast
from pathlib import Path

import pytest

from contracts.services import SERVICE_NAMES

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("contracts", "libs", "services", "tuneloop")
ENVIRONMENT_READERS = {
    Path("libs/config/settings.py"),
    # these hand the environment on to the processes they start
    Path("tuneloop/stack.py"),
    Path("libs/supervision/postgres.py"),
    Path("libs/supervision/vllm.py"),
    # sets the variable Unsloth reads at import time, inside the training process only
    Path("services/trainer/training/unsloth_backend.py"),
}


def python_files(*roots: str) -> list[Path]:
    return [
        path
        for root in roots
        for path in sorted((REPO / root).rglob("*.py"))
        if "migrations" not in path.parts
    ]


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_a_service_imports_no_other_service(service: str) -> None:
    for path in python_files(f"services/{service}"):
        for module in imported_modules(path):
            parts = module.split(".")
            if parts[0] == "services" and len(parts) > 1:
                assert parts[1] == service, f"{path.relative_to(REPO)} imports {module}"


def test_libs_and_contracts_import_no_service() -> None:
    for path in python_files("libs", "contracts"):
        if path.name == "metadata.py":  # gathers every package's tables for migrations
            continue
        for module in imported_modules(path):
            assert not module.startswith("services"), f"{path.relative_to(REPO)} imports {module}"


def test_contracts_depend_on_nothing_of_ours() -> None:
    for path in python_files("contracts"):
        for module in imported_modules(path):
            assert module.split(".")[0] not in {"libs", "services", "tuneloop"}, path


def test_only_config_reads_the_environment() -> None:
    for path in python_files(*PACKAGES):
        source = path.read_text()
        if path.relative_to(REPO) in ENVIRONMENT_READERS:
            continue
        assert "os.environ" not in source, path.relative_to(REPO)
        assert "getenv" not in source, path.relative_to(REPO)


def test_every_package_declares_its_public_surface() -> None:
    for path in python_files(*PACKAGES):
        if path.name == "__init__.py":
            tree = ast.parse(path.read_text())
            assigned = {
                target.id
                for node in tree.body
                if isinstance(node, ast.Assign | ast.AnnAssign)
                for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
                if isinstance(target, ast.Name)
            }
            assert "__all__" in assigned, path.relative_to(REPO)


def test_no_dumping_ground_modules() -> None:
    for path in python_files(*PACKAGES):
        assert path.stem not in {"utils", "common", "helpers", "misc"}, path
