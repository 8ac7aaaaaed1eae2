"""Scoring runs in several of serve's threads at once (a source job and the digest job): the Nordic
stemming they share must give each word its own stem. One Snowball stemmer object keeps the word it
works on, and two threads stemming through one failed with "IndexError: string index out of range"
(or took each other's words)."""

from __future__ import annotations

import threading

from classifiers.text import nordic_stem

ENDINGS = ("arna", "orna", "erna", "ande", "ende", "heten", "ning", "else", "aste", "ernas")


def test_two_threads_stemming_at_once_each_get_their_words_stems() -> None:
    words = {thread: [f"{thread}{n:05d}{ending}" for n in range(3000) for ending in ENDINGS]
             for thread in ("havs", "vind")}  # each word once: the stem cache answers none of them
    start = threading.Barrier(2, timeout=60)
    stems: dict[str, list[str]] = {}
    failures: list[BaseException] = []

    def stem_all(thread: str) -> None:
        start.wait()
        try:
            stems[thread] = [nordic_stem(word, "swedish") for word in words[thread]]
        except BaseException as exc:  # noqa: BLE001 (the test reports it)
            failures.append(exc)

    workers = [threading.Thread(target=stem_all, args=(thread,)) for thread in words]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert failures == []
    nordic_stem.cache_clear()
    assert stems == {thread: [nordic_stem(word, "swedish") for word in words[thread]] for thread in words}
