"""The tree's layers: the product never imports the tools that test and train it.

Every module of the runtime packages is parsed (not imported) and each import is read from its syntax
tree, imports inside functions included, so a lazy import cannot hide. The one exception is the
`dangan synth` command, which reaches for the generator of a source checkout when it is there.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from pipeline.errors import ExitCode

ROOT = Path(__file__).resolve().parent.parent
RUNTIME = ("pipeline", "classifiers", "schemas", "review", "dags")
TOOLS = frozenset({"synth", "training", "bench", "tests"})
# (module file, enclosing function, imported top-level package): the documented lazy import of `dangan synth`.
ALLOWED = frozenset({("pipeline/cli.py", "synth", "synth")})
# What the synthetic generator may take from the product: the registry's data and models, and the error
# types the CLI turns into exit codes. Nothing of the stages, so the generator cannot agree with the
# extractor by construction.
SYNTH_MAY_IMPORT = ("schemas", "pipeline.errors")
# Classification sits above text normalisation, preprocessing, OCR and separation: those take what they
# need from pipeline/ (pipeline/text.py) or through a protocol (separate.TitleMatcher), and only the
# step that assembles documents builds the classifiers.
CLASSIFIER_USERS = frozenset({"pipeline/assemble.py"})


@dataclass(frozen=True)
class Import:
    module: str  # the dotted name imported ("synth.batch"); relative imports are resolved
    line: int
    function: str | None  # the innermost enclosing function, None at module level


def _dynamic_target(node: ast.Call) -> str | None:
    """The module named by `importlib.import_module("x")` or `__import__("x")`, when it is a literal."""
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
    if name not in ("import_module", "__import__") or not node.args:
        return None
    first = node.args[0]
    return first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else None


def imports_of(source: str, package: str) -> list[Import]:
    """Every import in a module's source, with the function it sits in; `package` resolves relative ones."""
    found: list[Import] = []

    def visit(node: ast.AST, function: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            inner = child.name if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else function
            if isinstance(child, ast.Import):
                found.extend(Import(alias.name, child.lineno, function) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    parts = package.split(".")
                    parent = ".".join(parts[: len(parts) - child.level + 1])
                    base = f"{parent}.{base}" if base else parent
                found.append(Import(base, child.lineno, function))
            elif isinstance(child, ast.Call) and (target := _dynamic_target(child)) is not None:
                found.append(Import(target, child.lineno, function))
            visit(child, inner)

    visit(ast.parse(source), None)
    return found


def _modules(packages: tuple[str, ...]) -> list[Path]:
    files = [p for pkg in packages for p in sorted((ROOT / pkg).rglob("*.py")) if "__pycache__" not in p.parts]
    assert files, f"no modules found under {packages} from {ROOT}"
    return files


def _package_of(path: Path) -> str:
    # a module's package is its folder, for pkg/mod.py and pkg/__init__.py alike
    return ".".join(path.relative_to(ROOT).parts[:-1])


def tool_imports(path: Path) -> list[str]:
    """The imports of tools (synth, training, bench, tests) in one runtime module, less the allowed one."""
    rel = path.relative_to(ROOT).as_posix()
    bad = []
    for imp in imports_of(path.read_text(encoding="utf-8"), _package_of(path)):
        top = imp.module.split(".")[0]
        if top in TOOLS and (rel, imp.function, top) not in ALLOWED:
            where = f"in {imp.function}()" if imp.function else "at module level"
            bad.append(f"{rel}:{imp.line} imports {imp.module} {where}")
    return bad


def test_runtime_code_never_imports_the_tools() -> None:
    bad = [line for path in _modules(RUNTIME) for line in tool_imports(path)]
    assert not bad, "runtime code imports test/training tools:\n" + "\n".join(bad)


def test_the_one_allowed_import_is_lazy_and_still_there() -> None:
    # Kept honest: if `dangan synth` stops needing it, the exception goes; it must stay inside the command.
    for rel, function, top in ALLOWED:
        found = [i for i in imports_of((ROOT / rel).read_text(encoding="utf-8"), "") if i.module.split(".")[0] == top]
        assert found and all(i.function == function for i in found), (rel, found)


def test_the_generator_takes_only_the_registry_and_error_types_from_the_product() -> None:
    product = set(RUNTIME)
    bad = []
    for path in _modules(("synth",)):
        for imp in imports_of(path.read_text(encoding="utf-8"), _package_of(path)):
            top = imp.module.split(".")[0]
            allowed = any(imp.module == m or imp.module.startswith(m + ".") for m in SYNTH_MAY_IMPORT)
            if top in product and not allowed:
                bad.append(f"{path.relative_to(ROOT)}:{imp.line} imports {imp.module}")
    assert not bad, "the generator reaches into the product:\n" + "\n".join(bad)


def test_only_the_assembly_step_reaches_the_classifiers() -> None:
    users = {
        path.relative_to(ROOT).as_posix()
        for path in _modules(("pipeline", "schemas"))
        for imp in imports_of(path.read_text(encoding="utf-8"), _package_of(path))
        if imp.module.split(".")[0] == "classifiers"
    }
    assert users <= CLASSIFIER_USERS, f"lower stages import the classifiers: {sorted(users - CLASSIFIER_USERS)}"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import training.form_classifier\n", ["training.form_classifier"]),
        ("def f():\n    from synth.batch import plan_batch\n", ["synth.batch"]),
        ("import importlib\ndef f():\n    importlib.import_module('bench.accuracy')\n", ["bench.accuracy"]),
        ("from .sibling import f\n", ["pipeline.ocr.sibling"]),
        ("from .. import errors\n", ["pipeline"]),
    ],
)
def test_the_checker_sees_module_level_lazy_and_dynamic_imports(source: str, expected: list[str]) -> None:
    modules = [i.module for i in imports_of(source, "pipeline.ocr")]
    assert [m for m in modules if m != "importlib"] == expected


def test_a_runtime_module_that_imports_a_tool_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The real check, run on a copy of the rule broken on purpose (pipeline/fake.py imports training lazily).
    (tmp_path / "pipeline").mkdir()
    (tmp_path / "pipeline" / "fake.py").write_text("def fit():\n    from training import calibration_fit\n")
    (tmp_path / "pipeline" / "cli.py").write_text("def synth():\n    import synth\ndef other():\n    import synth\n")
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    assert tool_imports(tmp_path / "pipeline" / "fake.py") == ["pipeline/fake.py:2 imports training in fit()"]
    assert tool_imports(tmp_path / "pipeline" / "cli.py") == ["pipeline/cli.py:4 imports synth in other()"]


def test_dangan_synth_says_how_to_get_the_generator_when_it_is_missing(tmp_path: Path) -> None:
    # An installed wheel has no synth package: the command names what is missing and how to get it.
    code = (
        "import sys; sys.modules['synth'] = None; "
        f"sys.argv = ['dangan', 'synth', '--out', {str(tmp_path / 'batch')!r}, '--docs', '1']; "
        "from pipeline.cli import main; main()"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == int(ExitCode.MISSING_DEPENDENCY), done.stderr
    message = " ".join(done.stderr.split())
    assert "`synth` package of the source tree" in message and "pip install -e '.[synth]'" in message
    assert not (tmp_path / "batch").exists()


MAX_MODULE_LINES = 500


def test_no_module_is_over_500_lines() -> None:
    # Small modules with one job each (STYLE.md); a longer one is a sign it does two.
    packages = (*RUNTIME, *sorted(TOOLS))
    long = [
        f"{path.relative_to(ROOT)}: {n} lines"
        for path in _modules(packages)
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    ]
    assert not long, "split these modules:\n" + "\n".join(long)
