"""The contract files agree with the dbt project, which is the source of truth.

- contract/player_game_summary.yml lists the mart's columns in the order, and with the types,
  of the model YAML (models/marts/_marts__models.yml, whose contract dbt enforces), and the same
  key as the mart's uniqueness test.
- contract/raw_tables.yml lists the tables of the `nba_raw` source
  (models/staging/nba_raw/_nba_raw__sources.yml), and every column that YAML names.

A mismatch fails with a diff that says which file to change. Plain YAML reads: no dbt.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import yaml

from driver.project import PROJECT_DIR

REPO = PROJECT_DIR
OUTPUT_CONTRACT = REPO / "contract" / "player_game_summary.yml"
RAW_CONTRACT = REPO / "contract" / "raw_tables.yml"
MART_YAML = REPO / "models" / "marts" / "_marts__models.yml"
SOURCES_YAML = REPO / "models" / "staging" / "nba_raw" / "_nba_raw__sources.yml"
MART = "player_game_summary"
# The mart's tests sit on its audit model (write-audit-publish: they gate the publish).
AUDIT = "player_game_summary__audit"
MART_KEY_TEST = "pgs_unique_game_player"

# dbt data_type in the model YAML (BigQuery spelling) -> contract type.
CONTRACT_TYPE = {
    "string": "STRING",
    "int64": "INT64",
    "float64": "FLOAT64",
    "bool": "BOOL",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "numeric": "NUMERIC",
}


def _load(path: Path) -> dict[str, Any]:
    with open(path) as fh:
        data = yaml.safe_load(fh)
    assert isinstance(data, dict), f"{path.relative_to(REPO)} is not a YAML mapping"
    return data


def _mart_model(name: str = MART) -> dict[str, Any]:
    models = [m for m in _load(MART_YAML).get("models", []) if m.get("name") == name]
    assert len(models) == 1, f"{MART_YAML.relative_to(REPO)} must define model {name} once"
    return dict(models[0])


def _contract_type(data_type: str) -> str:
    base = data_type.strip().lower().split("(")[0].strip()
    assert base in CONTRACT_TYPE, (
        f"data_type {data_type!r} in {MART_YAML.relative_to(REPO)} has no contract type: "
        f"add it to CONTRACT_TYPE in {Path(__file__).name}"
    )
    return CONTRACT_TYPE[base]


def _diff(expected: list[str], actual: list[str], expected_name: str, actual_name: str) -> str:
    return "\n".join(
        difflib.unified_diff(expected, actual, expected_name, actual_name, lineterm="", n=2)
    )


def test_output_contract_lists_the_model_columns_in_order_with_their_types() -> None:
    model_columns = [
        f"{c['name']}: {_contract_type(str(c['data_type']))}" for c in _mart_model()["columns"]
    ]
    contract_columns = [
        f"{name}: {str(kind).upper()}" for name, kind in _load(OUTPUT_CONTRACT)["columns"].items()
    ]
    assert contract_columns == model_columns, (
        f"{OUTPUT_CONTRACT.relative_to(REPO)} differs from the model YAML (the source of truth); "
        "make the contract say what the model says:\n"
        + _diff(
            model_columns,
            contract_columns,
            str(MART_YAML.relative_to(REPO)),
            str(OUTPUT_CONTRACT.relative_to(REPO)),
        )
    )


def test_output_contract_key_is_the_mart_uniqueness_test() -> None:
    tests = [
        t["unique_combination_of_columns"]
        for t in _mart_model(AUDIT)["data_tests"]
        if isinstance(t, dict)
        and isinstance(t.get("unique_combination_of_columns"), dict)
        and t["unique_combination_of_columns"].get("name") == MART_KEY_TEST
    ]
    assert len(tests) == 1, f"{MART_YAML.relative_to(REPO)} has no test {MART_KEY_TEST}"
    key = list(tests[0]["arguments"]["combination_of_columns"])
    assert _load(OUTPUT_CONTRACT)["key"] == key, (
        f"key in {OUTPUT_CONTRACT.relative_to(REPO)} must be {key} ({MART_KEY_TEST})"
    )


def test_mart_contract_is_enforced() -> None:
    assert _mart_model()["config"]["contract"]["enforced"] is True


def test_raw_contract_and_sources_name_the_same_tables_and_columns() -> None:
    contract_tables = _load(RAW_CONTRACT)["tables"]
    sources = [s for s in _load(SOURCES_YAML)["sources"] if s["name"] == "nba_raw"]
    assert len(sources) == 1, f"{SOURCES_YAML.relative_to(REPO)} must define source nba_raw once"
    source_tables = {t["name"]: t for t in sources[0]["tables"]}
    assert sorted(source_tables) == sorted(contract_tables), (
        f"tables differ between {SOURCES_YAML.relative_to(REPO)} and "
        f"{RAW_CONTRACT.relative_to(REPO)}:\n"
        + _diff(
            sorted(contract_tables),
            sorted(source_tables),
            str(RAW_CONTRACT.relative_to(REPO)),
            str(SOURCES_YAML.relative_to(REPO)),
        )
    )
    unknown = [
        f"{table}.{column['name']}"
        for table, spec in source_tables.items()
        for column in spec.get("columns", [])
        if column["name"] not in contract_tables[table]["columns"]
    ]
    assert not unknown, (
        f"{SOURCES_YAML.relative_to(REPO)} names columns that {RAW_CONTRACT.relative_to(REPO)} "
        f"does not have: {unknown}"
    )
