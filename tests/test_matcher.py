"""The TF-IDF matcher and text normalisation: explanations, phrases, exclude terms, Danish synonyms."""

from __future__ import annotations

import json

import numpy as np
import pytest

from classifiers.matcher import (
    Query,
    TfidfModel,
    excluded_rows,
    focus_area_query,
    match_query,
    prepare,
    query_features,
    rank,
)
from classifiers.text import analyse, clean_text, stem, words
from pipeline.core.config import FocusArea

DOCS = [
    (1, "Offshore wind farms in the North Sea", "Floating offshore wind turbines and their grid connection."),
    (2, "Green hydrogen valleys", "Electrolysers produce hydrogen from renewable power."),
    (3, "Wind tunnels for aviation", "Testing aircraft wings; offshore platforms are out of scope."),
    (4, "Cancer screening", "Patients and clinical trials."),
    (5, "Fusion and offshore wind", "Nuclear fusion reactors and offshore wind."),
]


def test_clean_text_strips_bom_and_splits_glued_headings() -> None:
    text = "Objective:The Arctic\ufeff is cold.\uf076 Bullet…cut-off.Scope:Size of InvestigatorThe ERC"
    assert clean_text(text) == ("Objective: The Arctic is cold. Bullet…cut-off. Scope: Size of "
                                "Investigator The ERC")


def test_words_keep_danish_letters_and_strip_plurals() -> None:
    assert words("Grøn skibsfart og havne") == ["grøn", "skibsfart", "og", "havne"]
    assert words("Wind turbines, batteries and the ports") == ["wind", "turbine", "battery", "port"]
    assert stem("bus") == "bus" and stem("analysis") == "analysis"
    assert analyse("power-to-X") == ["power", "x", "power x"]


def test_phrase_beats_scattered_words_and_explanation_names_terms() -> None:
    matches = match_query("offshore wind", DOCS, top=5)
    assert {m.call_id for m in matches[:2]} == {1, 5}
    best = next(m for m in matches if m.call_id == 1)
    assert 0 < best.score <= 1
    assert [t for t, _ in best.terms] == ["offshore wind", "offshore", "wind"]
    assert all(w > 0 for _, w in best.terms)
    assert sum(w for _, w in best.terms) <= best.score + 1e-3
    # the aviation call has "wind" and "offshore" but not the phrase: it ranks lower
    scores = {m.call_id: m.score for m in matches}
    assert scores[3] < scores[1]


def test_exclude_phrase_scores_zero_with_reason() -> None:
    documents = [prepare(*d) for d in DOCS]
    matches = {m.call_id: m for m in rank(Query("q", ("offshore wind",), exclude=("nuclear fusion",)),
                                          documents)}
    assert matches[5].score == 0.0 and matches[5].excluded_by == "nuclear fusion" and matches[5].terms == []
    assert matches[1].score > 0 and matches[1].excluded_by is None
    assert 5 not in [m.call_id for m in match_query("offshore wind", DOCS, exclude=["nuclear fusion"])]


def test_exclude_needs_whole_words() -> None:
    documents = [prepare(9, "Fissionable materials", "fissionable"), prepare(1, *DOCS[0][1:])]
    matches = rank(Query("q", ("offshore wind", "fissionable"), exclude=("fission",)), documents)
    assert matches[0].excluded_by is None


def test_exclude_matches_plurals_either_way() -> None:
    """An exclude term and the call's text are normalised alike (plural endings stripped), so the
    singular or the plural in the config catches both forms in a call."""
    smr = prepare(7, "Safety of SMRs and innovative nuclear reactors", "Small Modular Reactors (SMRs) are")
    other = prepare(8, "Offshore wind farms", "reactor-free offshore wind")
    found = excluded_rows([smr, other], ["small modular reactor", "nuclear reactors", "SMR"])
    assert found == {0: "small modular reactor"}
    assert excluded_rows([smr, other], ["nuclear reactor"]) == {0: "nuclear reactor"}
    assert excluded_rows([smr, other], ["fission"]) == {}


