"""Deadline rush: 1,000 applicants submit in the last minute before a challenge closes.

The plan (LOAD_PLAN) names the challenge's deadline (epoch seconds), the start of the rush and,
for each applicant, its draft application, its user and the moment it clicks submit: spread
over the last 60 seconds before the deadline and a few seconds after it. Each applicant sends
one `POST /api/v1/applications/{id}/submit` with its bearer token and records when it sent the
request, when the answer came and its status. The driver then checks every one: an answer
received before the deadline must be an acceptance, a request sent after it a refusal, and the
database must hold exactly the accepted ones as submitted, before the deadline.
"""

from __future__ import annotations

import itertools
import threading
import time

import gevent
from locust import FastHttpUser, constant, task

from service.accounts import tokens
from tests.load import common
from tests.load import data as D

PLAN = common.plan()
_slots = itertools.count()
_lock = threading.Lock()


class Applicant(FastHttpUser):
    wait_time = constant(3600)

    def on_start(self) -> None:
        with _lock:
            number = next(_slots)
        applicants = PLAN.get("applicants", [])
        self.slot = applicants[number] if number < len(applicants) else None
        if self.slot is not None:
            self.token = tokens.issue(D.SECRET_KEY, user_id=self.slot["user"], version=0, mfa=False)

    @task
    def submit(self) -> None:
        if self.slot is None:
            return
        gevent.sleep(max(0.0, self.slot["at"] - time.time()))
        sent = time.time()
        with self.client.post(
            f"/api/v1/applications/{self.slot['application']}/submit",
            name="submit",
            headers={"authorization": f"Bearer {self.token}"},
            json={},
            catch_response=True,
        ) as response:
            received = time.time()
            status = response.status_code
            if status == 200 or 400 <= status < 500:
                # A refusal after the deadline is the right answer, not a failure.
                response.success()
            else:
                common.check(response, 200)
            common.count("submit", ok=status == 200)
            with _lock:
                common.records.append(
                    {
                        "application": self.slot["application"],
                        "sent": sent,
                        "received": received,
                        "status": status,
                        "body": (response.text or "")[:300] if status != 200 else "",
                    }
                )
        self.slot = None
