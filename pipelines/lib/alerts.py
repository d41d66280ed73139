"""Run-failure alerts: one JSON line in an alert log, and optionally a webhook POST and an e-mail.

Dagster-free. An alert carries only operational facts — job name, run id, failed step keys, error class
names, when — never an error message, a row or a value, so no personal data can leak into it whatever an
exception says. Webhook and e-mail are sent only when configured in the environment:

- `POPBASE_ALERT_LOG`       the alert log (default `$DAGSTER_HOME/alerts/alerts.log`, else `var/alerts.log`)
- `POPBASE_ALERT_WEBHOOK`   an http(s) URL that receives the alert as a JSON POST
- `POPBASE_ALERT_SMTP_HOST`, `POPBASE_ALERT_SMTP_PORT` (default 587), `POPBASE_ALERT_SMTP_USER`,
  `POPBASE_ALERT_SMTP_PASSWORD`, `POPBASE_ALERT_SMTP_FROM`, `POPBASE_ALERT_SMTP_TO` (comma-separated),
  `POPBASE_ALERT_SMTP_STARTTLS` (default `true`)

A delivery channel that fails (webhook down, SMTP refused) never hides the alert: the log line is written
first, and each channel's outcome is returned to the caller to log.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import smtplib
import urllib.request
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from email.message import EmailMessage
from pathlib import Path

from pipelines.feeds import PROJECT_ROOT

WEBHOOK_TIMEOUT_SECONDS = 10
SMTP_TIMEOUT_SECONDS = 20


@dataclass(frozen=True)
class Alert:
    """A failed run, described without personal data."""

    job: str
    run_id: str
    failed_steps: tuple[str, ...]
    error_classes: tuple[str, ...]
    kind: str = "run_failure"
    location: str = "popbase"
    at: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))
    tags: Mapping[str, str] = field(default_factory=dict)

    def to_json(self) -> str:
        """One line of JSON (UTF-8 text, keys sorted)."""
        data = asdict(self)
        data["failed_steps"] = list(self.failed_steps)
        data["error_classes"] = list(self.error_classes)
        data["tags"] = dict(self.tags)
        return json.dumps(data, ensure_ascii=False, sort_keys=True)

    @property
    def subject(self) -> str:
        """A one-line summary for e-mail subjects and chat messages."""
        steps = ", ".join(self.failed_steps) or "no step (the run failed before or after its steps)"
        return f"[popbase] {self.job} failed ({steps})"


@dataclass(frozen=True)
class SmtpConfig:
    """Where and how to send alert e-mail."""

    host: str
    port: int
    sender: str
    recipients: tuple[str, ...]
    user: str = ""
    password: str = ""
    starttls: bool = True


@dataclass(frozen=True)
class AlertConfig:
    """Where alerts go; built from the environment by `alert_config`."""

    log_path: Path
    webhook_url: str = ""
    smtp: SmtpConfig | None = None


def default_log_path(env: Mapping[str, str]) -> Path:
    """`POPBASE_ALERT_LOG`, else `$DAGSTER_HOME/alerts/alerts.log`, else the project's `var/alerts.log`."""
    if env.get("POPBASE_ALERT_LOG"):
        return Path(env["POPBASE_ALERT_LOG"])
    if env.get("DAGSTER_HOME"):
        return Path(env["DAGSTER_HOME"]) / "alerts" / "alerts.log"
    return PROJECT_ROOT / "var" / "alerts.log"


def alert_config(env: Mapping[str, str] | None = None) -> AlertConfig:
    """The alert channels configured in the environment (the log always; webhook and SMTP when set)."""
    env = dict(os.environ if env is None else env)
    smtp = None
    host = env.get("POPBASE_ALERT_SMTP_HOST", "")
    recipients = tuple(a.strip() for a in env.get("POPBASE_ALERT_SMTP_TO", "").split(",") if a.strip())
    if host and recipients:
        smtp = SmtpConfig(
            host=host,
            port=int(env.get("POPBASE_ALERT_SMTP_PORT") or 587),
            sender=env.get("POPBASE_ALERT_SMTP_FROM") or f"popbase@{host}",
            recipients=recipients,
            user=env.get("POPBASE_ALERT_SMTP_USER", ""),
            password=env.get("POPBASE_ALERT_SMTP_PASSWORD", ""),
            starttls=(env.get("POPBASE_ALERT_SMTP_STARTTLS") or "true").lower() not in ("0", "false", "no"),
        )
    return AlertConfig(default_log_path(env), env.get("POPBASE_ALERT_WEBHOOK", ""), smtp)


def append_alert(alert: Alert, path: Path) -> None:
    """Append the alert as one JSON line; an exclusive lock keeps lines whole when two sensors write."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            fh.write(alert.to_json() + "\n")
            fh.flush()
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def post_webhook(alert: Alert, url: str) -> int:
    """POST the alert as JSON (with a `text` line for chat webhooks); returns the HTTP status."""
    if not url.startswith(("https://", "http://")):
        raise ValueError("POPBASE_ALERT_WEBHOOK must be an http(s) URL")
    body = json.dumps({"text": alert.subject, "alert": json.loads(alert.to_json())}, ensure_ascii=False)
    request = urllib.request.Request(
        url, data=body.encode("utf-8"), headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=WEBHOOK_TIMEOUT_SECONDS) as response:  # the scheme is checked above
        return int(response.status)


def send_email(alert: Alert, smtp: SmtpConfig) -> None:
    """Send the alert as a plain-text e-mail to the configured recipients."""
    message = EmailMessage()
    message["Subject"] = alert.subject
    message["From"] = smtp.sender
    message["To"] = ", ".join(smtp.recipients)
    message.set_content(
        "A popbase run failed. Open the run in the Dagster UI for the full log.\n\n"
        + json.dumps(json.loads(alert.to_json()), ensure_ascii=False, indent=2)
    )
    with smtplib.SMTP(smtp.host, smtp.port, timeout=SMTP_TIMEOUT_SECONDS) as client:
        if smtp.starttls:
            client.starttls()
        if smtp.user:
            client.login(smtp.user, smtp.password)
        client.send_message(message)


def dispatch(alert: Alert, config: AlertConfig) -> dict[str, str]:
    """Write the log line, then try each configured channel; returns channel → `ok` or the error class."""
    append_alert(alert, config.log_path)
    outcome = {"log": "ok"}
    if config.webhook_url:
        try:
            outcome["webhook"] = f"ok (HTTP {post_webhook(alert, config.webhook_url)})"
        except Exception as exc:  # a channel failing must not hide the alert
            outcome["webhook"] = exc.__class__.__name__
    if config.smtp is not None:
        try:
            send_email(alert, config.smtp)
            outcome["email"] = "ok"
        except Exception as exc:
            outcome["email"] = exc.__class__.__name__
    return outcome
