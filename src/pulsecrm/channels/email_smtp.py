"""E-mail over SMTP (stdlib ``smtplib``): MIME with a UTF-8 subject, RFC 8058 one-click headers.

``Message-ID`` is built from the PulseCRM message id, so a bounce, a
complaint or a duplicate can be traced to exactly one ``message`` row.
SMTP servers do not drop a second copy of a Message-ID, so this adapter is
*not* idempotent: the send pipeline never retries an SMTP send whose
outcome is unknown (see ``docs/sending.md``).
"""

from __future__ import annotations

import smtplib
import ssl
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr

from pulsecrm.channels.base import (
    OutboundMessage,
    PermanentError,
    ProviderResult,
    RetryableError,
)
from pulsecrm.settings import Settings


def one_click_headers(unsubscribe_url: str, mailto: str | None = None) -> dict[str, str]:
    """``List-Unsubscribe`` + ``List-Unsubscribe-Post`` (RFC 8058): an HTTPS URI for one-click."""
    targets = [f"<{unsubscribe_url}>"] + (
        [f"<mailto:{mailto}?subject=unsubscribe>"] if mailto else []
    )
    return {
        "List-Unsubscribe": ", ".join(targets),
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


class SmtpAdapter:
    provider = "smtp"
    channel = "email"
    idempotent = False

    def __init__(self, settings: Settings) -> None:
        self.host = settings.smtp_host
        self.port = settings.smtp_port
        self.username = settings.smtp_username
        self.password = (
            settings.smtp_password.get_secret_value() if settings.smtp_password else None
        )
        self.starttls = settings.smtp_starttls
        self.sender = settings.smtp_from
        self.timeout = settings.smtp_timeout_s
        self.rate_per_s = settings.smtp_rate_per_s
        self.domain = parseaddr(self.sender)[1].rpartition("@")[2] or "pulsecrm.invalid"

    def build(self, message: OutboundMessage) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = formataddr((message.sender_name or "", self.sender))
        mail["To"] = message.to
        mail["Subject"] = message.subject or ""
        mail["Date"] = format_datetime(datetime.now(UTC))
        mail["Message-ID"] = f"<{message.message_id}@{self.domain}>"
        headers = dict(message.headers)
        if message.unsubscribe_url:
            headers.update(one_click_headers(message.unsubscribe_url))
        for name, value in headers.items():
            if name.lower() in {"from", "to", "subject", "date", "message-id"}:
                continue
            del mail[name]
            mail[name] = value
        mail.set_content(message.text, charset="utf-8")
        if message.html:
            mail.add_alternative(message.html, subtype="html", charset="utf-8")
        return mail

    def send(self, message: OutboundMessage) -> ProviderResult:
        mail = self.build(message)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.username and self.password:
                    smtp.login(self.username, self.password)
                refused = smtp.send_message(mail, from_addr=self.sender, to_addrs=[message.to])
        except smtplib.SMTPRecipientsRefused as exc:
            code = next(iter(exc.recipients.values()))[0] if exc.recipients else 550
            raise _classify(code, "recipient refused") from None
        except smtplib.SMTPResponseException as exc:
            raise _classify(exc.smtp_code, "server refused") from None
        except (smtplib.SMTPException, OSError) as exc:
            raise RetryableError("smtp_unavailable", type(exc).__name__) from None
        if refused:
            code = next(iter(refused.values()))[0]
            raise _classify(code, "recipient refused")
        return ProviderResult(self.provider, str(mail["Message-ID"]))


def _classify(code: int, what: str) -> RetryableError | PermanentError:
    if 400 <= code < 500:
        return RetryableError(f"smtp_{code}", what)
    return PermanentError(f"smtp_{code}", what)
