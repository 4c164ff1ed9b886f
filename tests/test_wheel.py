"""The product's wheel holds the product and its data, and none of the tools that test and train it.

The wheel is built from a copy of the tree (so no build/ or egg-info lands in the checkout) with pip's
isolated build, as a user's `pip install` would build it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ("pipeline", "classifiers", "schemas", "review")
TOOLS = ("synth", "training", "bench", "tests")
_NOT_SOURCE = shutil.ignore_patterns(
    ".git",
    ".venv",
    ".stamps",
    "__pycache__",
    "*.pyc",
    "*.egg-info",
    "build",
    "dist",
    ".*_cache",
    "dangan-data",
    "demo-*",
)


def build_wheel(tree: Path, out: Path) -> Path:
    """Build the project at `tree` into `out` and return the wheel's path."""
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(out), str(tree)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, f"pip wheel failed:\n{done.stdout}\n{done.stderr}"
    (wheel,) = out.glob("dangan-*.whl")
    return wheel


def wheel_contents(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as zf:
        return set(zf.namelist())


def missing_and_stray(names: set[str], root: Path) -> tuple[list[str], list[str]]:
    """Product files of the checkout the wheel lacks, and wheel entries from the tools."""
    tops = {n.split("/")[0] for n in names}
    source = [
        p.relative_to(root).as_posix()
        for pkg in PRODUCT
        for p in (root / pkg).rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    ]
    return sorted(s for s in source if s not in names), sorted(t for t in tops if t in TOOLS)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tree = tmp_path_factory.mktemp("src") / "dangan"
    shutil.copytree(ROOT, tree, ignore=_NOT_SOURCE)
    return build_wheel(tree, tmp_path_factory.mktemp("wheel"))


def test_the_wheel_holds_every_product_file_and_no_tool(wheel: Path) -> None:
    names = wheel_contents(wheel)
    missing, stray = missing_and_stray(names, ROOT)
    assert not missing, f"product files missing from the wheel (package-data?): {missing}"
    assert not stray, f"the wheel ships tools that belong to the checkout: {stray}"
    # the data the product reads at start, named so a rename in package-data cannot slip by
    for data in (
        "schemas/registry/forms.yaml",
        "schemas/decide/thresholds.yaml",
        "classifiers/artifacts/form_ngram.npz",
    ):
        assert data in names


def test_the_check_reports_a_tool_in_the_wheel_and_a_lost_data_file(tmp_path: Path) -> None:
    # The same check on a wheel listing built wrong on purpose: synth shipped, a registry file left out.
    (tmp_path / "schemas" / "registry").mkdir(parents=True)
    (tmp_path / "schemas" / "registry" / "forms.yaml").write_text("version: 1\n")
    (tmp_path / "schemas" / "models.py").write_text("")
    missing, stray = missing_and_stray({"schemas/models.py", "synth/batch.py", "tests/conftest.py"}, tmp_path)
    assert missing == ["schemas/registry/forms.yaml"]
    assert stray == ["synth", "tests"]
