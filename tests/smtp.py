"""A real SMTP server (aiosmtpd) for the suite: mail sent by the app lands in `Mailbox`."""

from __future__ import annotations

import email
import re
import socket
import threading
from email.message import Message
from email.policy import default as default_policy

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


class Mailbox:
    def __init__(self) -> None:
        self.port = 0
        self._lock = threading.Lock()
        self.messages: list[Message] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.content if isinstance(envelope.content, bytes) else b""
        message = email.message_from_bytes(content, policy=default_policy)
        with self._lock:
            self.messages.append(message)
        return "250 OK"

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()

    def to(self, address: str) -> list[Message]:
        with self._lock:
            return [m for m in self.messages if address.lower() in str(m["To"]).lower()]

    def last_link(self, address: str, path: str) -> str:
        """The last link containing `path` in mail sent to `address`."""
        for message in reversed(self.to(address)):
            body = message.get_body(preferencelist=("plain",))
            text = body.get_content() if body is not None else ""
            found = re.findall(rf"https?://\S*{re.escape(path)}\S*", text)
            if found:
                return str(found[-1])
        raise AssertionError(f"no mail to {address} with a link to {path}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start() -> tuple[Controller, Mailbox]:
    mailbox = Mailbox()
    mailbox.port = _free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=mailbox.port)
    controller.start()
    return controller, mailbox


__all__ = ["Mailbox", "start"]
