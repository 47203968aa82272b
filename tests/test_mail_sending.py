"""Sending mail for real: the outbox, the message, SMTP (a real aiosmtpd server on
127.0.0.1) and the Maildir."""

from __future__ import annotations

import asyncio
import os
import signal
import ssl
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette

from actions.mail import MAX_ATTEMPTS, queue_mail, retry_delay
from actions.unit_of_work import unit_of_work
from app.runner import JobRunner
from domain.mail import OutgoingMessage, build_message, message_id
from infra.mail_transport import TemporaryMailError, transport_for
from infra.settings import Settings, SettingsError, load_settings
from models import Job, MailStatus, OutgoingMail
from tests.mail import (
    SmtpServer,
    messages_in_maildir,
    self_signed_certificate,
    smtp_server_fixture,  # noqa: F401 (the smtp_server fixture)
    wait_until,
)

ROOT = Path(__file__).resolve().parent.parent
EXTRANET = str(Path(sys.executable).parent / "extranet")
SECRET = "s" * 40
DATE = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


# for the tests of messages, which need no database
PLAIN = load_settings({"EXTRANET_SECRET_KEY": SECRET, "EXTRANET_SMTP_URL": "maildir:///nowhere"})


def soon() -> datetime:
    """A moment when every job queued so far is due."""
    return datetime.now(UTC) + timedelta(seconds=1)


def notice(**overrides: Any) -> OutgoingMessage:
    fields: dict[str, Any] = {
        "to_address": "anna@acme.example",
        "template": "notice",
        "subject": "Your export is ready",
        "context": {"heading": "Ready", "paragraphs": ["It is ready."], "link": None},
    }
    fields.update(overrides)
    return OutgoingMessage(**fields)


async def queue(msg: OutgoingMessage) -> int:
    async with unit_of_work():
        return await queue_mail(msg)


def runner(settings: Settings, url: str) -> JobRunner:
    """A job runner of a process whose mail goes to ``url``."""
    return JobRunner(replace(settings, smtp_url=url), bus=None)


