"""Partners: validation, all-or-nothing CSV import, suggestions and consortium rules (real SQLite)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from classifiers.funding import FundingRules
from pipeline.core.config import load_funding_rules
from pipeline.core.db import session_scope
from pipeline.core.errors import BadRowsError, ConfigError, NotFoundError, ValidationError
from pipeline.core.models import Call, Partner
from pipeline.partners import (
    PartnerInput,
    consortium_warnings,
    create_partner,
    import_partners,
    partner_type,
    pic_number,
    suggest_for_call,
    update_partner,
)
from tests.test_applications import NOW, bsr_call, horizon_call, sync

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.mark.parametrize(("text", "expected"), [
    ("SME", "sme"), ("research institute", "rto"), ("Research and Technology Organisation", "rto"),
    ("Public Body", "public"), ("municipality", "public"), ("large company", "large"),
    ("SMEs", "sme"), ("University", "university"), ("cluster organisation", "cluster")])
def test_partner_type_aliases(text: str, expected: str) -> None:
    assert partner_type(text) == expected


def test_unknown_type_and_pic() -> None:
    with pytest.raises(ValidationError, match="unknown partner type 'ngo'; use one of sme, large, "):
        partner_type("ngo")
    assert pic_number(" 999 123 456 ") == "999123456"
    for bad in ("12345678", "1234567890", "99912345a"):
        with pytest.raises(ValidationError, match="a PIC is exactly nine digits"):
            pic_number(bad)


def test_pic_is_unique(engine: Engine) -> None:
    with session_scope(engine) as session:
        create_partner(session, PartnerInput("RISE", "SE", "rto", "999981234"), NOW)
    with session_scope(engine) as session, pytest.raises(ValidationError) as err:
        create_partner(session, PartnerInput("Other", "SE", "sme", "999981234"), NOW)
    assert str(err.value) == ("PIC 999981234 already belongs to partner #1 (RISE); a PIC names one "
                              "organisation: check it, or see `fundradar partners show 1`")
    with session_scope(engine) as session:
        other = create_partner(session, PartnerInput("Other", "se", "sme"), NOW)
        assert other.country == "SE"
    with session_scope(engine) as session, pytest.raises(ValidationError, match="already belongs"):
        update_partner(session, other.id, NOW, pic="999981234")
    with session_scope(engine) as session, pytest.raises(NotFoundError, match="no partner with id 9"):
        update_partner(session, "#9", NOW, readiness="committed")


def test_import_comma_and_semicolon_files(engine: Engine) -> None:
    with session_scope(engine) as session:
        added = import_partners(session, FIXTURES / "partners.csv", NOW)
        assert [(p.organisation, p.country, p.type, p.pic, p.readiness) for p in added] == [
            ("RISE Research Institutes of Sweden", "SE", "rto", "999981234", "committed"),
            ("Kiel University", "DE", "university", "999872345", "interested"),
            ("Tallinn Port Authority, Ltd.", "EE", "public", None, "unknown")]
        assert added[0].competences == ["hydrogen", "ports", "energy storage"]
        assert added[0].contact == "Eva Lund <eva.lund@ri.se>"
    with session_scope(engine) as session:
        added = import_partners(session, FIXTURES / "partners_semicolon.csv", NOW)
        assert [(p.organisation, p.country, p.type, p.pic, p.competences) for p in added] == [
            ("Aalborg Universitet", "DK", "university", "999123456", ["offshore wind", "energy islands"]),
            ("Nordic Hydrogen ApS", "DK", "sme", None, ["hydrogen"])]


def test_import_is_all_or_nothing(engine: Engine) -> None:
    path = FIXTURES / "partners_bad_row.csv"
    with pytest.raises(ValidationError) as err, session_scope(engine) as session:
        import_partners(session, path, NOW)
    assert (str(err.value), err.value.problems) == (
        f"{path}: 1 bad row; nothing was imported; fix it and import the file again",
        [f"{path}:4: pic: '12345' is not valid; a PIC is exactly nine digits, e.g. 999912345 (see the EU "
         "Funding & Tenders portal)"])
    with Session(engine) as session:
        assert session.exec(select(Partner)).all() == []


@pytest.mark.parametrize(("text", "message"), [
    ("name,country,type\nRISE,SE,rto\n", "csv:1: unknown column 'name'; the columns are organisation"),
    ("organisation,type\nRISE,rto\n", "csv:1: column 'country' is missing"),
    ("organisation,country,type\nRISE,SE,rto\nKiel,Germany,university\n", "csv: 1 bad row"),
    ("organisation,country,type\nRISE,SE,rto,extra\n", "csv: 1 bad row"),
    ("organisation,country,type,pic\nA,SE,rto,999981234\nB,DE,sme,999981234\n", "csv: 1 bad row"),
    ("", "the file is empty"),
])
def test_import_bad_files(engine: Engine, tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "partners.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValidationError, match=message), session_scope(engine) as session:
        import_partners(session, path, NOW)
    with Session(engine) as session:
        assert session.exec(select(Partner)).all() == []


def test_import_reports_every_bad_row_and_imports_none(engine: Engine, tmp_path: Path) -> None:
    with session_scope(engine) as session:
        create_partner(session, PartnerInput("DTU", "DK", "university", "999123456"), NOW)
    path = tmp_path / "partners.csv"
    # the columns of the partner list (CSV_COLUMNS); rows 2 and 3 are good, every other row is not
    path.write_text(
        "organisation,country,type,pic,contact,competences,past_collaborations,readiness\n"
        "RISE Research Institutes of Sweden,SE,rto,999981234,,hydrogen,,committed\n"
        "Kiel University,DE,university,999872345,,shipping,,interested\n"
        "Gdansk Maritime Cluster,Dnmark,cluster,12345,,ports,,unknown\n"
        "Tallinn Port Authority,EE,public body,,,ports,,ready\n"
        "Aalborg Universitet,DK,university,999981234,,offshore wind,,committed\n"
        "Danmarks Tekniske Universitet,DK,university,999123456,,,,\n"
        ",NO,ngo,,,,,\n"
        "Port of Aarhus,DK,public,,,ports,,unknown,extra\n", encoding="utf-8")
    with pytest.raises(BadRowsError) as err, session_scope(engine) as session:
        import_partners(session, path, NOW)
    assert str(err.value) == f"{path}: 6 bad rows; nothing was imported; fix them and import the file again"
    assert err.value.problems == [
        f"{path}:4: country: 'Dnmark' is not an ISO 3166 country code; use two letters such as DK, SE or DE",
        f"{path}:4: pic: '12345' is not valid; a PIC is exactly nine digits, e.g. 999912345 (see the EU "
        "Funding & Tenders portal)",
        f"{path}:5: readiness: unknown readiness 'ready'; use one of unknown, interested, committed",
        f"{path}:6: pic: 999981234 is also on line 2",
        f"{path}:7: pic: 999123456 already belongs to partner #1 (DTU); a PIC names one organisation: "
        "check it, or see `fundradar partners show 1`",
        f"{path}:8: organisation: a partner needs an organisation name",
        f"{path}:8: type: unknown partner type 'ngo'; use one of sme, large, university, rto, cluster, "
        "public (or e.g. 'research institute', 'public body')",
        f"{path}:9: more cells than columns; quote cells that contain ','"]
    with Session(engine) as session:
        assert [p.organisation for p in session.exec(select(Partner))] == ["DTU"]


def test_a_wholly_wrong_file_is_summed_up(engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "partners.csv"
    path.write_text("organisation,country,type\n" + "X,Dnmark,sme\n" * 500, encoding="utf-8")
    with pytest.raises(BadRowsError) as err, session_scope(engine) as session:
        import_partners(session, path, NOW)
    assert len(err.value.problems) == 101
    assert err.value.problems[-1] == f"{path}: … and 400 more problems"
    assert str(err.value).startswith(f"{path}: 500 bad rows; nothing was imported")


def test_suggest_for_call_and_consortium_rule(engine: Engine) -> None:
    sync(engine, "euro_access", [bsr_call()])
    sync(engine, "eu_ft", [horizon_call()])
    funding = FundingRules(load_funding_rules())
    with session_scope(engine) as session:
        import_partners(session, FIXTURES / "partners.csv", NOW)
        create_partner(session, PartnerInput("Rotterdam Port Lab", "NL", "rto",
                                             competences=["ports", "hydrogen"]), NOW)
    with Session(engine) as session:
        bsr = session.exec(select(Call).where(Call.external_id == "ea-bsr-small-2026")).one()
        result = suggest_for_call(session, bsr, funding, organisation="GreenTech", home_country="DK", top=2)
        # NL is outside the Baltic Sea Region programme area; RISE matches two competences
        assert [(s.partner.organisation, s.matched, s.adds_country) for s in result.suggestions] == [
            ("RISE Research Institutes of Sweden", ["hydrogen", "ports"], True),
            ("Kiel University", ["shipping", "alternative fuels"], True)]
        assert result.warnings == []
        one = suggest_for_call(session, bsr, funding, organisation="GreenTech", home_country="DK", top=1)
        assert one.warnings == [
            "the consortium has 2 entities from 2 countries; Interreg Baltic Sea Region needs ≥ 3 from 3 "
            "countries (Interreg Baltic Sea Region Programme Manual 2021-2027: at least three partners from "
            "three countries of the programme area)"]
        assert consortium_warnings(bsr, funding, [("GreenTech", "DK"), ("Port Lab", "NL"),
                                                  ("RISE", "SE")]) == [
            "not in the Interreg Baltic Sea Region programme area: Port Lab (NL)"]
        horizon = session.exec(select(Call).where(Call.topic_id == "HORIZON-CL5-2027-03-D5-05")).one()
        he_source = "Horizon Europe General Annexes, B (Eligibility); Regulation (EU) 2021/695, art. 22(2)"
        assert consortium_warnings(horizon, funding, [("GreenTech", "DK"), ("RISE", "SE")]) == [
            f"the consortium has 2 entities from 2 countries; Horizon Europe IA needs ≥ 3 from 3 countries "
            f"({he_source})"]
        assert consortium_warnings(horizon, funding, [("GreenTech", "DK"), ("RISE", "SE"),
                                                      ("Kiel University", "DE")]) == []


@pytest.mark.parametrize(("type_of_action", "members", "expected"), [
    # three entities in three countries, but none in an EU Member State
    ("HORIZON Research and Innovation Actions", [("Statkraft", "NO"), ("SINTEF", "NO"), ("Matis", "IS"),
                                                 ("UKRI", "GB")],
     ["the consortium has no entity in an EU Member State; Horizon Europe RIA needs at least one "
      "(Horizon Europe General Annexes, B (Eligibility); Regulation (EU) 2021/695, art. 22(2))"]),
    ("HORIZON Research and Innovation Actions", [("GreenTech", "DK"), ("DTU", "DK"), ("RISE", "SE")],
     ["the consortium has 3 entities from 2 countries; Horizon Europe RIA needs ≥ 3 from 3 countries "
      "(Horizon Europe General Annexes, B (Eligibility); Regulation (EU) 2021/695, art. 22(2))"]),
    # a coordination and support action may be carried out by one legal entity
    ("HORIZON Coordination and Support Actions", [("GreenTech", "DK")], []),
    ("HORIZON EIC Accelerator", [("GreenTech", "DK")], []),
])
def test_horizon_consortium_rule_per_type_of_action(type_of_action: str, members: list[tuple[str, str]],
                                                    expected: list[str]) -> None:
    funding = FundingRules(load_funding_rules())
    call = Call(source="eu_ft", external_id="x", title="x", programme="Horizon Europe",
                topic_id="HORIZON-CL5-2026-D3-01-01", type_of_action=type_of_action)
    assert consortium_warnings(call, funding, members) == expected


def test_a_consortium_rule_names_a_known_country_group(tmp_path: Path) -> None:
    text = (FIXTURES.parent.parent / "config" / "funding_rules.yaml").read_text(encoding="utf-8")
    path = tmp_path / "funding_rules.yaml"
    path.write_text(text.replace("one_from: eu_member_states", "one_from: eu_members", 1), encoding="utf-8")
    with pytest.raises(ConfigError, match="one_from 'eu_members' is not a country_groups entry "
                                          r"\(known: eu_member_states\)"):
        load_funding_rules(path)
