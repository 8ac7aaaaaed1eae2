"""The validated-config cache (pipeline.core.config_cache): a file read from it validates to the same
models as parsing it, anything that is not plain or not valid is never cached, and errors read the same
with or without an entry."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from pipeline.core import config_cache
from pipeline.core.config import (
    DEFAULT_FUNDING_RULES,
    DEFAULT_STRATEGY,
    FundingRulesFile,
    Strategy,
    load_config,
    parse_yaml_text,
    validate_yaml,
)
from pipeline.core.errors import ConfigError

FOLDER = Path(__file__).resolve().parent / "fixtures" / "strategies"


@pytest.mark.parametrize(("path", "model"), [(DEFAULT_STRATEGY, Strategy),
                                             (DEFAULT_FUNDING_RULES, FundingRulesFile)])
def test_a_cached_file_validates_to_the_same_models(tmp_path: Path, path: Path, model: type) -> None:
    text = path.read_text(encoding="utf-8")
    parsed = validate_yaml(parse_yaml_text(text, str(path)), model, str(path))
    assert config_cache.cached(text, model, tmp_path) is None
    config_cache.store(text, model, parse_yaml_text(text, str(path)), tmp_path)
    from_cache = config_cache.cached(text, model, tmp_path)
    assert from_cache == parsed
    assert from_cache.model_dump(mode="json") == parsed.model_dump(mode="json")


def test_block_text_and_hex_numbers_are_plain_values_dates_are_not(tmp_path: Path) -> None:
    tree = parse_yaml_text("a: |\n  two\n  lines\nb: 0x1F\nc: 1.5\nd: [yes, null]\n", "x")
    assert config_cache.plain(tree) == {"a": "two\nlines\n", "b": 31, "c": 1.5, "d": ["yes", None]}
    assert [type(v) for v in config_cache.plain(tree).values()] == [str, int, float, list]
    dated = parse_yaml_text("when: 2026-09-30\n", "x")
    with pytest.raises(config_cache._NotPlain):
        config_cache.plain(dated)
    config_cache.store("when: 2026-09-30\n", Strategy, dated, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_damaged_entry_is_ignored(tmp_path: Path) -> None:
    text = DEFAULT_FUNDING_RULES.read_text(encoding="utf-8")
    config_cache.store(text, FundingRulesFile, parse_yaml_text(text, "x"), tmp_path)
    entry = config_cache.entry_path(text, FundingRulesFile, tmp_path)
    entry.write_text(entry.read_text()[:100])
    assert config_cache.cached(text, FundingRulesFile, tmp_path) is None
    entry.write_text('{"programmes": "not a mapping"}')
    assert config_cache.cached(text, FundingRulesFile, tmp_path) is None


def test_another_text_or_model_is_another_entry(tmp_path: Path) -> None:
    names = {config_cache.entry_path("a: 1\n", Strategy, tmp_path),
             config_cache.entry_path("a: 2\n", Strategy, tmp_path),
             config_cache.entry_path("a: 1\n", FundingRulesFile, tmp_path)}
    assert len(names) == 3


def test_an_error_between_files_keeps_its_line_when_the_files_are_cached(tmp_path: Path) -> None:
    folder = tmp_path / "strategies"
    shutil.copytree(FOLDER, folder)
    green = folder / "greentech.yaml"
    green.write_text(green.read_text().replace('{cron: "0 5 * * *"}', '{cron: "0 6 * * *"}'))
    messages = []
    for _ in range(2):  # the first load caches both files (each is valid alone), the second reads them
        with pytest.raises(ConfigError) as err:
            load_config(folder)
        messages.append(str(err.value))
    assert messages[0] == messages[1]
    assert messages[0].startswith(f"{green}:")
    assert load_config(FOLDER).names == load_config(FOLDER).names == ["foodbio-dk", "greentech-dk"]


def test_only_the_newest_entries_are_kept(tmp_path: Path) -> None:
    for number in range(config_cache.KEEP + 5):
        config_cache.store(f"a: {number}\n", Strategy, {"a": number}, tmp_path)
    kept = sorted(tmp_path.iterdir())
    assert len(kept) == config_cache.KEEP
    assert config_cache.entry_path(f"a: {config_cache.KEEP + 4}\n", Strategy, tmp_path) in kept


def test_the_queries_identity_is_the_analysed_one_computed_or_remembered(tmp_path: Path) -> None:
    """config_queries_hash (what the read commands compare with the stored scoring) is queries_hash of
    the analysed focus areas, the first time computed, then read from data/cache/queries."""
    import uuid

    from classifiers.freshness import config_queries_hash, queries_hash, strategy_queries
    from pipeline.core.config import load_config

    def edited(config: Any, **change: Any) -> Any:
        name, area = next(iter(config.strategy.focus_areas.items()))
        areas = {**config.strategy.focus_areas, name: area.model_copy(update=change)}
        return replace(config, strategy=config.strategy.model_copy(update={"focus_areas": areas}))

    base = load_config()
    label = next(iter(base.strategy.focus_areas.values())).label
    config = edited(base, label=f"{label} {uuid.uuid4().hex}")  # never analysed before: a new entry
    expected = queries_hash(strategy_queries(config), "marks")
    assert expected != queries_hash(strategy_queries(base), "marks")
    assert config_queries_hash(config, "marks") == expected  # computed and kept
    assert config_queries_hash(config, "marks") == expected  # read back
    assert config_queries_hash(config, "other") == queries_hash(strategy_queries(config), "other")
    keywords = next(iter(config.strategy.focus_areas.values())).keywords
    more = edited(config, keywords=[*keywords, "seaweed farming"])
    assert config_queries_hash(more, "marks") == queries_hash(strategy_queries(more), "marks") != expected


def test_the_analysis_fingerprint_names_its_code(tmp_path: Path) -> None:
    from classifiers.freshness import ANALYSIS_CODE, analysis_fingerprint

    copies = []
    for path in ANALYSIS_CODE:
        copy = tmp_path / path.name
        copy.write_bytes(path.read_bytes())
        copies.append(copy)
    before = analysis_fingerprint(copies)
    assert before is not None and before == analysis_fingerprint(ANALYSIS_CODE)
    copies[0].write_text(copies[0].read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert analysis_fingerprint(copies) != before


def test_the_cache_lives_in_the_folder_fundradar_cache_names(tmp_path: Path, monkeypatch) -> None:
    """A read-only or shared checkout (and this test suite) keeps the cache elsewhere: nothing is
    written under the checkout's data/."""
    import uuid

    from pipeline.core.paths import DATA_DIR

    elsewhere = tmp_path / "cache"
    monkeypatch.setenv("FUNDRADAR_CACHE", str(elsewhere))
    text = f"# {uuid.uuid4().hex}\n" + DEFAULT_STRATEGY.read_text(encoding="utf-8")  # never cached before
    path = tmp_path / "strategy.yaml"
    path.write_text(text, encoding="utf-8")
    load_config(path)
    entry = config_cache.entry_path(text, Strategy, elsewhere / "config")
    assert entry.is_file()
    assert not (DATA_DIR / "cache" / "config" / entry.name).exists()
    assert load_config(path).strategy == load_config(DEFAULT_STRATEGY).strategy  # read back from there
