"""The house rules of the layout, checked: the core imports no Flask, the HTTP layers run no SQL, modules
stay small, and invariants are not ``assert`` statements (``python -O`` removes those)."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from service.config import PROJECT_ROOT

SERVICE = PROJECT_ROOT / "service"
#: The core: everything below the Flask edge (``app``, ``errors``, ``cli``, ``web``, ``api``).
CORE = ["service", "service.config", "service.vocab", "service.geo", "service.spatial", "service.store",
        "service.reads", "service.ingest", "service.scoring", "service.maps", "service.runtime",
        "service.visits", "service.demo", "service.tabular", "service.privacy", "service.audit",
        "service.retention", "service.modelcard", "service.auth.users", "service.auth.tokens",
        "service.auth.passwords"]
HTTP_LAYERS = [SERVICE / "web", SERVICE / "api", SERVICE / "ogc"]
MAX_LINES = 400


def _modules() -> list[Path]:
    return sorted(p for p in SERVICE.rglob("*.py") if "migrations" not in p.parts)


def _flask_modules_after_importing(*modules: str) -> list[str]:
    """The Flask modules loaded once ``modules`` are imported into a fresh interpreter."""
    code = (f"import sys, {', '.join(modules)}; "
            "print(' '.join(sorted(m for m in sys.modules if m == 'flask' or m.startswith('flask.'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=PROJECT_ROOT, check=True)
    return out.stdout.split()


def test_the_core_imports_no_flask() -> None:
    """Every core module imported into one fresh interpreter leaves Flask unloaded, so none of them loads it
    (one interpreter instead of one per module keeps the inner loop fast; a failure names the culprits)."""
    if _flask_modules_after_importing(*CORE):
        culprits = [m for m in CORE if _flask_modules_after_importing(m)]
        pytest.fail(f"these core modules load Flask: {culprits}")


def test_the_check_sees_flask_when_it_is_loaded() -> None:
    assert "flask" in _flask_modules_after_importing("service.app")


@pytest.mark.parametrize("folder", HTTP_LAYERS, ids=lambda p: p.name)
def test_http_layers_run_no_sql(folder: Path) -> None:
    """Pages and API call the core's reads; they import no SQLAlchemy and execute nothing themselves."""
    offenders = []
    for path in folder.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                if any(n == "sqlalchemy" or n.startswith("sqlalchemy.") for n in names):
                    offenders.append(f"{path.name}:{node.lineno} imports sqlalchemy")
            if isinstance(node, ast.Attribute) and node.attr == "execute":
                offenders.append(f"{path.name}:{node.lineno} calls .execute")
    assert not offenders


def test_modules_stay_small() -> None:
    big = {str(p.relative_to(PROJECT_ROOT)): n for p in _modules()
           if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not big, f"split these along their seams: {big}"


def test_no_assert_statements_in_the_service() -> None:
    found = [f"{p.relative_to(PROJECT_ROOT)}:{node.lineno}" for p in _modules()
             for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))) if isinstance(node, ast.Assert)]
    assert not found, "use explicit exceptions: " + ", ".join(found)
