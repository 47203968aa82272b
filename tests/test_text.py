from app.text import extract_mentions, extract_topics, normalise_topic


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
