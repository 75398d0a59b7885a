"""Floors import only downward: every contract of `.importlinter` holds (`lint-imports`), the floors name every
part of casehall, and the linter does catch an upward import."""

import configparser
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / ".importlinter"
LINT = Path(sys.executable).parent / "lint-imports"
PREFIX = "importlinter:contract:"


def contracts() -> dict[str, configparser.SectionProxy]:
    parser = configparser.ConfigParser()
    assert parser.read(CONFIG, encoding="utf-8"), f"{CONFIG} is missing"
    return {name.removeprefix(PREFIX): parser[name] for name in parser.sections() if name.startswith(PREFIX)}


def lines(value: str) -> list[str]:
    return [line.strip() for line in value.splitlines() if line.strip() and not line.strip().startswith("#")]


def lint(cwd: Path, *contract: str) -> subprocess.CompletedProcess[str]:
    args = [a for c in contract for a in ("--contract", c)]
    # --no-cache: no .import_linter_cache in the checkout; cwd first on sys.path, so `casehall` is the one in cwd.
    return subprocess.run([str(LINT), "--no-cache", "--no-logo", "--config", str(cwd / ".importlinter"), *args],
                          cwd=cwd, capture_output=True, text=True, timeout=120)


def parts_of_casehall(root: Path) -> set[str]:
    """casehall.x for every package and module directly under casehall/."""
    here = root / "casehall"
    return {f"casehall.{p.name}" for p in here.iterdir() if p.is_dir() and (p / "__init__.py").exists()} | {
        f"casehall.{p.stem}" for p in here.glob("*.py") if p.name != "__init__.py"}


@pytest.mark.parametrize("contract", sorted(contracts()))
def test_contract_is_kept(contract: str) -> None:
    result = lint(ROOT, contract)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_floors_name_every_part_of_casehall() -> None:
    floors = contracts()["floors"]
    named = {m for layer in lines(floors["layers"]) for m in re.split(r"\s*[|:]\s*", layer)}
    assert named == parts_of_casehall(ROOT), "add the new part of casehall to a floor in .importlinter"
    forbidden_to_models = set(lines(contracts()["plain-models"]["forbidden_modules"]))
    assert parts_of_casehall(ROOT) - {"casehall.models"} <= forbidden_to_models


@pytest.mark.parametrize(("module", "line", "contract"), [
    ("casehall/models/__init__.py", "import casehall.core.settings", "floors"),
    ("casehall/calendar/__init__.py", "import casehall.store.queries", "floors"),  # siblings on one floor
    ("casehall/workflows/__init__.py", "import sqlalchemy", "deterministic-workflows"),
    ("casehall/models/__init__.py", "import sqlalchemy", "plain-models"),
])
def test_an_upward_import_breaks_its_contract(tmp_path: Path, module: str, line: str, contract: str) -> None:
    shutil.copytree(ROOT / "casehall", tmp_path / "casehall", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(CONFIG, tmp_path / ".importlinter")
    target = tmp_path / module
    target.write_text(target.read_text(encoding="utf-8") + f"\n{line}  # injected by the test\n", encoding="utf-8")
    result = lint(tmp_path, contract)
    assert result.returncode == 1, result.stdout + result.stderr
    injected = module.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
    assert f"{injected} -> {line.removeprefix('import ')}" in result.stdout, result.stdout
