"""A current database opens without importing alembic (~11 MB less for the daemon)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from alembic.script import ScriptDirectory

from flightwatch.db import connect
from flightwatch.db.engine import _alembic_config, head_revisions


def test_the_heads_read_from_the_scripts_are_alembics(tmp_path: Path) -> None:
    engine = connect(f"sqlite:///{tmp_path / 'fw.db'}")
    script = ScriptDirectory.from_config(_alembic_config(engine))
    assert head_revisions() == set(script.get_heads())
    engine.dispose()


def test_opening_a_current_database_leaves_alembic_unimported(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'fw.db'}"
    connect(url).dispose()  # creates and upgrades: alembic runs here
    probe = ("import sys; from flightwatch.db import connect; "
             f"connect({url!r}).dispose(); print('alembic' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"
