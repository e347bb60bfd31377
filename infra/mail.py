"""The SMTP client: plain-text e-mail handed to the server `CREDITBANK_SMTP_URL` names
(smtp:// with STARTTLS when the server offers it, smtps:// for TLS from the start)."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import unquote, urlsplit

from infra.errors import MailFailed
from infra.settings import Settings

TIMEOUT_SECONDS = 10.0
PORTS = {"smtp": 25, "smtps": 465}


@dataclass(frozen=True)
class Mailer:
    """Where e-mail goes and whom it is from."""

    host: str
    port: int
    tls: bool
    sender: str
    user: str = ""
    password: str = field(default="", repr=False)
    timeout: float = TIMEOUT_SECONDS

    @classmethod
    def of(cls, settings: Settings) -> Mailer | None:
        """The mailer the settings configure, or None when e-mail is off."""
        if not settings.smtp_url:
            return None
        parts = urlsplit(settings.smtp_url)
        return cls(host=parts.hostname or "", port=parts.port or PORTS[parts.scheme],
                   tls=parts.scheme == "smtps", sender=settings.mail_from or
                   f"creditbank@{parts.hostname}", user=unquote(parts.username or ""),
                   password=unquote(parts.password or ""))

    def message(self, to: str, subject: str, body: str) -> EmailMessage:
        """A plain-text message from the bank to one address."""
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        message.set_content(body)
        return message

    def send(self, message: EmailMessage) -> None:
        """Hand a message to the server; `MailFailed` (permanent or not) when it was not taken."""
        try:
            with self._connect() as client:
                if not self.tls and client.has_extn("starttls"):
                    client.starttls(context=ssl.create_default_context())
                    client.ehlo()
                if self.user:
                    client.login(self.user, self.password)
                client.send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _text in error.recipients.values()]
            raise MailFailed("the server refused the recipient",
                             permanent=all(code >= 500 for code in codes)) from None
        except smtplib.SMTPResponseException as error:
            raise MailFailed(f"the server answered {error.smtp_code}",
                             permanent=error.smtp_code >= 500) from None
        except (smtplib.SMTPException, OSError) as error:
            raise MailFailed(f"the server could not be reached: {type(error).__name__}") from None

    def _connect(self) -> smtplib.SMTP:
        if self.tls:
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout,
                                    context=ssl.create_default_context())
        return smtplib.SMTP(self.host, self.port, timeout=self.timeout)
