"""Channels carry a notification out of the platform. E-mail is the one there is; a later SMS
or webhook channel is one more class registered in ``CHANNELS``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.template import Context, engines
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from governance.notifications import registry

UNSUBSCRIBE_SALT = "gongzhi.notifications.unsubscribe"
UNSUBSCRIBE_MAX_AGE = 60 * 24 * 3600


@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    html: str
    headers: dict[str, str]


class Channel(Protocol):
    code: str

    def send(self, *, recipient, message: Message) -> None: ...


def render_text(template_name: str, context: dict) -> str:
    """A plain-text template, without HTML escaping (an "&" in a name stays an "&")."""
    template = engines["django"].engine.get_template(template_name)
    return template.render(Context(context, autoescape=False))


def absolute(path: str) -> str:
    if not path or path.startswith(("http://", "https://")):
        return path
    return settings.SITE_URL.rstrip("/") + path


def unsubscribe_token(*, user_id: int, kind: str, event_type: str = "") -> str:
    """A signed token that turns one event type (``kind="type"``) or digests off."""
    return signing.dumps({"u": user_id, "k": kind, "t": event_type}, salt=UNSUBSCRIBE_SALT)


def read_unsubscribe_token(token: str) -> dict:
    """The token's content; raises ``signing.BadSignature`` (or its subclass for an expired
    token) when it was tampered with or is too old."""
    return signing.loads(token, salt=UNSUBSCRIBE_SALT, max_age=UNSUBSCRIBE_MAX_AGE)


def _footer_context(recipient, *, kind: str, event_type: str = "") -> dict:
    token = unsubscribe_token(user_id=recipient.pk, kind=kind, event_type=event_type)
    return {
        "recipient": recipient,
        "unsubscribe_url": absolute(reverse("notifications:unsubscribe", args=[token])),
        "preferences_url": absolute(reverse("notifications:preferences")),
        "site_url": settings.SITE_URL,
    }


def _headers(unsubscribe_url: str, message_id: str) -> dict[str, str]:
    return {
        # RFC 8058 one-click: mail clients POST to the URL without showing a page.
        "List-Unsubscribe": f"<{unsubscribe_url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        # Stable per notification, so a receiver can collapse a duplicate after a crash.
        "Message-ID": message_id,
        "Auto-Submitted": "auto-generated",
    }


def _domain() -> str:
    return settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip("> ") or "gongzhi.local"


def render_notification(notification, recipient) -> Message:
    event_type = registry.get(notification.event_type)
    folder = event_type.template_dir
    with translation.override(recipient.language or settings.LANGUAGE_CODE):
        context = {
            **notification.payload,
            **_footer_context(recipient, kind="type", event_type=event_type.code),
            "event_label": str(event_type.label),
            "url": absolute(notification.url),
            "security": event_type.security,
        }
        subject = " ".join(render_text(f"{folder}/subject.txt", context).split())
        text = render_text(
            "notifications/email/base.txt",
            {**context, "body": render_text(f"{folder}/body.txt", context)},
        )
        html = render_to_string(
            "notifications/email/base.html",
            {**context, "body": render_to_string(f"{folder}/body.html", context)},
        )
    message_id = f"<notification.{notification.pk}.email@{_domain()}>"
    return Message(subject, text, html, _headers(context["unsubscribe_url"], message_id))


def render_line(notification, language: str) -> str:
    """One line for the inbox and digests."""
    event_type = registry.get(notification.event_type)
    with translation.override(language):
        return " ".join(
            render_text(f"{event_type.template_dir}/line.txt", notification.payload).split()
        )


def render_digest(digest, recipient, groups: list[dict]) -> Message:
    with translation.override(recipient.language or settings.LANGUAGE_CODE):
        context = {
            **_footer_context(recipient, kind="digest"),
            "digest": digest,
            "groups": groups,
            "total": sum(group["count"] for group in groups),
            "inbox_url": absolute(reverse("notifications:inbox")),
        }
        subject = " ".join(render_text("notifications/digest/subject.txt", context).split())
        text = render_text(
            "notifications/email/base.txt",
            {**context, "body": render_text("notifications/digest/body.txt", context)},
        )
        html = render_to_string(
            "notifications/email/base.html",
            {**context, "body": render_to_string("notifications/digest/body.html", context)},
        )
    message_id = f"<digest.{digest.pk}.email@{_domain()}>"
    return Message(subject, text, html, _headers(context["unsubscribe_url"], message_id))


class EmailChannel:
    code = "email"

    def send(self, *, recipient, message: Message) -> None:
        email = EmailMultiAlternatives(
            subject=message.subject,
            body=message.text,
            to=[recipient.email],
            headers=message.headers,
        )
        email.attach_alternative(message.html, "text/html")
        email.send(fail_silently=False)


CHANNELS: dict[str, Channel] = {EmailChannel.code: EmailChannel()}
