import pytest

from infra.settings import SettingsError, load_settings

SECRET = "s" * 40


def test_defaults_give_an_embedded_setup() -> None:
    # when
    settings = load_settings({"EXTRANET_SECRET_KEY": SECRET})
    # then
    assert settings.environment == "development"
    assert settings.database_url.startswith("sqlite://")
    assert settings.database_url.endswith("var/extranet.sqlite3")
    assert settings.broadcast_url == "memory://"
    assert settings.graphiql is True
    assert settings.access_token_ttl == 900


def test_production_takes_its_urls_from_the_environment() -> None:
    settings = load_settings(
        {
            "EXTRANET_ENV": "production",
            "DATABASE_URL": "postgres://app@db:5432/extranet",
            "BROADCAST_URL": "redis://cache:6379/0",
            "EXTRANET_SECRET_KEY": SECRET,
            "EXTRANET_SMTP_URL": "smtp://relay.example.com:587",
            "EXTRANET_MAIL_FROM": "Extranet <extranet@example.com>",
            "EXTRANET_PUBLIC_URL": "https://extranet.example.com",
        }
    )
    assert settings.is_production
    assert settings.graphiql is False
    assert settings.broadcast_url == "redis://cache:6379/0"


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"DATABASE_URL": "mysql://x/y"}, "DATABASE_URL"),
        ({"DATABASE_URL": "not a url"}, "DATABASE_URL"),
        ({"BROADCAST_URL": "kafka://broker"}, "BROADCAST_URL"),
        ({"EXTRANET_ENV": "staging"}, "EXTRANET_ENV"),
        ({"EXTRANET_ACCESS_TOKEN_TTL": "fifteen"}, "EXTRANET_ACCESS_TOKEN_TTL"),
        ({"EXTRANET_ACCESS_TOKEN_TTL": "5"}, "EXTRANET_ACCESS_TOKEN_TTL"),
        ({"EXTRANET_REFRESH_TOKEN_TTL": "-1"}, "EXTRANET_REFRESH_TOKEN_TTL"),
        ({"EXTRANET_WS_INIT_TIMEOUT": "30"}, "EXTRANET_WS_INIT_TIMEOUT"),
        ({"EXTRANET_ATTACHMENT_MAX_BYTES": "25MB"}, "EXTRANET_ATTACHMENT_MAX_BYTES"),
        ({"EXTRANET_ATTACHMENT_MAX_BYTES": "0"}, "EXTRANET_ATTACHMENT_MAX_BYTES"),
        ({"EXTRANET_MAX_QUERY_DEPTH": "deep"}, "EXTRANET_MAX_QUERY_DEPTH"),
        ({"EXTRANET_MAX_ALIASES": "0"}, "EXTRANET_MAX_ALIASES"),
        ({"EXTRANET_MAX_TOKENS": "-5"}, "EXTRANET_MAX_TOKENS"),
        ({"EXTRANET_MAX_DOCUMENT_BYTES": "20KB"}, "EXTRANET_MAX_DOCUMENT_BYTES"),
        ({"EXTRANET_MAX_DIRECTIVES": "many"}, "EXTRANET_MAX_DIRECTIVES"),
        ({"EXTRANET_MAX_QUERY_COST": "0"}, "EXTRANET_MAX_QUERY_COST"),
        ({"EXTRANET_WS_ALLOWED_ORIGINS": "partner.example"}, "EXTRANET_WS_ALLOWED_ORIGINS"),
        ({"EXTRANET_WS_MAX_SUBSCRIPTIONS": "0"}, "EXTRANET_WS_MAX_SUBSCRIPTIONS"),
        ({"EXTRANET_WS_MAX_CONNECTIONS_PER_USER": "x"}, "EXTRANET_WS_MAX_CONNECTIONS_PER_USER"),
        ({"EXTRANET_WS_PER_MESSAGE_DEFLATE": "yes"}, "EXTRANET_WS_PER_MESSAGE_DEFLATE"),
        ({"EXTRANET_SECRET_KEY": "short"}, "EXTRANET_SECRET_KEY"),
        (
            {"EXTRANET_ENV": "production", "DATABASE_URL": "postgres://db/x"},
            "EXTRANET_SECRET_KEY",
        ),
        ({"EXTRANET_ENV": "production"}, "DATABASE_URL"),
    ],
)
def test_a_bad_setting_stops_start_up_naming_the_variable(
    env: dict[str, str], variable: str
) -> None:
    full = {"EXTRANET_SECRET_KEY": SECRET, **env}
    if "EXTRANET_SECRET_KEY" in env or env.get("EXTRANET_ENV") == "production":
        full = dict(env)
    with pytest.raises(SettingsError, match=variable):
        load_settings(full)


def test_websocket_compression_is_off_unless_switched_on() -> None:
    # permessage-deflate costs each socket its zlib state (benchmarks/README.md)
    assert load_settings({"EXTRANET_SECRET_KEY": SECRET}).ws_per_message_deflate is False
    switched = {"EXTRANET_SECRET_KEY": SECRET, "EXTRANET_WS_PER_MESSAGE_DEFLATE": "ON"}
    assert load_settings(switched).ws_per_message_deflate is True