def text_of(message: EmailMessage, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    assert part is not None
    content = part.get_content()
    assert isinstance(content, str)
    return content


# The message ----------------------------------------------------------------------------


def test_a_message_has_both_parts_and_escapes_what_users_wrote_in_html() -> None:
    # given a heading someone typed
    typed = 'Q3 <script>alert("x")</script> & "more"'
    msg = notice(context={"heading": typed, "paragraphs": ["a < b"], "link": None})
    # when
    message = build_message(msg, PLAIN, "<abc@example.com>", date=DATE)
    # then the plain text shows it as typed and the HTML as text, never as markup
    assert message.get_content_type() == "multipart/alternative"
    assert typed in text_of(message, "plain")
    html = text_of(message, "html")
    assert "<script>" not in html
    assert "Q3 &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &#34;more&#34;" in html
    assert "a &lt; b" in html
    assert message["Message-ID"] == "<abc@example.com>"
    assert message["Subject"] == "Your export is ready"
    assert message["To"] == "anna@acme.example"
    assert message["Auto-Submitted"] == "auto-generated"


def test_a_template_missing_a_variable_is_an_error_not_an_empty_line() -> None:
    from jinja2 import UndefinedError

    with pytest.raises(UndefinedError, match="paragraphs"):
        build_message(notice(context={"heading": "x", "link": None}), PLAIN, "<a@b>")


def test_two_mails_of_one_thread_refer_to_the_same_root() -> None:
    # when two mails about the same project are built
    first = build_message(notice(thread_key="project-12"), PLAIN, "<one@x>")
    second = build_message(notice(thread_key="project-12"), PLAIN, "<two@x>")
    other = build_message(notice(thread_key="project-13"), PLAIN, "<three@x>")
    # then both refer to the same made-up root (and another project's to another)
    assert first["References"] == second["References"] == first["In-Reply-To"]
    assert first["References"].startswith("<thread.project-12@")
    assert other["References"] != first["References"]
    assert first["Message-ID"] != second["Message-ID"]


def test_a_category_mail_is_a_list_with_one_click_unsubscribe() -> None:
    url = "https://extranet.example.com/mail/unsubscribe/opaque-token"
    reply = "reply+signed-token@extranet.example.com"
    msg = notice(category="mentions", unsubscribe_url=url, reply_to=reply)
    message = build_message(msg, PLAIN, "<one@x>")
    # RFC 2369 / RFC 8058: exactly one HTTPS URI in angle brackets, and the POST marker
    assert message["List-Unsubscribe"] == f"<{url}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["List-Id"] == "mentions <mentions.localhost>"
    assert message["Reply-To"] == reply
    assert url in text_of(message, "plain")


def test_an_account_mail_is_no_list_and_cannot_be_unsubscribed() -> None:
    message = build_message(notice(), PLAIN, "<one@x>")
    for header in ("List-Id", "List-Unsubscribe", "List-Unsubscribe-Post", "References"):
        assert header not in message


def test_a_header_cannot_be_injected_through_the_subject() -> None:
    message = build_message(notice(subject="Hi\r\nBcc: all@example.com"), PLAIN, "<a@b>")
    assert "Bcc" not in message
    assert message["Subject"] == "Hi Bcc: all@example.com"


# Settings -------------------------------------------------------------------------------


def production(**env: str) -> dict[str, str]:
    return {
        "EXTRANET_ENV": "production",
        "DATABASE_URL": "postgres://app@db:5432/extranet",
        "EXTRANET_SECRET_KEY": SECRET,
        **env,
    }


def test_development_writes_mail_into_a_maildir_under_var() -> None:
    settings = load_settings({"EXTRANET_SECRET_KEY": SECRET})
    assert settings.mail_enabled
    assert settings.smtp_url.startswith("maildir:///")
    assert settings.smtp_url.endswith("/var/mail")


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({}, "EXTRANET_SMTP_URL"),
        ({"EXTRANET_SMTP_URL": "maildir:///srv/mail"}, "EXTRANET_SMTP_URL"),
        (
            {"EXTRANET_SMTP_URL": "smtp://relay:587", "EXTRANET_PUBLIC_URL": "https://x.example"},
            "EXTRANET_MAIL_FROM",
        ),
        (
            {"EXTRANET_SMTP_URL": "smtp://relay:587", "EXTRANET_MAIL_FROM": "x@example.com"},
            "EXTRANET_PUBLIC_URL",
        ),
    ],
)
def test_production_refuses_to_start_without_smtp_unless_mail_is_off(
    env: dict[str, str], variable: str
) -> None:
    with pytest.raises(SettingsError, match=variable):
        load_settings(production(**env))
    assert not load_settings(production(EXTRANET_MAIL="off", **env)).mail_enabled


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("EXTRANET_SMTP_URL", "imap://mail.example.com"),
        ("EXTRANET_SMTP_URL", "maildir://relative/path"),
        ("EXTRANET_MAIL_FROM", "not an address"),
        ("EXTRANET_PUBLIC_URL", "extranet.example.com"),
        ("EXTRANET_MAIL", "sometimes"),
        ("EXTRANET_SMTP_TIMEOUT", "0"),
    ],
)
def test_a_malformed_mail_setting_names_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        load_settings({"EXTRANET_SECRET_KEY": SECRET, name: value})


# The outbox -----------------------------------------------------------------------------


async def test_a_mail_is_recorded_only_if_its_cause_commits(app: Starlette) -> None:
    # when a mail is queued in a unit of work that commits, and one in a unit that fails
    kept = await queue(notice())

    async def queue_then_fail() -> None:
        async with unit_of_work():
            await queue_mail(notice(to_address="ben@acme.example"))
            raise LookupError

    with pytest.raises(LookupError):
        await queue_then_fail()
    # then only the first exists, queued
    [mail] = await OutgoingMail.all()
    assert (mail.id, mail.status) == (kept, MailStatus.QUEUED)


