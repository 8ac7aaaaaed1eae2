"""The steps of bench/bench_scale.py, each run in its own child process (so that each one's peak memory
is its own): ``build`` the database, ``sync`` the largest SEDIA recording twice, ``score`` the
strategies from scratch, ``rescore`` them after changed calls. Each returns its figures as a dict.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from pipeline.core.config import (
    DEFAULT_FUNDING_RULES,
    DEFAULT_STRATEGY,
    FocusArea,
    LoadedConfig,
    Strategy,
    load_funding_rules,
    load_strategy,
    read_yaml,
)
from pipeline.core.db import open_database
from pipeline.core.models import Application, ApplicationEvent, ApplicationPartner, Call, Idea, Mark, Partner

CHUNK = 5_000
SOURCES = (("bench_eu_ft", 0.7), ("bench_euro_access", 0.2), ("bench_feed", 0.1))
INTERREG = ("Interreg Baltic Sea Region", "Interreg North Sea", "Interreg Öresund-Kattegat-Skagerrak",
            "Interreg Germany-Denmark", "Interreg South Baltic", "BSR Innovation Express")
ACTIONS = ("HORIZON Research and Innovation Actions", "HORIZON Innovation Actions",
           "HORIZON Coordination and Support Actions", "LIFE Standard Action Projects",
           "DIGITAL Simple Grants", "Interreg regular project", "CEF Infrastructure Projects")
APP_STATUSES = (("draft", 25), ("consortium", 15), ("writing", 15), ("submitted", 15), ("granted", 10),
                ("rejected", 15), ("withdrawn", 5))
COUNTRIES = ("DK", "SE", "NO", "DE", "PL", "FI", "EE", "LT", "LV", "NL", "FR", "ES", "IT", "BE")
PARTNER_TYPES = ("sme", "large", "university", "rto", "cluster", "public")


# --- material ----------------------------------------------------------------------------------

def real_texts(samples: Path) -> list[tuple[str, str, str]]:
    """(title, description, programme) of the real EU topics and eu-grants-feed grants."""
    texts = []
    for line in (samples / "eu_ft" / "calls_2026-08-10.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        texts.append((record["title"], record["description"], record.get("programme") or ""))
    for snapshot in sorted((samples / "eu_ft").glob("eugrantsfeed_snapshot_*.json")):
        for grant in json.loads(snapshot.read_text(encoding="utf-8"))["grants"]:
            body = " ".join(str(grant.get(k) or "") for k in ("summary", "abstract", "destination"))
            texts.append((str(grant.get("title") or ""), body, str(grant.get("programme") or "")))
    return [(t, b, p) for t, b, p in texts if t and len(b) > 200]


def strategies(count: int, seed: int, evaluation: Path) -> list[Strategy]:
    """``count`` strategies of 10 focus areas each, every area mixing the keywords of two of the example
    strategy's and the relevance benchmark's focus areas (with their synonyms and excludes)."""
    example = load_strategy(DEFAULT_STRATEGY)
    pool: list[tuple[str, FocusArea]] = list(example.focus_areas.items())
    for name, area in read_yaml(evaluation / "focus_areas.yaml")["focus_areas"].items():
        pool.append((name, FocusArea(label=str(area["label"]), keywords=[str(k) for k in area["keywords"]])))
    rng = random.Random(seed)
    result = []
    for number in range(1, count + 1):
        areas: dict[str, FocusArea] = {}
        for index in range(10):
            (name_a, a), (name_b, b) = rng.sample(pool, 2)
            keywords = list(dict.fromkeys(rng.sample(a.keywords, min(len(a.keywords), rng.randint(3, 6)))
                                          + rng.sample(b.keywords, min(len(b.keywords), rng.randint(1, 4)))))
            synonyms = {k: v for k, v in {**a.synonyms, **b.synonyms}.items() if k in keywords}
            areas[f"a{index:02d}_{name_a}"] = FocusArea(
                label=f"{a.label} / {b.label}", keywords=keywords, synonyms=synonyms,
                exclude=list(a.exclude), description=a.description if rng.random() < 0.3 else "")
        result.append(example.model_copy(update={"name": f"bench-{number:02d}", "focus_areas": areas}))
    return result


def loaded(strategy: Strategy) -> LoadedConfig:
    return LoadedConfig(strategy, load_funding_rules(DEFAULT_FUNDING_RULES), DEFAULT_STRATEGY)


def write_strategy_yaml(strategy: Strategy, path: Path) -> None:
    from ruamel.yaml import YAML

    data = strategy.model_dump(mode="json", exclude_defaults=True)
    with path.open("w", encoding="utf-8") as handle:
        YAML(typ="safe", pure=True).dump(data, handle)
    load_strategy(path)  # it must validate


def _pick(rng: random.Random, weighted: tuple[tuple[str, float], ...]) -> str:
    return rng.choices([v for v, _ in weighted], weights=[w for _, w in weighted])[0]


def call_rows(count: int, rng: random.Random, now: datetime, samples: Path) -> Iterator[dict[str, Any]]:
    texts = real_texts(samples)
    sentences = [re.split(r"(?<=[.;:])\s+", body) for _, body, _ in texts]
    programmes = sorted({p for _, _, p in texts if p}) + list(INTERREG)
    for number in range(count):
        a, b = rng.randrange(len(texts)), rng.randrange(len(texts))
        cut_a = rng.randint(1, max(1, len(sentences[a]) * 2 // 3))
        cut_b = rng.randint(len(sentences[b]) // 3, len(sentences[b]))
        text = " ".join(sentences[a][:cut_a] + sentences[b][cut_b:])
        source = _pick(rng, SOURCES)
        programme = texts[a][2] if source == "bench_eu_ft" and texts[a][2] else rng.choice(programmes)
        year = 2026 + number % 3
        prefix = re.sub(r"[^A-Z]", "", programme.upper())[:8] or "CALL"
        call_ident = f"{prefix}-{year}-{number // 40:04d}"
        topic = f"{call_ident}-{number % 40:02d}"
        variant = f"{rng.choice(['round', 'cut-off', 'lot'])} {number % 9 + 1}, {year}"
        title = texts[a][0] if number < len(texts) else f"{texts[a][0]} ({variant})"
        roll = rng.random()
        if roll < 0.12:  # closed: the last deadline is past
            status, first = "closed", now - timedelta(days=rng.randint(5, 700))
        elif roll < 0.22:
            status, first = "forthcoming", now + timedelta(days=rng.randint(40, 400))
        else:
            status, first = "open", now + timedelta(days=rng.randint(1, 400))
            if rng.random() < 0.04:  # a two-stage call whose first stage is past
                first = now - timedelta(days=rng.randint(1, 60))
        first = first.replace(hour=15, minute=0, second=0, microsecond=0)
        stages = [first]
        if rng.random() < 0.2 or first < now < first + timedelta(days=61) and status == "open":
            stages.append(first + timedelta(days=rng.randint(61, 150)))
        opening = now + timedelta(days=rng.randint(5, 35)) if status == "forthcoming" \
            else first - timedelta(days=rng.randint(60, 200))
        budget = float(rng.choice([1e6, 3e6, 5e6, 12e6, 25e6, 60e6]))
        max_contribution = float(rng.choice([60e3, 500e3, 1e6, 2e6, 3e6, 5e6, 8e6, 20e6]))
        yield {"source": source, "external_id": f"{source.upper()}-{number:07d}", "programme": programme,
               "call_id": call_ident, "topic_id": topic, "title": title, "text": text,
               "url": f"https://example.org/calls/{source}/{number}", "status": status,
               "opening_date": opening, "deadline": stages[0],
               "deadlines": [{"at": s.isoformat(), "time_assumed": False} for s in stages],
               "deadline_time_assumed": False, "budget": budget,
               "expected_grants": max(1, int(budget // max_contribution)), "min_contribution": None,
               "max_contribution": max_contribution, "type_of_action": rng.choice(ACTIONS),
               "funding_rate": rng.choice([None, 0.7, 1.0, 0.8, 0.5]), "extra": {},
               "content_hash": hashlib.sha256(f"{title}\0{text}\0{number}".encode()).hexdigest(),
               "first_seen": now - timedelta(days=rng.randint(0, 300)), "last_seen": now,
               "closed_at": now if status == "closed" else None, "removed_at": None}


def _insert(conn: sa.Connection, table: Any, rows: Iterator[dict[str, Any]] | list[dict[str, Any]]) -> int:
    total, batch = 0, []
    for row in rows:
        batch.append(row)
        if len(batch) == CHUNK:
            conn.execute(sa.insert(table), batch)
            total, batch = total + len(batch), []
    if batch:
        conn.execute(sa.insert(table), batch)
        total += len(batch)
    return total


# --- steps -------------------------------------------------------------------------------------

def build(args: Any, now: datetime, workdir: Path, samples: Path, evaluation: Path,
          cli_strategy: str) -> dict[str, Any]:
    started = time.perf_counter()
    rng = random.Random(args.seed)
    engine = open_database(args.db)
    counts: dict[str, int] = {}
    text_chars = 0
    with engine.begin() as conn:
        if conn.execute(sa.select(sa.func.count()).select_from(Call)).scalar_one():
            raise SystemExit(f"{args.db} already holds calls; give an empty database")

        def calls() -> Iterator[dict[str, Any]]:
            nonlocal text_chars
            for row in call_rows(args.calls, rng, now, samples):
                text_chars += len(row["text"])
                yield row

        counts["calls"] = _insert(conn, Call.__table__, calls())
        active = [(cid, deadlines, deadline) for cid, deadlines, deadline in conn.execute(
            sa.select(Call.id, Call.deadlines, Call.deadline).where(Call.status != "closed")
            .order_by(Call.id))]
        ideas = max(1, args.applications // 5)
        counts["ideas"] = _insert(conn, Idea.__table__, (
            {"title": f"Idea {i}: {rng.choice(['pilot', 'demonstrator', 'network', 'study'])} on "
                      f"{rng.choice(['offshore wind', 'green ports', 'biorefining', 'hydrogen'])}",
             "description": "A project idea of the bench cluster.", "owner": f"user{i % 40}",
             "focus_areas": [], "target_countries": rng.sample(COUNTRIES, 3),
             "status": rng.choice(["idea", "maturing", "ready", "parked"]), "created_at": now,
             "updated_at": now} for i in range(ideas)))
        partners = max(1, args.applications // 10)
        counts["partners"] = _insert(conn, Partner.__table__, (
            {"organisation": f"{rng.choice(['Nordic', 'Baltic', 'Hanse', 'Delta', 'Polar'])} "
                             f"{rng.choice(['Energy', 'Ports', 'Bio', 'Robotics', 'Labs'])} {i}",
             "country": rng.choice(COUNTRIES), "type": rng.choice(PARTNER_TYPES), "pic": f"9{i:08d}",
             "contact": None, "competences": rng.sample(["wind", "hydrogen", "shipping", "AI", "food"], 2),
             "past_collaborations": "", "readiness": "interested", "created_at": now, "updated_at": now}
            for i in range(partners)))
        app_rows = []
        for _ in range(args.applications):
            cid, deadlines, deadline = rng.choice(active)
            seen = sorted(datetime.fromisoformat(d["at"]).astimezone(now.tzinfo).isoformat()
                          for d in deadlines)
            status = rng.choices([s for s, _ in APP_STATUSES], weights=[w for _, w in APP_STATUSES])[0]
            amount = float(rng.choice([250e3, 500e3, 1e6, 2e6]))
            app_rows.append({"idea_id": rng.randint(1, ideas), "call_id": cid, "role": "coordinator",
                             "requested_amount": amount,
                             "granted_amount": amount if status == "granted" else None, "owner": "bench",
                             "status": status, "known_deadline": deadline, "deadline_sequence": 0,
                             "seen_deadlines": seen, "deadline_flagged": False, "created_at": now,
                             "updated_at": now})
        counts["applications"] = _insert(conn, Application.__table__, app_rows)
        app_ids = list(conn.execute(sa.select(Application.id).order_by(Application.id)).scalars())
        counts["application partners"] = _insert(conn, ApplicationPartner.__table__, (
            {"application_id": app_id, "partner_id": pid, "role": "partner"}
            for app_id in app_ids
            for pid in rng.sample(range(1, partners + 1), min(partners, rng.randint(0, 4)))))
        counts["events"] = _insert(conn, ApplicationEvent.__table__, (
            {"application_id": app_id, "at": now, "by": "bench", "from_status": None, "to_status": "draft",
             "note": "created"} for app_id in app_ids))
        marked = rng.sample(active, min(len(active), 400))
        counts["marks"] = _insert(conn, Mark.__table__, (
            {"call_id": cid, "strategy": cli_strategy, "focus_area": None,
             "label": "relevant" if i % 8 else "irrelevant", "marked_by": "bench", "marked_at": now}
            for i, (cid, _, _) in enumerate(marked)))
    all_strategies = strategies(args.strategies, args.seed, evaluation)
    write_strategy_yaml(all_strategies[0], workdir / f"{cli_strategy}.yaml")
    engine.dispose()
    db_mb = 0.0
    if args.db.startswith("sqlite:///"):
        db_mb = Path(args.db.removeprefix("sqlite:///")).stat().st_size / 1e6
    rows = ", ".join(f"{n:,} {name}" for name, n in counts.items())
    return {"seconds": time.perf_counter() - started, "rows": rows, "text_mb": text_chars / 1e6,
            "db_mb": db_mb}


TABLES = ("call", "call_change", "fetch_run", "score", "verdict", "application", "application_event")


def _snapshot(engine: sa.Engine) -> tuple[dict[str, int], str]:
    with engine.connect() as conn:
        counts = {t: conn.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES}
        digest = hashlib.sha256()
        for row in conn.execute(sa.select(Call.id, Call.content_hash, Call.status, Call.last_seen,
                                          Call.closed_at, Call.removed_at).order_by(Call.id)):
            digest.update(repr(tuple(row)).encode())
    return counts, digest.hexdigest()


def sync(args: Any, now: datetime, workdir: Path, samples: Path, evaluation: Path,
         cli_strategy: str) -> dict[str, Any]:
    from bench_sync import sync as sync_recording

    folders = sorted((samples / "eu_ft").glob("search_*"))
    sizes = {f: sum(len(json.loads(p.read_bytes())["results"]) for p in f.glob("page_*.json"))
             for f in folders}
    largest = max(folders, key=lambda f: (sizes[f], f.name))
    pages = sorted(largest.glob("page_*.json"))
    baseline = min(_timed(lambda: [json.loads(p.read_bytes()) for p in pages]) for _ in range(3))
    first_started = time.perf_counter()
    first = sync_recording(args.db, largest)
    first_seconds = time.perf_counter() - first_started
    engine = open_database(args.db)
    before, digest_before = _snapshot(engine)
    second_started = time.perf_counter()
    second = sync_recording(args.db, largest)
    second_seconds = time.perf_counter() - second_started
    after, digest_after = _snapshot(engine)
    engine.dispose()
    expected = dict(before, fetch_run=before["fetch_run"] + 1)

    def summary(result: Any) -> str:
        return (f"seen {result.seen}, new {result.new}, changed {result.changed}, "
                f"unchanged {result.unchanged}, closed {result.closed}")

    return {"recording": largest.name, "results": sizes[largest], "pages": len(pages),
            "json_baseline": baseline, "first": first_seconds, "second": second_seconds,
            "first_result": summary(first), "second_result": summary(second),
            "rows_before": before, "rows_after": after, "content_same": digest_before == digest_after,
            "wrote_nothing": after == expected and digest_before == digest_after
            and second.new == second.changed == second.closed == 0}


def _timed(run: Any) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def score(args: Any, now: datetime, workdir: Path, samples: Path, evaluation: Path,
          cli_strategy: str) -> dict[str, Any]:
    from classifiers.corpus import Corpus
    from classifiers.scoring import score_pending
    from pipeline.core.models import Score

    chosen = strategies(args.strategies, args.seed, evaluation)[: args.score_strategies]
    engine = open_database(args.db)
    per_strategy, total_calls = [], 0
    corpus = Corpus()  # as `fundradar score --all` over a folder: texts read and corpus fitted once
    cpu = time.process_time()
    for strategy in chosen:
        started = time.perf_counter()
        result = score_pending(engine, loaded(strategy), now, full=True, corpus=corpus)
        per_strategy.append(time.perf_counter() - started)
        total_calls = result.total_calls
        print(f"scored {strategy.name} from scratch in {per_strategy[-1]:.1f} s ({result.reason})",
              file=sys.stderr, flush=True)
    with engine.connect() as conn:
        rows = conn.execute(sa.select(sa.func.count()).select_from(Score)).scalar_one()
    engine.dispose()
    return {"seconds": sum(per_strategy), "cpu": time.process_time() - cpu, "per_strategy": per_strategy,
            "calls": total_calls, "score_rows": rows}


def rescore(args: Any, now: datetime, workdir: Path, samples: Path, evaluation: Path,
            cli_strategy: str) -> dict[str, Any]:
    from classifiers.scoring import score_strategies

    chosen = strategies(args.strategies, args.seed, evaluation)[: args.score_strategies]
    engine = open_database(args.db)
    rng = random.Random(args.seed + 1)
    with engine.begin() as conn:
        ids = list(conn.execute(sa.select(Call.id).where(Call.source.like("bench%"))).scalars())
        suffix = " Updated: the budget and the expected outcomes were revised."
        for call_id in rng.sample(ids, min(args.changed, len(ids))):
            # as a sync writes a changed call: new text and a new content hash
            conn.execute(sa.update(Call).where(Call.id == call_id).values(
                text=Call.text + suffix,
                content_hash=sa.func.substr(Call.content_hash, 1, 56).concat("changed!")))
    configs = [loaded(strategy) for strategy in chosen]
    started, cpu = time.perf_counter(), time.process_time()
    results = score_strategies(engine, configs, now)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    started, cpu = time.perf_counter(), time.process_time()
    hour = score_strategies(engine, configs, now + timedelta(hours=1))  # up to date, few verdicts move
    soon, soon_cpu = time.perf_counter() - started, time.process_time() - cpu
    started, cpu = time.perf_counter(), time.process_time()
    again = score_strategies(engine, configs, now + timedelta(days=1))  # up to date; every verdict moves
    idle, idle_cpu = time.perf_counter() - started, time.process_time() - cpu
    engine.dispose()
    assert all(r.reason == "up to date" for r in hour + again), [r.reason for r in hour + again]
    return {"seconds": seconds, "cpu": cpu_seconds, "scored": results[0].scored_calls,
            "refitted": any(r.refitted for r in results), "up_to_date": idle, "up_to_date_cpu": idle_cpu,
            "hour_later": soon, "hour_later_cpu": soon_cpu}


STEPS = {"build": build, "sync": sync, "score": score, "rescore": rescore}


def run(step: str, args: Any, now: datetime, workdir: Path, samples: Path, evaluation: Path,
        cli_strategy: str) -> dict[str, Any]:
    return STEPS[step](args, now, workdir, samples, evaluation, cli_strategy)
