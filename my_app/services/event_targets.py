"""Where booking events go: an SNS topic and signed webhooks.

A target's `send()` returns when the target has the event and raises otherwise;
`name` identifies it in the attempt history, so a retry skips the targets that
already have the event.
"""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any, Protocol

from my_app.digests import hmac_sha256

USER_AGENT = "my_app-events/1.0"


class Target(Protocol):
    name: str

    def send(self, event_id: str, event_type: str, booking_id: int, body: bytes) -> None: ...


def signature(body: bytes, secret: str) -> str:
    """The `X-Signature` header value: `sha256=` and the hex HMAC-SHA256 of the body."""
    return "sha256=" + hmac_sha256(secret.encode(), body).hexdigest()


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    # A redirected POST would arrive as a body-less GET; a 3xx is a failed delivery.
    def redirect_request(self, *args, **kwargs):
        return None


class Webhook:
    def __init__(self, url: str, secret: str, timeout: float):
        self.name = _without_credentials(url)
        self.url, self.secret, self.timeout = url, secret, timeout
        self._opener = urllib.request.build_opener(_RefuseRedirects)

    def send(self, event_id: str, event_type: str, booking_id: int, body: bytes) -> None:
        request = urllib.request.Request(
            self.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
                "X-Event-Id": event_id,
                "X-Event-Type": event_type,
                "X-Signature": signature(body, self.secret),
            },
        )
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                response.read(4096)
        except urllib.error.HTTPError as exc:
            exc.close()
            raise DeliveryError(f"HTTP {exc.code}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise DeliveryError(f"no answer: {getattr(exc, 'reason', exc)}") from None


class SnsTopic:
    def __init__(self, topic_arn: str, region: str, timeout: float):
        self.name = f"sns:{topic_arn}"
        self.topic_arn, self.region, self.timeout = topic_arn, region, timeout
        self._client: Any = None

    def send(self, event_id: str, event_type: str, booking_id: int, body: bytes) -> None:
        message: dict[str, Any] = {
            "TopicArn": self.topic_arn,
            "Message": body.decode(),
            "MessageAttributes": {
                "event_type": {"DataType": "String", "StringValue": event_type},
                "event_id": {"DataType": "String", "StringValue": event_id},
            },
        }
        if self.topic_arn.endswith(".fifo"):  # FIFO topics: per-booking order, SNS-side dedup
            message["MessageGroupId"] = f"booking-{booking_id}"
            message["MessageDeduplicationId"] = event_id
        try:
            self.client.publish(**message)
        except Exception as exc:  # botocore's errors share no base class worth naming
            raise DeliveryError(f"SNS: {exc.__class__.__name__}: {exc}") from None

    @property
    def client(self):
        if self._client is None:
            import boto3  # only deployments that publish to SNS pay for the import
            from botocore.config import Config

            self._client = boto3.client(
                "sns",
                region_name=self.region,
                config=Config(
                    connect_timeout=self.timeout,
                    read_timeout=self.timeout,
                    retries={"max_attempts": 2, "mode": "standard"},
                ),
            )
        return self._client


def _without_credentials(url: str) -> str:
    """The URL as the attempt history and logs show it: no `user:password@`."""
    parts = urllib.parse.urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    return urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


class DeliveryError(Exception):
    """A target did not take the event; the message says why."""


def configured(config: Mapping[str, Any]) -> list[Target]:
    """The targets the configuration names: the SNS topic first, then each webhook."""
    timeout = config["WEBHOOK_TIMEOUT_SECONDS"]
    targets: list[Target] = []
    if config["EVENTS_SNS_TOPIC_ARN"]:
        targets.append(SnsTopic(config["EVENTS_SNS_TOPIC_ARN"], config["AWS_REGION"], timeout))
    targets += [Webhook(url, config["WEBHOOK_SECRET"], timeout) for url in config["WEBHOOK_URLS"]]
    return targets