async def test_a_mail_that_could_never_be_sent_is_refused_when_queued(app: Starlette) -> None:
    for msg, problem in [
        (notice(template="no_such_mail"), "No mail template"),
        (notice(context={"when": object()}), "JSON"),
        (notice(to_address="anna at acme"), "Not a mail address"),
        (notice(unsubscribe_url="javascript:alert(1)"), "Not a web address"),
    ]:
        with pytest.raises(ValueError, match=problem):
            await queue(msg)
    assert await OutgoingMail.all().count() == 0


async def test_a_queued_mail_arrives_once_over_smtp(
    app: Starlette, settings: Settings, smtp_server: SmtpServer
) -> None:
    now = soon()
    # given a queued mail
    mail_id = await queue(notice(thread_key="project-12"))
    # when the jobs run, and run again later
    jobs = runner(settings, smtp_server.url)
    await jobs.run_due(now)
    await jobs.run_due(now + timedelta(hours=2))
    # then it arrived once, with the Message-ID fixed when it was queued
    [message] = await smtp_server.wait_for_messages(1)
    mail = await OutgoingMail.get(id=mail_id)
    assert (mail.status, mail.attempts, mail.sent_at) == (MailStatus.SENT, 1, now)
    assert message["Message-ID"] == message_id(mail.message_token, jobs.settings)
    assert smtp_server.envelopes == [("extranet@localhost", ["anna@acme.example"])]
    assert len(smtp_server.messages) == 1


async def test_a_mail_is_rendered_when_sent_not_when_queued(
    app: Starlette, settings: Settings, smtp_server: SmtpServer
) -> None:
    now = soon()
    mail_id = await queue(notice())
    # when the stored context changes before it is due (an edit meanwhile)
    async with unit_of_work():
        await OutgoingMail.filter(id=mail_id).update(
            context={"heading": "Fixed typo", "paragraphs": [], "link": None}
        )
    await runner(settings, smtp_server.url).run_due(now)
    [message] = await smtp_server.wait_for_messages(1)
    assert "Fixed typo" in text_of(message, "plain")


async def test_a_4xx_answer_is_tried_again_later_and_then_arrives(
    app: Starlette, settings: Settings, smtp_server: SmtpServer
) -> None:
    now = soon()
    # given a server that answers the first try with "try later"
    smtp_server.refuse_next("451 4.3.0 Mailbox busy, try later")
    mail_id = await queue(notice())
    jobs = runner(settings, smtp_server.url)
    # when the job runs, then nothing arrived and the mail waits
    await jobs.run_due(now)
    mail = await OutgoingMail.get(id=mail_id)
    assert mail.status == MailStatus.QUEUED
    assert "451" in (mail.last_error or "")
    assert smtp_server.messages == []
    # it is not retried before its delay, and is after
    assert await jobs.run_due(now + retry_delay(1) - timedelta(seconds=1)) == 0
    await jobs.run_due(now + retry_delay(1))
    await smtp_server.wait_for_messages(1)
    mail = await OutgoingMail.get(id=mail_id)
    assert (mail.status, mail.attempts) == (MailStatus.SENT, 2)
    assert mail.last_error is None


async def test_a_5xx_answer_fails_the_mail_for_good(
    app: Starlette, settings: Settings, smtp_server: SmtpServer
) -> None:
    now = soon()
    smtp_server.refuse_next("550 5.1.1 No such user")
    mail_id = await queue(notice())
    jobs = runner(settings, smtp_server.url)
    await jobs.run_due(now)
    # then it is FAILED with the server's answer, and never tried again
    assert await jobs.run_due(now + timedelta(days=1)) == 0
    mail = await OutgoingMail.get(id=mail_id)
    assert mail.status == MailStatus.FAILED
    assert "550 5.1.1 No such user" in (mail.last_error or "")
    assert smtp_server.messages == []


