"""Where the dbt project, its profiles and the contracts are."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import yaml

PROJECT_DIR = Path(__file__).resolve().parent.parent
CONTRACT_DIR = PROJECT_DIR / "contract"
TARGETS = ("dev", "bq_local", "prod")


def profiles_dir() -> Path:
    """The profiles dir dbt should use.

    A user's DBT_PROFILES_DIR wins; then a profiles.yml in the project; else the
    committed profiles.example.yml (env-var driven, no secrets) copied to
    .dbt-profiles/profiles.yml.
    """
    env = os.environ.get("DBT_PROFILES_DIR")
    if env:
        return Path(env)
    if (PROJECT_DIR / "profiles.yml").exists():
        return PROJECT_DIR
    out = PROJECT_DIR / ".dbt-profiles"
    out.mkdir(exist_ok=True)
    src = PROJECT_DIR / "profiles.example.yml"
    dst = out / "profiles.yml"
    if not dst.exists() or dst.read_bytes() != src.read_bytes():
        tmp = out / "profiles.yml.tmp"
        shutil.copyfile(src, tmp)
        os.replace(tmp, dst)
    return out


def load_contract(name: str) -> dict:
    """Read contract/<name>.yml (raw_tables or player_game_summary)."""
    with open(CONTRACT_DIR / f"{name}.yml") as fh:
        return yaml.safe_load(fh)
