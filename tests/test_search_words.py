"""The words search reads from a text are those SQLite's index reads, so that PostgreSQL,
which indexes these words, finds what SQLite finds."""

import sqlite3

import pytest

from domain.search import terms, words

TEXTS = [
    "anna@acme.example wrote: see https://x.example/a_b?c=1#frag",
    "Version 2.5.1-rc.2 (build 2026-11-30T18:00Z), PROJ-1234, getUserName(), sync_job",
    "Herr Müller, café, naïve, Ærø, Straße, İstanbul, cafe\u0301, ÉCOLE",
    "Ελλάδα, Москва, 東京タワー, क्षत्रिय, مرحبا, ①②, ﬁle, x²",
    "c++ €5 a$b x+y 50% #topic @handle <tag> & 'quoted' \"double\" \u2014 dash \u2013 en",
    "tab\there\nnew line\u00a0nbsp\u2003em-space zero\u200bwidth",
]


def _sqlite_words(text: str) -> list[str]:
    db = sqlite3.connect(":memory:")
    db.execute("CREATE VIRTUAL TABLE t USING fts5(b, tokenize='unicode61 remove_diacritics 2')")
    db.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance')")
    db.execute("INSERT INTO t VALUES (?)", (text,))
    return [row[0] for row in db.execute("SELECT term FROM v ORDER BY offset")]


@pytest.mark.parametrize("text", TEXTS)
def test_words_are_the_words_sqlite_indexes(text: str) -> None:
    assert words(text) == _sqlite_words(text)


def test_a_query_is_phrases_of_its_parts() -> None:
    assert terms("anna@acme.example 2.5.1 Müller") == [
        ["anna", "acme", "example"],
        ["2", "5", "1"],
        ["muller"],
    ]
    assert sum(map(len, terms("a.b.c.d.e.f.g.h i.j.k.l.m.n"))) == 12