async def test_a_mail_server_that_stays_away_fails_the_mail_after_its_attempts(
    app: Starlette, settings: Settings
) -> None:
    now = soon()
    # given no mail server at all
    mail_id = await queue(notice())
    jobs = runner(replace(settings, smtp_timeout=2), "smtp://127.0.0.1:9")
    # when the first attempt fails, the mail waits for the next
    await jobs.run_due(now)
    mail = await OutgoingMail.get(id=mail_id)
    assert (mail.status, mail.attempts) == (MailStatus.QUEUED, 1)
    assert "127.0.0.1:9" in (mail.last_error or "")
    # and when the last one fails, it is FAILED and not tried again
    async with unit_of_work():
        await Job.filter(kind="mail.send").update(attempts=MAX_ATTEMPTS - 1)
    await jobs.run_due(now + timedelta(days=1))
    mail = await OutgoingMail.get(id=mail_id)
    assert mail.status == MailStatus.FAILED
    assert await jobs.run_due(now + timedelta(days=2)) == 0


async def test_a_queued_mail_survives_a_restart(
    app: Starlette, settings: Settings, smtp_server: SmtpServer
) -> None:
    now = soon()
    # given a mail queued while one process ran, which stopped before sending it
    first = runner(settings, smtp_server.url)
    await first.start()
    await first.stop()
    mail_id = await queue(notice())
    # when another process starts
    await runner(settings, smtp_server.url).run_due(now)
    # then the mail arrives
    await smtp_server.wait_for_messages(1)
    assert (await OutgoingMail.get(id=mail_id)).status == MailStatus.SENT


async def test_mail_off_sends_nothing(
    app: Starlette, settings: Settings, smtp_server: SmtpServer
) -> None:
    now = soon()
    mail_id = await queue(notice())
    await JobRunner(
        replace(settings, smtp_url=smtp_server.url, mail_enabled=False), bus=None
    ).run_due(now)
    mail = await OutgoingMail.get(id=mail_id)
    assert mail.status == MailStatus.FAILED
    assert "EXTRANET_MAIL" in (mail.last_error or "")
    assert smtp_server.sessions_seen == 0


# The Maildir ----------------------------------------------------------------------------


async def test_the_maildir_holds_each_mail_as_a_readable_file(
    app: Starlette, settings: Settings, tmp_path: Path
) -> None:
    now = soon()
    maildir = tmp_path / "mail"
    await queue(notice(context={"heading": "Grüße", "paragraphs": ["Zürich"], "link": None}))
    await queue(notice(to_address="ben@acme.example"))
    await runner(settings, f"maildir://{maildir}").run_due(now)
    # then each is a file in new/, which a mail reader opens
    assert len(list((maildir / "new").iterdir())) == 2
    first, second = sorted(messages_in_maildir(maildir), key=lambda m: str(m["To"]))
    assert "Grüße" in text_of(first, "plain")
    assert str(second["To"]) == "ben@acme.example"


async def test_a_maildir_mail_found_half_sent_is_not_written_twice(
    app: Starlette, settings: Settings, tmp_path: Path
) -> None:
    now = soon()
    # given a mail whose sender stopped after writing it, before recording that it did
    maildir = tmp_path / "mail"
    mail_id = await queue(notice())
    mail = await OutgoingMail.get(id=mail_id)
    jobs = runner(settings, f"maildir://{maildir}")
    mid = message_id(mail.message_token, jobs.settings)
    transport = transport_for(jobs.settings.smtp_url, timeout=5)

    async def nothing() -> None:
        pass

    await transport.send(build_message(notice(), jobs.settings, mid), handing_over=nothing)
    async with unit_of_work():
        await OutgoingMail.filter(id=mail_id).update(status=MailStatus.SENDING, handed_over_at=now)
    # when the job runs
    await jobs.run_due(now)
    # then the mail counts as sent, and the Maildir holds it once
    assert len(messages_in_maildir(maildir)) == 1
    assert (await OutgoingMail.get(id=mail_id)).status == MailStatus.SENT


