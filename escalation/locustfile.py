"""The agents of `make loadtest` (Locust): each signed in with a session of its own, going
back and forth between its queue and its cases.

Read by `manage.py loadtest`, which writes the plan (LOADTEST_PLAN: a JSON list of
{"cookie", "queues", "cases"}, one per session) and says how long agents think between
pages (LOADTEST_THINK: "0", or "10-30" seconds). Not imported by the application.
"""

import itertools
import json
import os
import random

from locust import HttpUser, between, constant, task

with open(os.environ["LOADTEST_PLAN"]) as plan_file:
    PLAN = json.load(plan_file)
SESSIONS = itertools.cycle(PLAN)
THINK = os.environ.get("LOADTEST_THINK", "0")


def _wait_time():
    if THINK == "0":
        return constant(0)
    low, high = (float(part) for part in THINK.split("-"))
    return between(low, high)


class Agent(HttpUser):
    wait_time = _wait_time()

    def on_start(self):
        self.plan = next(SESSIONS)
        self.client.headers["Cookie"] = self.plan["cookie"]
        if THINK != "0":
            # Agents at their own pace start at their own moments, not all at once as
            # they are spawned (a burst no real morning has).
            self.wait()

    def _get(self, path: str, name: str):
        # A redirect (to sign in) or an error page is a failure, not a fast page.
        with self.client.get(path, name=name, allow_redirects=False, catch_response=True) as got:
            if got.status_code != 200:
                got.failure(f"{got.status_code}")

    @task(2)
    def my_cases(self):
        self._get(self.plan["queues"]["mine"], "queue: My cases")

    @task(1)
    def my_department(self):
        self._get(self.plan["queues"]["department"], "queue: My department")

    @task(2)
    def case_page(self):
        self._get(random.choice(self.plan["cases"]), "case page")  # nosec B311: not security
