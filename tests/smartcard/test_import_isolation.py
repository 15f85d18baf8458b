"""smartcard/ stands alone: no Flask, SQLAlchemy or portal, and pyscard only when a reader is used."""

import pkgutil
import subprocess
import sys
from pathlib import Path

import madoguchi_smartcard.jpki

PACKAGE_DIR = Path(madoguchi_smartcard.jpki.__file__).parent
BLOCKER = """
import importlib.abc, sys
class Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('flask', 'sqlalchemy', 'portal', 'flask_wtf', 'alembic'):
            raise ImportError('blocked: ' + name)
        return None
sys.meta_path.insert(0, Blocker())
import importlib
for module in {modules!r}:
    importlib.import_module(module)
pyscard_loaded = any(name.startswith('smartcard.scard') or name == 'smartcard.System' for name in sys.modules)
print('PYSCARD' if pyscard_loaded else 'OK')
"""


def test_every_module_imports_without_flask_sqlalchemy_or_portal():
    modules = ["madoguchi_smartcard"] + [f"madoguchi_smartcard.{m.name}"
                                         for m in pkgutil.iter_modules([str(PACKAGE_DIR)])]
    assert "madoguchi_smartcard.readers" in modules and "madoguchi_smartcard.cli" in modules
    result = subprocess.run([sys.executable, "-c", BLOCKER.format(modules=modules)],
                            capture_output=True, text=True, cwd=PACKAGE_DIR.parent)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "OK"  # importing madoguchi_smartcard.readers does not load pyscard
