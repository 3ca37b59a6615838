"""treasury sits above grants, beside rollout: it imports grants, villages, accounts and smartvillage,
never rollout or the top app."""

import ast
from pathlib import Path

from django.conf import settings

ALLOWED = {"treasury", "grants", "villages", "accounts", "smartvillage"}
FORBIDDEN = {"rollout", "portal", "dashboard"}


def test_no_treasury_module_imports_a_layer_above_or_beside_it():
    offending = []
    for path in sorted((Path(settings.BASE_DIR) / "treasury").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            offending += [(path.name, name) for name in names if name.split(".")[0] in FORBIDDEN]
    assert offending == []