def test_danish_keywords_are_mapped_through_synonyms() -> None:
    area = FocusArea(label="Energy", keywords=["havvind", "brint"],
                     synonyms={"havvind": ["offshore wind"], "brint": ["hydrogen"]})
    query = focus_area_query("energy", area)
    # "hydrog" is how Danish, Swedish and Norwegian text stems "hydrogen" (classifiers.text.nordic_forms)
    assert query.terms == ("havvind", "offshore wind", "brint", "hydrogen", "hydrog")
    matches = {m.call_id: m.score for m in rank(query, [prepare(*d) for d in DOCS])}
    assert matches[1] > 0 and matches[2] > 0 and matches[4] == 0


def test_danish_call_text_meets_danish_and_english_keywords() -> None:
    """Danish text is stemmed as Danish ("brinten", "havvinden" meet "brint", "havvind"), and synonyms
    apply both ways: the English keyword "hydrogen" finds the Danish "brint"."""
    from classifiers.text import nordic_language, words

    danish = ("Opslaget støtter projekter om havvinden og brinten i Nordsøen, og det er åbent for "
              "virksomheder, der vil udvikle energiøer med partnere fra flere lande.")
    assert nordic_language(danish.casefold().split()) == "danish"
    assert {"havvind", "brint", "energiø"} <= set(words(danish))
    english_only = FocusArea(label="Energy", keywords=["hydrogen", "offshore wind"],
                             synonyms={"brint": ["hydrogen"], "havvind": ["offshore wind"]})
    docs = [prepare(1, "Ny indkaldelse", danish), prepare(2, "Call", "Cybersecurity of payment systems.")]
    scores = {m.call_id: m.score for m in rank(focus_area_query("energy", english_only), docs)}
    assert scores[1] > 0 and scores[2] == 0


def test_english_text_is_tokenised_as_without_nordic_stemming() -> None:
    from classifiers.text import nordic_language, stem, words

    english = "The call supports offshore wind and hydrogen with partners from at least three countries."
    assert nordic_language(english.casefold().split()) is None
    assert words(english) == [stem(w) for w in ["supports", "offshore", "wind", "hydrogen", "partners",
                                                "countries"]]


def test_a_keyword_and_its_translations_count_once() -> None:
    """Each keyword is one unit of the query however many translations it has, and a synonym key that
    repeats a keyword once analysed ("energy island" beside "energy islands") is not counted again."""
    from classifiers.matcher import TfidfModel, query_vector

    area = FocusArea(label="Energy", keywords=["wind", "energy islands", "sektorkobling"],
                     synonyms={"sektorkobling": ["sector coupling", "sector integration"],
                               "energiø": ["energy island"]})
    query = focus_area_query("energy", area)
    # synonyms apply both ways: energiø translates "energy island(s)", so it joins that keyword's unit
    assert query.groups == (("wind",), ("energy islands", "energiø"),
                            ("sektorkobling", "sector coupling", "sector integration"))
    documents = [prepare(1, "Wind", "wind farms"), prepare(2, "Energy islands", "energy island hubs"),
                 prepare(3, "Sector coupling", "sector coupling and sector integration")]
    model, _ = TfidfModel.fit(documents, keep={"energy island", "sector coupling", "sector integration"})
    weights = dict(zip(model.terms(), query_vector(model, query).toarray().ravel(), strict=True))
    assert weights["sector"] <= weights["wind"]  # the Danish keyword is one unit, not two
    assert weights["island"] <= weights["wind"]  # and energiø does not repeat the keyword


def test_model_round_trips_through_bytes() -> None:
    documents = [prepare(*d) for d in DOCS]
    model, matrix = TfidfModel.fit(documents, keep=query_features(Query("q", ("offshore wind",))))
    again = TfidfModel.from_bytes(model.to_bytes())
    assert again.vocabulary == model.vocabulary
    assert np.allclose(again.idf, model.idf)
    assert np.allclose(again.transform([d.features for d in documents]).toarray(), matrix.toarray())


