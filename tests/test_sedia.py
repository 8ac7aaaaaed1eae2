"""The SEDIA parser on the real search page (samples/eu_ft/sedia_search_page_real.json), field by field,
and the HTML-to-text conversion of its descriptions."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline.core.errors import ParseError
from watcher.html_text import html_to_text
from watcher.records import Deadline
from watcher.sedia import budget_entries, keywords_of, load_page, parse_page, parse_result


@pytest.fixture(scope="module")
def real_page(samples: Path) -> dict:
    return json.loads((samples / "eu_ft" / "sedia_search_page_real.json").read_bytes())


@pytest.fixture(scope="module")
def parsed(real_page: dict):
    page = parse_page(real_page, source="eu_ft", page="page 1")
    return page, {r.topic_id: r for r in page.records}


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_envelope_stale_and_duplicates(parsed) -> None:
    page, by_topic = parsed
    assert page.total_results == 9 and page.results == 9
    assert page.stale == 3  # two stale SEDIA_PRD_CENTRICITY topics, one of them twice
    assert page.skipped == []
    assert [r.external_id for r in page.records] == [
        "50138952TOPICSen", "50131803TOPICSen", "50130852TOPICSen", "50127691TOPICSen",
        "50147304TOPICSen", "51176725TOPICSen"]
    assert "HORIZON-CL2-2024-TRANSFORMATIONS-01-08" not in by_topic
    assert "HORIZON-INFRA-2024-EOSC-01-03" not in by_topic


def test_two_stage_topic(parsed) -> None:
    soil = parsed[1]["HORIZON-MISS-2027-05-SOIL-01-two-stage"]
    assert soil.external_id == "50138952TOPICSen"
    assert soil.title == ("Living labs to enhance soil health in Continental, Black Sea, Pannonian and "
                          "Steppic biogeographical regions")
    assert soil.call_id == "HORIZON-MISS-2027-05-two-stage"
    assert soil.status == "forthcoming"
    assert soil.programme == "Horizon Europe (HORIZON)"
    assert soil.url == ("https://ec.europa.eu/info/funding-tenders/opportunities/portal/screen/"
                        "opportunities/topic-details/HORIZON-MISS-2027-05-SOIL-01-two-stage")
    assert soil.opening_date == utc(2027, 2, 4)
    # midnight UTC = date only: 17:00 Brussels (CEST, UTC+2 in April and September), marked assumed
    assert soil.deadlines == (Deadline(utc(2027, 4, 8, 15), True), Deadline(utc(2027, 9, 14, 15), True))
    assert soil.type_of_action == "HORIZON Research and Innovation Actions"  # double space normalised
    assert soil.funding_rate is None  # the portal states none; scoring uses the programme's RIA rate
    # its budgetOverview is cut before its own entry: no budget rather than another topic's
    assert soil.budget is None and soil.expected_grants is None
    assert soil.extra["deadline_model"] == "two-stage"
    assert soil.extra["submission_procedure"] == "two-stage"
    assert soil.extra["call_title"] == "Supporting the implementation of the Soil Deal for Europe Mission"
    assert soil.extra["keywords"][:2] == ["HORIZON-MISS-2027-05-SOIL-01-two-stage",
                                          "HORIZON-MISS-2027-05-two-stage"]
    assert soil.text.startswith("Expected Outcome:\n\nActivities under this topic respond directly to the "
                                "goal of the Mission Soil to set up 100 living labs")


def test_budget_from_own_entry_never_summed(parsed) -> None:
    by_topic = parsed[1]
    governance = by_topic["HORIZON-CL6-2026-04-GOVERNANCE-01"]  # the one complete budgetOverview
    assert governance.budget == 60_000_000  # 2026: 23 M + 2027: 37 M of this one topic
    assert (governance.expected_grants, governance.min_contribution, governance.max_contribution) == \
        (1, 60_000_000, 60_000_000)
    assert governance.type_of_action == "HORIZON Programme Cofund Actions"
    assert governance.funding_rate is None
    assert governance.deadlines == (Deadline(utc(2026, 11, 26, 16), True),)  # CET in November
    # cut JSON: the topic's own entry is salvaged up to the cut, the call's other topics ignored
    eccc = by_topic["HORIZON-CL3-2026-02-CS-ECCC-01"]
    assert eccc.status == "open"
    assert (eccc.budget, eccc.expected_grants, eccc.min_contribution, eccc.max_contribution) == \
        (20_000_000, 5, 3_000_000, 4_000_000)
    assert eccc.extra["budget_shared"] is False
    # the JU call repeats the call total in every entry; its own entry is cut off: nothing invented
    cbe = by_topic["HORIZON-JU-CBE-2026-IAFlag-02"]
    assert cbe.budget is None
    assert cbe.type_of_action == "HORIZON JU Innovation Actions"
    assert cbe.funding_rate is None
    for record in by_topic.values():
        assert record.budget is None or record.budget <= 60_000_000  # never a sum over the call


def test_destination_and_text(parsed) -> None:
    digital = parsed[1]["HORIZON-CL4-2027-04-DIGITAL-EMERGING-10"]
    assert digital.type_of_action == "HORIZON Coordination and Support Actions"
    assert digital.extra["destination"] == ("Achieving open strategic autonomy in digital and emerging "
                                            "enabling technologies (2026-27)")
    details = digital.extra["destination_details"]
    assert details.endswith("\n\n[1] COM(2025)723 Apply AI Strategy")
    assert "<" not in details and "&amp;" not in details
    assert digital.text.startswith(
        "Expected Outcome:\n\n- European leadership in foresight activities on future enabling "
        "technologies")
    assert "\n\nScope:\n\nProposals should establish a forum" in digital.text
    mobility = parsed[1]["HORIZON-CL5-2027-03-D5-05"]
    assert mobility.type_of_action == "HORIZON Innovation Actions" and mobility.funding_rate is None
    assert mobility.call_id == "HORIZON-CL5-2027-03"


def test_keywords_as_json_string(real_page: dict) -> None:
    stale = real_page["results"][1]["metadata"]
    words = keywords_of(stale)
    assert words[0] == "Gender research"
    assert len(words) == len({w.casefold() for w in words})  # duplicates removed


def test_budget_entries_survive_truncated_json(real_page: dict) -> None:
    cbe = real_page["results"][6]["metadata"]
    entries = budget_entries(cbe)
    assert [e["action"].split(" - ")[0] for e in entries] == ["HORIZON-JU-CBE-2026-CSA-01",
                                                              "HORIZON-JU-CBE-2026-IAFlag-03"]
    assert entries[0]["budgetYearMap"] == {"2026": "170760699"}


def test_cascade_and_prospect_records() -> None:
    """Shapes of the reconstructed type 8 and type 2 results (search_2026-08-22)."""
    cascade = parse_result({
        "reference": "15342COMPETITIVE_CALLen",
        "url": "https://ec.europa.eu/info/funding-tenders/opportunities/portal/screen/opportunities/"
               "competitive-calls-cs/44087099",
        "summary": "European Partnership on Innovative SMEs/Eurostars: joint transnational call for "
                   "proposals (CALL 12 of Eurostars-3)",
        "metadata": {"identifier": ["HORIZON-EIE-2021-INNOVSMES-01-01"],
                     "title": ["European Partnership on Innovative SMEs"],
                     "callTitle": ["European Partnership on Innovative SMEs/Eurostars: joint transnational "
                                   "call for proposals (CALL 12 of Eurostars-3)"],
                     "type": ["8"], "status": ["31094501"], "frameworkProgramme": ["43108390"],
                     "startDate": ["2026-12-17T00:00:00.000+0000"],
                     "deadlineDate": ["2027-03-04T14:00:00.000+0000"], "DATASOURCE": ["SEDIA"]}},
        programme_names={"43108390": "Horizon Europe"})
    assert cascade.title.endswith("(CALL 12 of Eurostars-3)")
    assert cascade.extra["parent_topic_title"] == "European Partnership on Innovative SMEs"
    assert cascade.topic_id == "HORIZON-EIE-2021-INNOVSMES-01-01"
    assert cascade.programme == "Horizon Europe"
    assert cascade.deadlines == (Deadline(utc(2027, 3, 4, 14), False),)  # a real time is kept
    assert cascade.funding_rate is None
    prospect = parse_result({
        "reference": "186723PROSPECTSEN",
        "url": "https://webgate.ec.europa.eu/prospect/external/publishedcalls.htm?callId=186723",
        "metadata": {"identifier": ["EuropeAid/186723/DD/ACT/EG"], "title": ["No Child Left Behind"],
                     "callIdentifier": ["186723"], "type": ["2"], "status": ["31094502"],
                     "frameworkProgramme": ["111111"], "startDate": ["2026-08-16T15:00:11.000+0000"],
                     "deadlineDate": ["2026-09-30T11:00:09.000+0000"], "DATASOURCE": ["SEDIA"]}})
    assert prospect.status == "open"
    assert prospect.programme == "EU External Action - Prospect (RELEX-PROSPECT)"
    assert prospect.opening_date == utc(2026, 8, 16, 15, 0, 11)
    assert prospect.deadlines == (Deadline(utc(2026, 9, 30, 11, 0, 9), False),)


def test_malformed_pages_name_source_and_page() -> None:
    with pytest.raises(ParseError) as info:
        load_page(b'{"results": [', source="eu_ft", page="page 2 of 8 (all programmes)")
    assert str(info.value).startswith("source 'eu_ft': page 2 of 8 (all programmes) is not valid JSON")
    with pytest.raises(ParseError, match="page 1 has no valid 'totalResults'"):
        load_page(b'{"results": []}', source="eu_ft", page="page 1")
    with pytest.raises(ParseError, match="page 1 has no 'results' list"):
        load_page(b"[]", source="eu_ft", page="page 1")


def test_unreadable_result_is_skipped_with_reason() -> None:
    page = parse_page({"totalResults": 2, "results": [{"metadata": {"title": ["x"]}}, "junk"]},
                      page="page 3")
    assert page.records == []
    assert page.skipped == ["page 3, result 1: result without a reference", "page 3, result 2: not an object"]


def test_html_to_text() -> None:
    html = ('<p class="topicdescriptionkind">Expected Outcome:</p><p>R&amp;D \ufeffin <a href="x">EU</a>'
            '<sup>[2]</sup>.</p><ul level="0"><li>one</li><li>two<ul><li>sub</li></ul></li></ul>'
            '<ol level="0"><li><p>first</p></li></ol><p class="eui-u-font-s">[2] A footnote.</p>')
    assert html_to_text(html) == ("Expected Outcome:\n\nR&D in EU.\n\n- one\n- two\n  - sub\n- first\n\n"
                                  "[2] A footnote.")
    assert html_to_text(None) == "" and html_to_text("  ") == ""
    assert html_to_text("<p>cut mid-<b>wo") == "cut mid-wo"
