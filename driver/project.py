"""Where the dbt project, its profiles and the contracts are; the targets the profile defines.

A target's adapter type (duckdb, bigquery) is read from the profile, never guessed from its
name: the driver decides from it whether chunks may run in parallel and whether dbt unit
tests can run there.
"""

from __future__ import annotations

import hashlib
import os
import re
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

from driver.errors import UsageError
from driver.files import atomic_write_bytes

PROJECT_DIR = Path(__file__).resolve().parent.parent
CONTRACT_DIR = PROJECT_DIR / "contract"
DEFAULT_TARGET = "dev"
# What a backfill builds and what `validate` tests by default (dbt selection syntax): the build
# staleness view and everything upstream of it, i.e. the mart, the build ledger that records
# what each date was built from (downstream of the mart: a failed audit records nothing) and
# the view `refresh` reads (re-created by every build, so it holds the current project's
# fingerprint). The only model name the driver knows.
DEFAULT_SELECTION = ["+build_staleness"]


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
        atomic_write_bytes(dst, src.read_bytes())
    return out


def load_contract(name: str) -> dict[str, Any]:
    """Read contract/<name>.yml (raw_tables or player_game_summary)."""
    with open(CONTRACT_DIR / f"{name}.yml") as fh:
        return dict(yaml.safe_load(fh))


def _read_yaml(path: Path) -> dict[str, Any]:
    with open(path) as fh:
        data = yaml.safe_load(fh)
    return data if isinstance(data, dict) else {}


def _outputs() -> tuple[Path, dict[str, Any]]:
    """The profiles.yml dbt uses and the outputs of this project's profile."""
    profile = str(_read_yaml(PROJECT_DIR / "dbt_project.yml").get("profile", ""))
    path = profiles_dir() / "profiles.yml"
    if not path.is_file():
        raise UsageError(f"no profiles.yml in {path.parent}: set DBT_PROFILES_DIR or unset it")
    outputs = (_read_yaml(path).get(profile) or {}).get("outputs") or {}
    if not outputs:
        raise UsageError(f"{path} has no profile {profile!r} with outputs: add one")
    return path, outputs


_ENV_VAR = re.compile(r"""\{\{\s*env_var\(\s*'([^']+)'\s*(?:,\s*'([^']*)'\s*)?\)\s*\}\}""")


def profile_setting(target: str, *keys: str) -> str | None:
    """One setting of `target`'s output (e.g. "config_options", "memory_limit"), with
    `{{ env_var('NAME', 'default') }}` resolved as dbt would; None if absent or templated
    in any other way (the caller then uses its default)."""
    node: Any = _outputs()[1].get(target) or {}
    for key in keys:
        node = node.get(key) if isinstance(node, dict) else None
    if node is None or isinstance(node, dict | list):
        return None
    text = str(node)
    match = _ENV_VAR.fullmatch(text.strip())
    if match:
        return os.environ.get(match.group(1), match.group(2))
    return None if "{" in text else text


def targets() -> dict[str, str]:
    """{target name: adapter type} of the project's profile (dbt_project.yml `profile:`) in
    the profiles dir dbt uses. UsageError if the profile or a literal `type:` is missing."""
    path, outputs = _outputs()
    found: dict[str, str] = {}
    for name, output in outputs.items():
        kind = str((output or {}).get("type", ""))
        if not kind or "{" in kind:
            raise UsageError(
                f"target {name!r} in {path} needs a literal adapter `type:` (duckdb, bigquery)"
            )
        found[str(name)] = kind
    return found


def adapter_type(target: str) -> str:
    """The adapter type of `target` in the profile; UsageError naming the choices if unknown."""
    known = targets()
    if target not in known:
        raise UsageError(f"--target must be one of {', '.join(known)}, got {target!r}")
    return known[target]


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
            shown = path.relative_to(PROJECT_DIR) if path.is_relative_to(PROJECT_DIR) else path
            digest.update(f"{shown}\0".encode())
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    for name in _DBT_DISTRIBUTIONS:
        try:
            digest.update(f"{name}={metadata.version(name)}\0".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{name}=-\0".encode())
    for part in parts:
        digest.update(f"{part}\0".encode())
    return digest.hexdigest()
