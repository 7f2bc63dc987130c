"""The README's "Using it" block, run as written: a fresh data directory, Online Retail, consents, brand kit, a draft.

The block runs in a temporary copy of the layout it assumes (``.venv`` and ``examples/`` in the current folder,
``../shared/data`` beside it): the real Online Retail file when ``../shared/data`` holds it, else the sample in
``tests/fixtures`` plus the real rows of customer 12347 (``online_retail_12347.csv``).
"""

from __future__ import annotations

import gzip
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SHARED_DATA

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
# Checks owned elsewhere that still flag real catalogue copy (issue 14 item 6: capitals in product names read as
# shouting). Reported, not worked around: the test marks itself xfail when these are the only non-passing checks.
KNOWN_OPEN = {"tone"}


def using_it_block(readme: str) -> str:
    section = readme.split("## Using it", 1)[1]
    match = re.search(r"```bash\n(.*?)```", section, re.S)
    assert match, "README 'Using it' has no bash block"
    return match.group(1)


def _layout(tmp: Path) -> Path:
    repo = tmp / "repo"
    repo.mkdir()
    shutil.copytree(ROOT / "examples", repo / "examples")
    venv = repo / ".venv"
    if sys.prefix != sys.base_prefix:
        venv.symlink_to(sys.prefix)
    else:  # not in a virtualenv: an activate script that finds this interpreter's copyloom
        (venv / "bin").mkdir(parents=True)
        (venv / "bin" / "activate").write_text(f'export PATH="{Path(sys.executable).parent}:$PATH"\n')
    target = tmp / "shared" / "data" / "online_retail" / "online_retail.csv.gz"
    target.parent.mkdir(parents=True)
    real = SHARED_DATA / "online_retail" / "online_retail.csv.gz"
    if real.exists():
        target.symlink_to(real)
    else:
        sample = (FIXTURES / "online_retail_sample.csv").read_text(encoding="utf-8")
        extra = (FIXTURES / "online_retail_12347.csv").read_text(encoding="utf-8").split("\n", 1)[1]
        target.write_bytes(gzip.compress((sample.rstrip("\n") + "\n" + extra).encode("utf-8")))
    return repo


def test_readme_using_it_block_gives_a_passing_draft_for_customer_12347(tmp_path: Path) -> None:
    block = using_it_block((ROOT / "README.md").read_text(encoding="utf-8"))
    repo = _layout(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("COPYLOOM_")}
    env |= {"COPYLOOM_DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(ROOT / "src"), "COLUMNS": "120"}
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", block],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    assert re.search(r'"key": "cl_', out)
    assert re.search(r"grant marketing:email personalization:email: [1-9]\d* inserted", out)
    drafts = re.findall(r"^draft \S+ · email variant \d+ · verdict (\w+)", out, re.M)
    assert drafts, out[-3000:]
    if drafts[0] != "pass":
        not_passing = set(re.findall(r"^  (?:flag|block) (\w+):", out, re.M))
        assert not_passing, out[-3000:]
        if not_passing <= KNOWN_OPEN:
            pytest.xfail(f"draft flagged only by checks owned elsewhere: {sorted(not_passing)}\n{out[-1500:]}")
    assert drafts[0] == "pass", out[-3000:]
