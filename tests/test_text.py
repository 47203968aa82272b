from domain.text import extract_mentions, extract_topics, normalise_topic


def test_mentions_are_distinct_lower_case_handles_in_order() -> None:
    text = "Thanks @Anna.Schmidt and @max, cc @anna.schmidt."
    assert extract_mentions(text) == ["anna.schmidt", "max"]


def test_email_addresses_and_code_are_not_mentions() -> None:
    assert extract_mentions("write to max@acme.example or `@root` or\n```\n@admin\n```") == []


def test_topics_are_distinct_lower_case_names() -> None:
    assert extract_topics("#Launch plan, #q3-budget and #launch again; #über") == [
        "launch",
        "q3-budget",
        "über",
    ]


def test_numbers_anchors_and_entities_are_not_topics() -> None:
    assert extract_topics("issue #42, see https://x.example/#intro and &#39;") == []


def test_topic_names_are_normalised() -> None:
    assert normalise_topic("#Launch") == "launch"
    assert normalise_topic("not a topic") is None


def test_prose_in_every_block_counts() -> None:
    text = (
        "# Plan @max #roadmap\n\n- item @anna #q3\n\n> quote @sam\n\n"
        "| a | b |\n|---|---|\n| @stan | #table |\n\n~~x @gina~~ _@olivia_"
    )
    assert extract_mentions(text) == ["max", "anna", "sam", "stan", "gina", "olivia"]
    assert extract_topics(text) == ["roadmap", "q3", "table"]


def test_a_topic_is_a_whole_word_in_any_script() -> None:
    assert extract_topics("#cafe\u0301 #क्षत्रिय #Straße #東京 #naïve_plan-2") == [
        "café",
        "क्षत्रिय",
        "strasse",
        "東京",
        "naïve_plan-2",
    ]
    assert extract_topics("#" + "a" * 65) == []  # longer than a name may be: not cut short
