"""Outbound channels (SMS, calls, email) behind one small interface:
`channel_send(channel=, to=, subject=, body=)`. Which class serves a channel is the
OUTBOUND_CHANNELS setting; the default logs (SMS, calls) or uses Django's email backend."""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.utils.module_loading import import_string

logger = logging.getLogger("aftersales.outbound")


class LogChannel:
    """Writes the message to the log: the default until a real SMS/voice provider is wired in."""

    def __init__(self, channel: str):
        self.channel = channel

    def send(self, *, to: str, subject: str, body: str) -> None:
        logger.info("outbound %s to %s: %s %s", self.channel, to, subject, body)


class DjangoEmailChannel:
    def __init__(self, channel: str):
        self.channel = channel

    def send(self, *, to: str, subject: str, body: str) -> None:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [to])


def channel_for(channel: str):
    path = getattr(settings, "OUTBOUND_CHANNELS", {}).get(
        channel, "notifications.channels.LogChannel"
    )
    return import_string(path)(channel)


def channel_send(*, channel: str, to: str, subject: str = "", body: str) -> None:
    channel_for(channel).send(to=to, subject=subject, body=body)
