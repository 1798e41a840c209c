"""Where the dbt project, its profiles and the contracts are."""

from __future__ import annotations

import hashlib
import os
import shutil
from importlib import metadata
from pathlib import Path

import yaml

PROJECT_DIR = Path(__file__).resolve().parent.parent
CONTRACT_DIR = PROJECT_DIR / "contract"
TARGETS = ("dev", "bq_local", "prod")
# What a backfill builds and what `validate` tests by default: the mart and everything upstream
# of it (dbt selection syntax). The only model name the driver knows.
DEFAULT_SELECTION = ["+player_game_summary"]


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


_PATH_KEYS = {  # dbt_project.yml key: dbt's default
    "model-paths": ["models"],
    "macro-paths": ["macros"],
    "test-paths": ["tests"],
    "seed-paths": ["seeds"],
    "snapshot-paths": ["snapshots"],
    "analysis-paths": ["analyses"],
}
_DBT_DISTRIBUTIONS = ("dbt-core", "dbt-adapters", "dbt-duckdb", "dbt-bigquery")


def project_fingerprint(*parts: str) -> str:
    """A hash of what dbt parses and runs here: dbt_project.yml, the profiles, every file
    under the project's model/macro/test/seed/snapshot/analysis paths and installed packages,
    and the installed dbt versions, plus `parts`. Equal fingerprints parse and unit-test alike."""
    digest = hashlib.sha256()
    project_file = PROJECT_DIR / "dbt_project.yml"
    config = yaml.safe_load(project_file.read_text()) or {}
    files = [project_file, profiles_dir() / "profiles.yml", PROJECT_DIR / "packages.yml"]
    roots = [p for key, default in _PATH_KEYS.items() for p in config.get(key, default)]
    roots.append(config.get("packages-install-path", "dbt_packages"))
    for root in roots:
        base = PROJECT_DIR / root
        if base.is_dir():
            files.extend(sorted(p for p in base.rglob("*") if p.is_file()))
    for path in files:
        if path.is_file():
            name = path.relative_to(PROJECT_DIR) if path.is_relative_to(PROJECT_DIR) else path
            digest.update(f"{name}\0".encode())
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    for name in _DBT_DISTRIBUTIONS:
        try:
            digest.update(f"{name}={metadata.version(name)}\0".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{name}=-\0".encode())
    for part in parts:
        digest.update(f"{part}\0".encode())
    return digest.hexdigest()