async def test_over_smtp_a_mail_found_mid_message_goes_again_with_the_same_message_id(
    app: Starlette, settings: Settings, smtp_server: SmtpServer
) -> None:
    now = soon()
    # given a mail whose sender stopped after the message began to leave (SMTP cannot
    # tell whether the server took it)
    mail_id = await queue(notice())
    async with unit_of_work():
        await OutgoingMail.filter(id=mail_id).update(status=MailStatus.SENDING, handed_over_at=now)
    # when the job runs
    jobs = runner(settings, smtp_server.url)
    await jobs.run_due(now)
    # then it is sent again, with the Message-ID it was queued with
    [message] = await smtp_server.wait_for_messages(1)
    mail = await OutgoingMail.get(id=mail_id)
    assert mail.status == MailStatus.SENT
    assert message["Message-ID"] == message_id(mail.message_token, jobs.settings)


# TLS ------------------------------------------------------------------------------------


async def test_starttls_is_used_the_certificate_checked_and_the_login_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a server that requires STARTTLS and a login, with a certificate of a CA that
    # only the test knows
    cert, key = self_signed_certificate(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server = SmtpServer(tls_context=context, credentials=("anna@acme", "p:ss w"))
    server.start()
    url = f"smtp://anna%40acme:p%3Ass%20w@127.0.0.1:{server.port}"
    message = build_message(notice(), PLAIN, "<tls@example.com>")

    async def nothing() -> None:
        pass

    try:
        # when the sender does not trust the certificate, nothing is sent
        with pytest.raises(TemporaryMailError):
            await transport_for(url, timeout=5).send(message, handing_over=nothing)
        assert server.logins == []
        # and when it does, it logs in over TLS and the message goes
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
        await transport_for(url, timeout=5).send(message, handing_over=nothing)
        await server.wait_for_messages(1)
        assert server.tls == [True]
        assert server.logins == ["anna@acme"]
    finally:
        server.stop()


async def test_a_password_is_never_sent_to_a_server_without_starttls(
    smtp_server: SmtpServer,
) -> None:
    message = build_message(notice(), PLAIN, "<plain@example.com>")

    async def nothing() -> None:
        pass

    url = f"smtp://anna:secret@127.0.0.1:{smtp_server.port}"
    with pytest.raises(TemporaryMailError, match="STARTTLS"):
        await transport_for(url, timeout=5).send(message, handing_over=nothing)
    assert smtp_server.messages == []


# A sender killed mid-mail -----------------------------------------------------------------


async def test_a_sender_killed_between_its_claim_and_the_message_sends_it_once(
    app: Starlette, settings: Settings, smtp_server: SmtpServer
) -> None:
    # given an `extranet worker` that claimed a mail and waits at the server's MAIL FROM
    smtp_server.hold_sessions()
    mail_id = await queue(notice())
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "BROADCAST_URL": "memory://",
        "EXTRANET_SECRET_KEY": settings.secret_key,
        "EXTRANET_ENV": "development",
        "EXTRANET_SMTP_URL": smtp_server.url,
        "EXTRANET_JOBS_POLL_INTERVAL": "0.1",
    }
    worker = await asyncio.create_subprocess_exec(
        EXTRANET,
        "worker",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        await smtp_server.wait_for_held_session()
        mail = await OutgoingMail.get(id=mail_id)
        assert (mail.status, mail.handed_over_at) == (MailStatus.SENDING, None)
        # when it is killed there, and its lease runs out
        worker.send_signal(signal.SIGKILL)
        await asyncio.wait_for(worker.wait(), 10)
    finally:
        if worker.returncode is None:
            worker.kill()
            await worker.wait()
    smtp_server.release()
    later = datetime.now(UTC) + timedelta(seconds=settings.jobs_lease + 1)
    await runner(settings, smtp_server.url).run_due(later)
    # then the mail arrives exactly once
    await smtp_server.wait_for_messages(1)
    mail = await OutgoingMail.get(id=mail_id)
    assert (mail.status, mail.attempts) == (MailStatus.SENT, 2)
    await wait_until(lambda: smtp_server.sessions_seen >= 2, "the second session")
    assert len(smtp_server.messages) == 1