def test_real_calls_with_empty_descriptions_and_bom(samples) -> None:
    lines = (samples / "eu_ft" / "calls_2026-08-10.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines[:200]]
    documents = [(i, r["title"], r["description"]) for i, r in enumerate(records)]
    assert any(not r["description"] for r in records) or any("\ufeff" in r["description"] for r in records)
    matches = match_query("artificial intelligence, robotics", documents, top=10)
    assert len(matches) == 10
    assert all(0 < m.score <= 1 for m in matches)
    assert all("\ufeff" not in t for m in matches for t, _ in m.terms)
    assert matches == sorted(matches, key=lambda m: -m.score)


def test_vectorised_explanations_equal_the_per_row_products(samples) -> None:
    """score_rows scores and explains every call at once; each result equals the textbook per-call
    computation: the cosine q·d and the largest products q_i d_i, ties in vocabulary order."""
    from classifiers.matcher import expanded_query, score_rows

    lines = (samples / "eu_ft" / "calls_2026-08-10.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines[:120]]
    documents = [prepare(i, r["title"], r["description"]) for i, r in enumerate(records)]
    query = Query("q", ("offshore wind", "hydrogen", "energy storage"))
    model, matrix = TfidfModel.fit(documents, keep=query_features(query))
    vector = expanded_query(model, query, documents, matrix)
    names = model.terms()
    scores, explanations = score_rows(vector, matrix, names, top=3)
    q = vector.toarray().ravel()
    assert len(scores) == len(explanations) == len(documents)
    for row in range(len(documents)):
        d = matrix[row].toarray().ravel()
        products = q * d
        assert scores[row] == pytest.approx(float(products.sum()), abs=1e-5)
        order = sorted(np.flatnonzero(products), key=lambda i: (-products[i], i))[:3]
        assert [t for t, _ in explanations[row]] == [names[i] for i in order]
        assert [w for _, w in explanations[row]] == pytest.approx([round(products[i], 4) for i in order],
                                                                 abs=1e-4)
    assert any(explanations) and all(0 <= s <= 1 for s in scores)


def test_scores_are_half_tfidf_half_latent_cosine_and_explained_by_both(samples) -> None:
    """With an LSA space the score is LEXICAL_WEIGHT × the TF-IDF cosine + the rest × the latent cosine,
    and the explanation's weights are each term's share of both (phrases only through TF-IDF)."""
    from classifiers.matcher import LEXICAL_WEIGHT, expanded_query, score_rows

    lines = (samples / "eu_ft" / "calls_2026-08-10.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines[:200]]
    documents = [prepare(i, r["title"], r["description"]) for i, r in enumerate(records)]
    query = Query("q", ("offshore wind", "hydrogen", "energy storage"))
    model, matrix = TfidfModel.fit(documents, keep=query_features(query))
    assert model.components is not None and model.components.shape[0] == 50
    vector = expanded_query(model, query, documents, matrix)
    names = model.terms()
    scores, explanations = score_rows(vector, matrix, names, top=5, model=model)
    q, words, v = vector.toarray().ravel(), model.word_columns(), model.components
    z = v @ q[words]
    z /= np.linalg.norm(z)
    expanded = z @ v  # e = V^T z over the word columns
    w = LEXICAL_WEIGHT
    for row in range(len(documents)):
        d = matrix[row].toarray().ravel()
        latent = d[words] @ v.T
        length = np.linalg.norm(latent)
        cosine = max(0.0, float(latent @ z / length)) if length else 0.0
        assert scores[row] == pytest.approx(w * float(q @ d) + (1 - w) * cosine, abs=1e-5)
        share = w * q * d
        share[words] += (1 - w) * np.clip(d[words] * expanded / length if length else 0, 0, None)
        order = sorted(np.flatnonzero(share > 0), key=lambda i: (-share[i], i))[:5]
        # terms of equal share (a short text's words said once each) may come in either order
        column = {name: i for i, name in enumerate(names)}
        explained = [float(share[column[t]]) for t, _ in explanations[row]]
        assert explained == pytest.approx([float(share[i]) for i in order], abs=1e-7)
    assert any(" " in t for e in explanations for t, _ in e)  # a phrase explains some score


def test_feature_counts_equal_scikit_learn() -> None:
    from sklearn.feature_extraction.text import CountVectorizer

    from classifiers.matcher import count_features

    documents = [prepare(*d) for d in DOCS]
    counts, terms = count_features(documents)
    reference = CountVectorizer(analyzer=lambda d: d.features)
    expected = reference.fit_transform(documents)
    columns = [terms.index(t) for t in reference.get_feature_names_out()]
    assert np.array_equal(counts[:, columns].toarray(), expected.toarray())
    assert documents[0].features[:2] == ["offshore", "wind"]  # title words first, counted twice
    assert documents[0].features.count("offshore wind") == 3


def test_excluded_rows_first_phrase_wins_and_whole_words_only() -> None:
    from classifiers.matcher import excluded_rows

    documents = [prepare(*d) for d in DOCS] + [prepare(6, "Fissionable materials", "fissionable")]
    found = excluded_rows(documents, ["fission", "offshore platforms", "nuclear fusion", "offshore"])
    assert found == {0: "offshore", 2: "offshore platforms", 4: "nuclear fusion"}


def test_unit_coverage_counts_whole_terms_and_several_units() -> None:
    """The coverage leg: a phrase counts only where all of it occurs, one unit matched many times
    ranks below several units matched, and the contributions sum to the coverage exactly."""
    from classifiers.matcher import TfidfModel, unit_columns, unit_coverage

    documents = [prepare(1, "AI in schools", "AI AI AI for pupils and AI teachers"),
                 prepare(2, "AI for robotics", "robotics with AI in factories"),
                 prepare(3, "Energy efficiency", "energy for heating, storage of grain"),
                 prepare(4, "Energy storage", "battery energy storage systems")]
    query = Query("q", ("AI", "robotics", "energy storage"))
    model, matrix = TfidfModel.fit(documents, keep=query_features(query))
    units = unit_columns(model, query)
    assert [len(u) for u in units] == [1, 1, 1] and len(units[2][0]) == 1  # the phrase's one pair
    coverage, part = unit_coverage(matrix, units, len(model.vocabulary), True)
    assert coverage[1] > coverage[0]  # two units beat one unit repeated
    assert coverage[2] == 0 and coverage[3] > 0  # "energy" and "storage" apart are not the phrase
    assert np.allclose(np.asarray(part.sum(axis=1)).ravel(), coverage, atol=1e-6)
    assert all(c <= 1 for c in coverage)


def test_scores_are_the_sum_of_their_explanation_with_the_unit_leg() -> None:
    from classifiers.matcher import TfidfModel, expanded_query, score_rows, unit_columns

    documents = [prepare(*d) for d in DOCS]
    query = Query("q", ("offshore wind", "hydrogen"))
    model, matrix = TfidfModel.fit(documents, keep=query_features(query))
    vector = expanded_query(model, query, documents, matrix)
    names = model.terms()
    width = len(names)
    scores, explanations = score_rows(vector, matrix, names, top=width, units=unit_columns(model, query))
    plain, _ = score_rows(vector, matrix, names, top=0)
    assert any(s != p for s, p in zip(scores, plain, strict=True))
    for score, terms in zip(scores.tolist(), explanations, strict=True):
        assert sum(w for _, w in terms) == pytest.approx(score, abs=1e-3)


@pytest.mark.parametrize("label", ["", "Quantum", "Robots in schools"])
def test_a_one_keyword_area_capped_at_1_still_adds_up(label: str) -> None:
    """A call that is its area's only keyword, whole and often, has cosines 1 plus the coverage bonus:
    the sum is capped at 1 before the gate, and its terms shrink with it (they summed to 1.333)."""
    from classifiers.matcher import context_vector, expanded_query, score_rows, unit_columns

    docs = [(1, "Quantum", "Quantum quantum."), (2, "Quantum computing", "Quantum computers for research."),
            (3, "Robots", "Robots in schools.")]
    documents = [prepare(*d) for d in docs]
    query = Query("q", ("quantum",), label=label)
    model, matrix = TfidfModel.fit(documents, keep=query_features(query))
    vector, names = expanded_query(model, query, documents, matrix), model.terms()
    scores, explanations = score_rows(vector, matrix, names, top=len(names), units=unit_columns(model, query),
                                      context=context_vector(model, query))
    assert scores[0] > 0
    for score, terms in zip(scores.tolist(), explanations, strict=True):
        assert 0 <= score <= 1
        assert sum(w for _, w in terms) == pytest.approx(score, abs=1e-3)


def test_context_gate_ranks_a_call_far_from_the_label_lower_and_explanations_still_add_up() -> None:
    """The gate is GATE_SCALE × (GATE_FLOOR + (1 - GATE_FLOOR) × the call's cosine with label and
    description): of two calls matching the keyword alike, the one sharing the label's words ranks
    first; the terms sum to the score."""
    from classifiers.matcher import (
        GATE_FLOOR,
        GATE_SCALE,
        context_gate,
        context_vector,
        cosine,
        expanded_query,
        score_rows,
        unit_columns,
    )

    docs = [(1, "AI for industrial robots", "Artificial intelligence on the factory floor for industry."),
            (2, "AI in primary schools", "Artificial intelligence for pupils and teachers in schools.")]
    documents = [prepare(*d) for d in docs]
    query = Query("q", ("artificial intelligence",), label="Digital industry and robots")
    model, matrix = TfidfModel.fit(documents, keep=query_features(query))
    context = context_vector(model, query)
    gate = context_gate(context, matrix, model, None)
    expected = GATE_SCALE * (GATE_FLOOR + (1 - GATE_FLOOR) * cosine(context, matrix))
    assert np.allclose(gate, expected, atol=1e-5)
    assert gate[0] > gate[1] >= GATE_SCALE * GATE_FLOOR
    vector = expanded_query(model, query, documents, matrix)
    names = model.terms()
    scores, explanations = score_rows(vector, matrix, names, top=len(names), units=unit_columns(model, query),
                                      context=context)
    assert scores[0] > scores[1] > 0
    for score, terms in zip(scores.tolist(), explanations, strict=True):
        assert sum(w for _, w in terms) == pytest.approx(score, abs=1e-3)
    assert context_vector(model, Query("q", ("artificial intelligence",))) is None  # no label: no gate


def test_a_phrase_outweighs_its_own_words_and_common_words_weigh_less() -> None:
    """In the query a keyword phrase's single words weigh SPILL_WEIGHT of its bigram (before the idf
    factor), and every weight is multiplied by idf / max idf (specificity)."""
    from classifiers.matcher import SPILL_WEIGHT, query_vector

    documents = [prepare(*d) for d in DOCS]
    query = Query("q", ("offshore wind",))
    model, _ = TfidfModel.fit(documents, keep=query_features(query))
    vector = query_vector(model, query).toarray().ravel()
    raw = model.transform([analyse("offshore wind")]).toarray().ravel()
    top = model.idf.max()
    phrase, word = model.vocabulary["offshore wind"], model.vocabulary["offshore"]
    expected = (raw[word] / raw[phrase]) * (model.idf[word] / model.idf[phrase])
    ratio = (vector[word] / vector[phrase]) / expected
    assert ratio == pytest.approx(SPILL_WEIGHT, rel=1e-4)
    assert top >= model.idf[word]


def test_a_keyword_the_label_does_not_speak_of_joins_the_gate_and_one_it_does_stays_gated() -> None:
    """novel_units weighs a unit by (1 - a)^GATE_NOVEL_POWER, a its closeness to label and description:
    "quantum" (no shared word) counts fully, "robots" (in the label) not at all. With it added, a quantum
    call the label alone would gate down passes the gate; the explanation still adds up to the score."""
    from sklearn.preprocessing import normalize

    from classifiers.matcher import (
        GATE_NOVEL_WEIGHT,
        context_gate,
        context_vector,
        expanded_query,
        novel_units,
        score_rows,
        unit_columns,
    )

    docs = [(1, "Robots for industry", "Industrial robots on the factory floor for industry."),
            (2, "Quantum computing", "Quantum computers and quantum sensing for research."),
            (3, "Robots in schools", "Robots for pupils and teachers in schools.")]
    documents = [prepare(*d) for d in docs]
    label = "Industry and robots"
    plain = Query("q", ("robots",), label=label)
    widened = Query("q", ("robots", "quantum"), label=label)
    model, matrix = TfidfModel.fit(documents, keep=query_features(widened))
    label_only = normalize(model.transform([analyse(label)]))
    added = novel_units(model, widened, label_only).toarray().ravel()
    quantum, robot = model.vocabulary["quantum"], model.vocabulary["robot"]
    assert added[quantum] == pytest.approx(1.0, abs=1e-4) and added[robot] == pytest.approx(0.0, abs=1e-4)
    expected = normalize(label_only + GATE_NOVEL_WEIGHT * novel_units(model, widened, label_only))
    assert np.allclose(context_vector(model, widened).toarray(), expected.toarray(), atol=1e-6)
    before = context_gate(context_vector(model, plain), matrix, model, None)
    after = context_gate(context_vector(model, widened), matrix, model, None)
    assert after[1] > 2 * before[1] and after[0] > after[2]
    vector = expanded_query(model, widened, documents, matrix)
    names = model.terms()
    scores, explanations = score_rows(vector, matrix, names, top=len(names),
                                      units=unit_columns(model, widened),
                                      context=context_vector(model, widened))
    for score, terms in zip(scores.tolist(), explanations, strict=True):
        assert sum(w for _, w in terms) == pytest.approx(score, abs=1e-3)


def test_the_gate_also_reads_the_label_as_the_synonyms_translate_it() -> None:
    """A label term the synonyms translate ("offshore wind" ← havvind) brings its translations into a
    second context row, and the gate takes the closer row: a short Danish call about havvind og brint
    is gated as an English one about offshore wind and hydrogen, while English calls keep their gate
    exactly (the written row is the closer one for a call without the translations' words)."""
    from classifiers.matcher import context_gate, context_vector

    area = FocusArea(label="Offshore wind and hydrogen", keywords=["offshore wind", "hydrogen"],
                     synonyms={"havvind": ["offshore wind"], "brint": ["hydrogen"]})
    docs = DOCS + [(6, "Ny indkaldelse", "Indkaldelsen er åben og handler om havvind og brint i Østersøen.")]
    documents = [prepare(*d) for d in docs]
    query = focus_area_query("offshore", area)
    model, matrix = TfidfModel.fit(documents, keep=query_features(query))
    context = context_vector(model, query)
    plain = Query("offshore", query.terms, groups=query.groups, label=area.label)  # no translations
    untranslated = context_vector(model, plain)
    assert context.shape[0] == 2 and untranslated.shape[0] == 1
    gate, before = context_gate(context, matrix, model, None), context_gate(untranslated, matrix, model, None)
    assert np.allclose(gate[:5], before[:5], atol=1e-6)  # the English calls
    assert gate[5] > 2 * before[5] and gate[5] > gate[3]  # the Danish call, above the cancer screening


def test_a_danish_label_is_read_as_its_synonyms_translate_it() -> None:
    """A secretariat writing the label in Danish ("Kræft", with kræft: [cancer] under synonyms) gets the
    gate an English label gives: the synonyms apply both ways in the label as in the keywords, so an
    English call about cancer is not held back because the label's word is not in English calls."""
    from classifiers.matcher import context_gate, context_vector

    documents = [prepare(*d) for d in DOCS]
    english = focus_area_query("cancer", FocusArea(label="Cancer", keywords=["kræft"],
                                                   synonyms={"kræft": ["cancer"]}))
    danish = focus_area_query("cancer", FocusArea(label="Kræft", keywords=["kræft"],
                                                  synonyms={"kræft": ["cancer"]}))
    model, matrix = TfidfModel.fit(documents, keep=query_features(english) | query_features(danish))
    gate_en = context_gate(context_vector(model, english), matrix, model, None)
    gate_da = context_gate(context_vector(model, danish), matrix, model, None)
    assert gate_da[3] == pytest.approx(gate_en[3], abs=1e-6)  # "Cancer screening"
    assert gate_da[3] > 2 * gate_da[0]


def test_a_closed_spelling_the_calls_never_write_leaves_the_query_as_written() -> None:
    """'zero-emission vessels' is also looked for as 'zeroemission vessels'; where no call writes
    'zeroemission' that spelling would ask for 'vessels' alone at the weight of the whole keyword."""
    from dataclasses import replace

    from classifiers.matcher import query_vector

    area = FocusArea(label="Green shipping", keywords=("zero-emission vessels", "ports"))
    query = focus_area_query("maritime", area)
    assert query.spellings == ("zeroemission vessels",)
    as_written = replace(query, groups=tuple(tuple(t for t in g if t not in query.spellings)
                                             for g in query.groups), spellings=())

    def vector(docs: list[tuple[int, str, str]], q: Query) -> np.ndarray:
        model, _ = TfidfModel.fit([prepare(*d) for d in docs])
        return query_vector(model, q).toarray()

    hyphenated = [(1, "Zero-emission vessels", "Zero-emission vessels for short-sea shipping."),
                  (2, "Vessels and ports", "Inland vessels call at the ports."),
                  (3, "Cancer screening", "Patients and clinical trials.")]
    assert np.allclose(vector(hyphenated, query), vector(hyphenated, as_written))
    closed = [*hyphenated, (4, "Zeroemission vessels", "Zeroemission vessels in the Baltic.")]
    assert not np.allclose(vector(closed, query), vector(closed, as_written))
