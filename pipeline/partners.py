"""Partners: validation, CSV import (all or nothing), suggestions and consortium rule checks (library).

A partner is an organisation we may apply with: country (ISO code), type (sme, large, university,
rto, cluster, public — readable aliases such as "research institute" or "municipality" are accepted),
PIC (the EU Participant Identification Code: nine digits, unique), contact, competences, past
collaborations and readiness (unknown, interested, committed).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from classifiers.funding import FundingRules
from pipeline.core.errors import BadRowsError, NotFoundError, ValidationError
from pipeline.core.inputs import country_code, name_line, parse_id, split_list
from pipeline.core.models import Call, Idea, Partner

PARTNER_TYPES = ("sme", "large", "university", "rto", "cluster", "public")
READINESS = ("unknown", "interested", "committed")
_TYPE_ALIASES = {
    "sme": "sme", "small and medium-sized enterprise": "sme", "small company": "sme", "startup": "sme",
    "start-up": "sme", "small business": "sme",
    "large": "large", "large company": "large", "large enterprise": "large", "corporate": "large",
    "industry": "large",
    "university": "university", "uni": "university", "higher education": "university", "hei": "university",
    "academia": "university",
    "rto": "rto", "research and technology organisation": "rto",
    "research and technology organization": "rto",
    "research institute": "rto", "research organisation": "rto", "research organization": "rto",
    "cluster": "cluster", "cluster organisation": "cluster", "cluster organization": "cluster",
    "network": "cluster",
    "public": "public", "public body": "public", "public authority": "public", "municipality": "public",
    "region": "public", "authority": "public", "government": "public", "agency": "public",
}
CSV_COLUMNS = ("organisation", "country", "type", "pic", "contact", "competences",
               "past_collaborations", "readiness")
_REQUIRED_COLUMNS = ("organisation", "country", "type")


# longest cell a partner CSV may hold, by column: free text may be long, the rest are short values
_CELL_LIMITS = {"competences": 10_000, "past_collaborations": 10_000}
_SHORT_CELL = 300


def _quoted(text: str, limit: int = 60) -> str:
    """``repr`` of what was typed, cut to ``limit`` characters, for one-line messages."""
    shown = repr(text.strip())
    return shown if len(shown) <= limit else shown[:limit - 3] + "..."


def _clip(text: str, limit: int = 20) -> str:
    """A value that can only be valid when short (a country code), cut so its error message stays short."""
    text = text.strip()
    return text if len(text) <= limit else text[:limit] + "…"


def partner_type(text: str) -> str:
    key = " ".join(text.strip().lower().replace("_", " ").split())
    found = _TYPE_ALIASES.get(key) or _TYPE_ALIASES.get(key.rstrip("s"))
    if found is None:
        raise ValidationError(f"unknown partner type {_quoted(text)}; use one of "
                              f"{', '.join(PARTNER_TYPES)} (or e.g. 'research institute', 'public body')")
    return found


def pic_number(text: str) -> str:
    """The PIC with spaces removed; exactly nine digits."""
    value = re.sub(r"[\s.-]", "", text)
    if not re.fullmatch(r"\d{9}", value):
        raise ValidationError(f"PIC {_quoted(text)} is not valid; a PIC is exactly nine digits, "
                              "e.g. 999912345 (see the EU Funding & Tenders portal)")
    return value


def readiness_value(text: str) -> str:
    value = text.strip().lower()
    if value not in READINESS:
        raise ValidationError(f"unknown readiness {_quoted(text)}; use one of {', '.join(READINESS)}")
    return value


def _organisation(text: str) -> str:
    name = name_line(text, "the organisation name")
    if not name:
        raise ValidationError("a partner needs an organisation name")
    return name


def _check_pic_free(session: Session, pic: str | None, own_id: int | None = None) -> None:
    if pic is None:
        return
    other = session.exec(select(Partner).where(Partner.pic == pic)).first()
    if other is not None and other.id != own_id:
        raise ValidationError(f"PIC {pic} already belongs to partner #{other.id} ({other.organisation}); "
                              "a PIC names one organisation: check it, or see "
                              f"`fundradar partners show {other.id}`")


@dataclass
class PartnerInput:
    """A partner as typed or read from a CSV row, before validation."""

    organisation: str
    country: str
    type: str
    pic: str | None = None
    contact: str | None = None
    competences: Sequence[str] = ()
    past_collaborations: str = ""
    readiness: str = "unknown"

    def checked(self) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        """The validated values and the problems as (field, message), every field checked."""
        checks: dict[str, Callable[[], Any]] = {
            "organisation": lambda: _organisation(self.organisation),
            "country": lambda: country_code(_clip(self.country)),
            "type": lambda: partner_type(self.type),
            "pic": lambda: pic_number(self.pic) if self.pic and self.pic.strip() else None,
            "contact": lambda: (self.contact or "").strip() or None,
            "competences": lambda: split_list(self.competences),
            "past_collaborations": lambda: self.past_collaborations.strip(),
            "readiness": lambda: readiness_value(self.readiness or "unknown")}
        values: dict[str, Any] = {}
        problems: list[tuple[str, str]] = []
        for name, check in checks.items():
            try:
                values[name] = check()
            except ValidationError as exc:
                problems.append((name, str(exc)))
        return values, problems

    def validated(self) -> dict[str, Any]:
        values, problems = self.checked()
        if problems:
            raise ValidationError(problems[0][1])
        return values


def create_partner(session: Session, data: PartnerInput, now: datetime) -> Partner:
    values = data.validated()
    _check_pic_free(session, values["pic"])
    partner = Partner(**values, created_at=now, updated_at=now)
    session.add(partner)
    session.flush()
    return partner


def get_partner(session: Session, partner_id: str | int) -> Partner:
    key = parse_id(partner_id, "partner")
    partner = session.get(Partner, key)
    if partner is None:
        raise NotFoundError(f"no partner with id {key}; see `fundradar partners list`")
    return partner


def update_partner(session: Session, partner_id: str | int, now: datetime, **fields: Any) -> Partner:
    """Change the given fields (None = keep); validated before anything is set."""
    partner = get_partner(session, partner_id)
    checks = {"organisation": _organisation, "country": country_code, "type": partner_type,
              "pic": lambda v: pic_number(v) if v.strip() else None,
              "contact": lambda v: v.strip() or None, "competences": split_list,
              "past_collaborations": lambda v: v.strip(), "readiness": readiness_value}
    changes = {name: checks[name](value) for name, value in fields.items() if value is not None}
    if not changes:
        raise ValidationError("nothing to change; give at least one option such as --readiness committed")
    if "pic" in changes:
        _check_pic_free(session, changes["pic"], partner.id)
    for name, value in changes.items():
        setattr(partner, name, value)
    partner.updated_at = now
    session.add(partner)
    return partner


def list_partners(session: Session, *, country: str | None = None, type_: str | None = None,
                  competence: str | None = None) -> list[Partner]:
    query = select(Partner).order_by(Partner.id)
    if country:
        query = query.where(Partner.country == country_code(country))
    if type_:
        query = query.where(Partner.type == partner_type(type_))
    partners = list(session.exec(query))
    if competence:
        needle = competence.casefold()
        partners = [p for p in partners if any(needle in c.casefold() for c in p.competences or [])]
    return partners


def partner_dict(partner: Partner) -> dict[str, Any]:
    return {"id": partner.id, "organisation": partner.organisation, "country": partner.country,
            "type": partner.type, "pic": partner.pic, "contact": partner.contact,
            "competences": list(partner.competences or []),
            "past_collaborations": partner.past_collaborations, "readiness": partner.readiness,
            "created_at": partner.created_at, "updated_at": partner.updated_at}


# --- CSV import ----------------------------------------------------------------------------------

def _problem(name: str, line: int, field: str | None, message: str) -> str:
    """``partners.csv:4: country: 'Dnmark' is not …``: the field named once (a message that starts
    with it, "country 'Dnmark' …", loses that word)."""
    if field is None:
        return f"{name}:{line}: {message}"
    if message.casefold().startswith(field.casefold() + " "):
        message = message[len(field) + 1:]
    return f"{name}:{line}: {field}: {message}"


def read_partner_csv(text: str, name: str) -> list[tuple[int, PartnerInput]]:
    """Rows of a partner CSV (comma or semicolon separated, header first) with their line numbers;
    BadRowsError names every row that cannot be read.

    Competences in one cell are separated by ``;`` (or ``|`` in a semicolon-separated file)."""
    rows, problems = _parse_csv(text, name)
    if problems:
        raise _bad_rows(name, problems)
    return rows


def _parse_csv(text: str, name: str) -> tuple[list[tuple[int, PartnerInput]], list[tuple[int, str]]]:
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise ValidationError(f"{name}: the file is empty; the first line must be a header with "
                              f"{', '.join(CSV_COLUMNS)}")
    try:
        return _read_rows(text, name)
    except csv.Error as exc:  # e.g. a cell longer than the csv module's field limit
        raise ValidationError(f"{name}: cannot be read as CSV ({' '.join(str(exc).split())}); check "
                              "that it is the partner list and that quotes are closed") from None


_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def _read_rows(text: str, name: str) -> tuple[list[tuple[int, PartnerInput]], list[tuple[int, str]]]:
    """The readable rows, and (line, problem) of each row that is not: too many cells, a cell too long.
    A bad header raises at once: no row can be read without it."""
    first_line = text.splitlines()[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [(h or "").strip().lower() for h in reader.fieldnames or []]
    unknown = [h for h in header if h not in CSV_COLUMNS]
    if unknown:
        raise ValidationError(f"{name}:1: unknown column {_quoted(unknown[0])}; the columns are "
                              f"{', '.join(CSV_COLUMNS)}")
    missing = [c for c in _REQUIRED_COLUMNS if c not in header]
    if missing:
        raise ValidationError(f"{name}:1: column {missing[0]!r} is missing; the header needs at "
                              f"least {', '.join(_REQUIRED_COLUMNS)}")
    reader.fieldnames = header
    list_separator = "|" if delimiter == ";" else ";"
    rows = []
    problems: list[tuple[int, str]] = []
    for raw in reader:
        # the line the row starts on: reader.line_num is where it ended, after any line break in a cell
        values = [v for v in raw.values() if isinstance(v, str)] + list(raw.get(None) or [])
        line = reader.line_num - sum(len(_LINE_BREAK.findall(v)) for v in values)
        if None in raw:
            problems.append((line, _problem(name, line, None, "more cells than columns; quote cells that "
                                            f"contain {delimiter!r}")))
            continue
        cells = {k: (v or "").strip() for k, v in raw.items()}
        if not any(cells.values()):
            continue
        limits = {column: _CELL_LIMITS.get(column, _SHORT_CELL) for column in cells}
        too_long = [(column, len(value), limits[column]) for column, value in cells.items()
                    if len(value) > limits[column]]
        for column, length, limit in too_long:
            problems.append((line, _problem(name, line, column, f"the cell is {length:,} characters long, "
                                            f"more than {limit:,}; check the quoting or shorten it")))
        # PostgreSQL cannot store a NUL byte in text; it is never a partner's data either, so the row is
        # refused on every backend alike
        with_nul = [column for column, value in cells.items() if "\x00" in value]
        for column in with_nul:
            problems.append((line, _problem(name, line, column, "the cell contains a NUL byte (\\x00), which "
                                            "is no text; remove it or export the list again as a UTF-8 CSV")))
        if too_long or with_nul:
            continue
        rows.append((line, PartnerInput(
            organisation=cells.get("organisation", ""), country=cells.get("country", ""),
            type=cells.get("type", ""), pic=cells.get("pic") or None, contact=cells.get("contact"),
            competences=[c for c in cells.get("competences", "").split(list_separator)],
            past_collaborations=cells.get("past_collaborations", ""),
            readiness=cells.get("readiness") or "unknown")))
    return rows, problems


MAX_LISTED_PROBLEMS = 100  # a wholly wrong file is summed up, not printed line by line


def _bad_rows(name: str, problems: Sequence[tuple[int, str]]) -> BadRowsError:
    ordered = [text for _, text in sorted(problems, key=lambda p: p[0])]
    listed = ordered[:MAX_LISTED_PROBLEMS]
    if len(ordered) > len(listed):
        listed.append(f"{name}: … and {len(ordered) - len(listed):,} more problems")
    bad = len({line for line, _ in problems})
    return BadRowsError(f"{name}: {bad:,} bad row{'s' if bad != 1 else ''}; nothing was imported; fix "
                        f"{'them' if bad != 1 else 'it'} and import the file again", listed)


MAX_CSV_BYTES = 10_000_000


def _read_csv_file(path: Path) -> str:
    """The text of a regular file of at most MAX_CSV_BYTES: a folder, a device such as /dev/zero or a
    huge file is refused before it is read."""
    try:
        if not path.is_file():
            if path.exists():
                raise ValidationError(f"{path}: not a regular file; give the path of the partner CSV")
            raise ValidationError(f"{path}: file not found; check the path of the partner CSV")
        with path.open("rb") as handle:
            data = handle.read(MAX_CSV_BYTES + 1)
    except OSError as exc:
        raise ValidationError(f"{path}: cannot be read ({exc.strerror or exc}); check the path") from None
    if len(data) > MAX_CSV_BYTES:
        raise ValidationError(f"{path}: larger than {MAX_CSV_BYTES // 1_000_000} MB; is it the partner list?")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError(f"{path}: not UTF-8 text; save the CSV as UTF-8") from None


def _same_partner_key(values: dict[str, Any]) -> tuple[Any, ...]:
    """What makes two partners without a PIC the same: organisation (case-insensitive), country, type."""
    return values["organisation"].casefold(), values["country"], values["type"]


def import_partners(session: Session, path: Path, now: datetime,
                    skipped: list[int] | None = None) -> list[Partner]:
    """Import every row or none: every bad row is checked and reported in one BadRowsError (one
    ``file:line: field: problem`` each), and nothing is added.

    A row without a PIC that repeats a partner without a PIC (same organisation, country and type), in
    the file or already stored, is skipped, and so is a row whose PIC a stored partner of the same
    organisation, country and type has: importing the same file twice adds nothing. The line numbers
    of those rows are appended to ``skipped`` when given, for telling whoever imports. A PIC stored for
    another organisation stays a bad row."""
    text = _read_csv_file(path)
    name = str(path)
    rows, problems = _parse_csv(text, name)
    pics: dict[str, int] = {}
    known = {_same_partner_key(p.model_dump()) for p in session.exec(select(Partner).where(
        Partner.pic == None))}  # noqa: E711  (SQL IS NULL)
    stored_pics = {p.pic: _same_partner_key(p.model_dump()) for p in session.exec(select(Partner).where(
        Partner.pic != None))}  # noqa: E711  (SQL IS NOT NULL)
    new: list[dict[str, Any]] = []
    for line, row in rows:
        values, row_problems = row.checked()
        pic = values.get("pic")
        stored = (pic in stored_pics and {"organisation", "country", "type"} <= values.keys()
                  and stored_pics[pic] == _same_partner_key(values))
        if pic is not None:
            if pic in pics:
                row_problems.append(("pic", f"{pic} is also on line {pics[pic]}"))
            else:
                pics[pic] = line
                if not stored:
                    try:
                        _check_pic_free(session, pic)
                    except ValidationError as exc:
                        row_problems.append(("pic", str(exc)))
        problems += [(line, _problem(name, line, field, message)) for field, message in row_problems]
        if row_problems:
            continue
        if stored:  # that very partner, stored by an earlier import
            if skipped is not None:
                skipped.append(line)
            continue
        if pic is None:
            if _same_partner_key(values) in known:
                if skipped is not None:
                    skipped.append(line)
                continue
            known.add(_same_partner_key(values))
        new.append(values)
    if problems:
        raise _bad_rows(name, problems)
    added = [Partner(**values, created_at=now, updated_at=now) for values in new]
    session.add_all(added)
    session.flush()
    return added


# --- suggestions and consortium rules -----------------------------------------------------------

def _mentions(text: str, phrase: str) -> bool:
    pattern = r"\b" + r"\s+".join(re.escape(w) for w in phrase.casefold().split()) + r"(?:s|es)?\b"
    return re.search(pattern, text) is not None


@dataclass
class PartnerSuggestion:
    partner: Partner
    matched: list[str]  # competences found in the idea's or call's text
    adds_country: bool  # brings a country the consortium does not have yet
    score: float

    def as_dict(self) -> dict[str, Any]:
        p = self.partner
        return {"id": p.id, "organisation": p.organisation, "country": p.country, "type": p.type,
                "readiness": p.readiness, "matched": self.matched, "adds_country": self.adds_country,
                "score": round(self.score, 2)}


@dataclass
class SuggestionResult:
    target: str  # "idea #3" or "call #12"
    suggestions: list[PartnerSuggestion]
    warnings: list[str] = field(default_factory=list)


_READINESS_BONUS = {"committed": 0.5, "interested": 0.25, "unknown": 0.0}


def suggest_partners(partners: Iterable[Partner], text: str, *, countries: Sequence[str] = (),
                     have_countries: Sequence[str] = (), top: int = 5) -> list[PartnerSuggestion]:
    """Rank partners by competences found in ``text`` (one point each), a new country among
    ``countries`` (the targets; any new country when empty) and readiness; picked greedily so each
    pick is scored against the countries already covered (``have_countries`` + earlier picks)."""
    haystack = " ".join(text.casefold().split())
    pool = [(p, [c for c in p.competences or [] if _mentions(haystack, c)]) for p in partners]
    pool = [(p, m) for p, m in pool if m]
    covered = set(have_countries)
    chosen: list[PartnerSuggestion] = []
    while pool and len(chosen) < top:
        def score(item: tuple[Partner, list[str]]) -> tuple[float, int]:
            partner, matched = item
            new = partner.country not in covered and (not countries or partner.country in countries)
            return len(matched) + (1.0 if new else 0.0) + _READINESS_BONUS.get(partner.readiness, 0), \
                -(partner.id or 0)
        best = max(pool, key=score)
        pool.remove(best)
        partner, matched = best
        adds = partner.country not in covered
        chosen.append(PartnerSuggestion(partner, matched, adds, score(best)[0]))
        covered.add(partner.country)
    return chosen


def _count(number: int, singular: str, plural: str) -> str:
    return f"{number} {singular if number == 1 else plural}"


def consortium_warnings(call: Call, funding: FundingRules, members: Sequence[tuple[str, str]]) -> list[str]:
    """What a consortium misses of the call's known rules: minimum entities and countries, one member in
    a country group (Horizon Europe: an EU Member State), and eligible countries.

    ``members`` are ``(name, country)`` of the independent legal entities that count: our organisation
    and the beneficiary partners (coordinator, partner), not associated partners or subcontractors."""
    info = funding.lookup(call.programme, call.topic_id, call.type_of_action)
    warnings = []
    rule = info.consortium
    needs = " ".join(x for x in (info.label, info.consortium_action_type) if x)
    if rule is not None:
        countries = {country for _, country in members}
        if len(members) < rule.min_partners or len(countries) < rule.min_countries:
            has = (f"{_count(len(members), 'entity', 'entities')} from "
                   f"{_count(len(countries), 'country', 'countries')}")
            warnings.append(f"the consortium has {has}; {needs} needs ≥ {rule.min_partners} from "
                            f"{_count(rule.min_countries, 'country', 'countries')} ({rule.source})")
        group = info.one_from
        if group is not None and not countries & set(group.countries):
            warnings.append(f"the consortium has no entity in {group.label}; {needs} needs at least one "
                            f"({rule.source})")
    if info.eligible_countries:
        outside = [f"{name} ({country})" for name, country in members
                   if country not in info.eligible_countries]
        if outside:
            warnings.append(f"not in the {info.label} programme area: {', '.join(outside)}")
    return warnings


def suggest_for_idea(session: Session, idea: Idea, strategy_keywords: Sequence[str], *,
                     home_country: str, top: int = 5) -> SuggestionResult:
    text = " ".join([idea.title, idea.description, *strategy_keywords])
    found = suggest_partners(session.exec(select(Partner)), text, countries=idea.target_countries or [],
                             have_countries=[home_country], top=top)
    return SuggestionResult(f"idea #{idea.id}", found)


def suggest_for_call(session: Session, call: Call, funding: FundingRules, *, organisation: str,
                     home_country: str, top: int = 5) -> SuggestionResult:
    info = funding.lookup(call.programme, call.topic_id, call.type_of_action)
    partners = [p for p in session.exec(select(Partner))
                if not info.eligible_countries or p.country in info.eligible_countries]
    found = suggest_partners(partners, f"{call.title} {call.text}", countries=info.eligible_countries,
                             have_countries=[home_country], top=top)
    members = [(organisation, home_country)] + [(s.partner.organisation, s.partner.country) for s in found]
    return SuggestionResult(f"call #{call.id}", found, consortium_warnings(call, funding, members))
