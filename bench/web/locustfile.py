"""100 operator terminals against gunicorn, run by bench/web/run.sh in locust's own virtual environment.

Each simulated terminal logs in as its own operator (the login form, with its CSRF token), opens the terminal of
the machine it was given (bench/web/prepare.py put an operation into `running` on it), then, waiting 1 to 3 s
between actions as a person at a touch screen does:

- polls the board's live fragment without a version, so that it is always answered with the board (never a 204),
  rendered at most once per 2 s for all of them;
- loads its terminal page;
- reports 1 good piece of its machine's running operation (a fresh nonce each time, as a new page render gives);
- asks GET /api/v1/me/, the trivial logged-in view that every other figure is divided by.

Statistics are reset SETTLE_SECONDS (15) after the last terminal has logged in and opened its terminal (logins
hash a password with PBKDF2 and are not what is measured; the requests queued behind them drain meanwhile), and
the run stops MEASURE_SECONDS later. Environment: TERMINALS_FILE (the
JSON from prepare.py), MEASURE_SECONDS (default 90), LOGIN_STATS_FILE (where the login timings and the measured
window go, JSON)."""

import itertools
import json
import os
import time
import uuid

import gevent
from locust import HttpUser, between, events, task
from locust.exception import StopUser

with open(os.environ["TERMINALS_FILE"]) as _file:
    TERMINALS = json.load(_file)["terminals"]
MEASURE_SECONDS = float(os.environ.get("MEASURE_SECONDS", "90"))
# Logging 100 terminals in takes tens of seconds of PBKDF2; the pages asked meanwhile queue behind it. The first
# 15 s after the last login are not measured, so that the window sees the floor working, not that queue draining.
SETTLE_SECONDS = float(os.environ.get("SETTLE_SECONDS", "15"))
LOGIN_STATS_FILE = os.environ.get("LOGIN_STATS_FILE", "")
TIMEOUT = 120

_numbers = itertools.count()
_state = {"ready": 0, "login_ms": [], "login_failures": 0, "window_start": None, "window_end": None,
          "load_start": None, "load_end": None}


def _everyone_ready(environment) -> None:
    """The last terminal is in: let the requests queued behind the logins drain for SETTLE_SECONDS, then measure
    for MEASURE_SECONDS."""
    print(f"[bench] all {_state['ready']} terminals logged in; settling for {SETTLE_SECONDS:.0f} s", flush=True)

    def start() -> None:
        environment.runner.stats.reset_all()
        _state["window_start"] = time.time()
        _state["load_start"] = os.getloadavg()
        print(f"[bench] measuring for {MEASURE_SECONDS:.0f} s", flush=True)
        gevent.spawn_later(MEASURE_SECONDS, stop)

    def stop() -> None:
        _state["window_end"] = time.time()
        _state["load_end"] = os.getloadavg()
        environment.runner.quit()

    gevent.spawn_later(SETTLE_SECONDS, start)


class Terminal(HttpUser):
    wait_time = between(1, 3)

    def on_start(self) -> None:
        terminal = TERMINALS[next(_numbers) % len(TERMINALS)]
        self.machine_id, self.operation_id = terminal["machine_id"], terminal["operation_id"]
        try:
            self.log_in(terminal["username"], terminal["password"])
            self.client.get(f"/terminal/{self.machine_id}/", name="login: first terminal page",
                            allow_redirects=False, timeout=TIMEOUT)
        finally:
            _state["ready"] += 1
            if _state["ready"] == self.environment.runner.target_user_count:
                _everyone_ready(self.environment)

    def log_in(self, username: str, password: str) -> None:
        began = time.perf_counter()
        self.client.get("/login/", name="login: form", timeout=TIMEOUT)
        token = self.client.cookies.get("csrftoken", "")
        form = {"csrfmiddlewaretoken": token, "username": username, "password": password, "next": ""}
        with self.client.post("/login/", name="login: post", data=form, allow_redirects=False, timeout=TIMEOUT,
                              catch_response=True) as response:
            if response.status_code != 302 or "sessionid" not in self.client.cookies:
                response.failure(f"login of {username} refused: {response.status_code}")
                _state["login_failures"] += 1
                raise StopUser()
        _state["login_ms"].append((time.perf_counter() - began) * 1000)

    def _check(self, response, *, status: int = 200, marker: bytes | None = None, refusal: bool = False) -> None:
        """A wrong status or a page without its marker fails; so does, on the terminal, a refusal on the panel."""
        if response.status_code != status:
            response.failure(f"status {response.status_code}")
        elif marker is not None and marker not in response.content:
            response.failure(f"no {marker.decode()} in the answer")
        elif refusal and b'role="alert"' in response.content:
            text = response.text
            start = text.find('role="alert"')
            response.failure("refused: " + text[start:start + 200].split(">", 1)[-1].split("<", 1)[0].strip())
        else:
            response.success()

    @task(3)
    def board_fragment(self) -> None:
        with self.client.get("/board/", headers={"HX-Request": "true"}, name="board fragment", allow_redirects=False,
                             timeout=TIMEOUT, catch_response=True) as response:
            self._check(response, marker=b'id="board-live"')

    @task(3)
    def terminal_page(self) -> None:
        with self.client.get(f"/terminal/{self.machine_id}/", name="terminal page", allow_redirects=False,
                             timeout=TIMEOUT, catch_response=True) as response:
            self._check(response, marker=b'id="terminal-panel"', refusal=True)

    @task(2)
    def report(self) -> None:
        with self.client.post(
            f"/terminal/{self.machine_id}/operations/{self.operation_id}/report/", name="terminal report",
            data={"good": "1", "scrap": "0", "confirm_overrun": "true", "nonce": uuid.uuid4().hex},
            headers={"HX-Request": "true", "X-CSRFToken": self.client.cookies.get("csrftoken", "")},
            allow_redirects=False, timeout=TIMEOUT, catch_response=True,
        ) as response:
            self._check(response, marker=b'id="terminal-panel"', refusal=True)

    @task(2)
    def me(self) -> None:
        with self.client.get("/api/v1/me/", name="me (baseline)", allow_redirects=False, timeout=TIMEOUT,
                             catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}")
            elif not response.json().get("username", "").startswith("bench"):
                response.failure(f"not the operator: {response.text[:100]}")
            else:
                response.success()


@events.test_stop.add_listener
def _write_login_stats(environment, **_kwargs) -> None:
    logins = sorted(_state["login_ms"])
    summary = {
        "terminals_ready": _state["ready"],
        "logins": len(logins),
        "login_failures": _state["login_failures"],
        "login_p50_ms": round(logins[len(logins) // 2]) if logins else None,
        "login_p95_ms": round(logins[min(len(logins) - 1, int(len(logins) * 0.95))]) if logins else None,
        "window_seconds": round((_state["window_end"] or time.time()) - _state["window_start"], 1)
        if _state["window_start"] else None,
        "settle_seconds": SETTLE_SECONDS,
        "load_start": _state["load_start"],
        "load_end": _state["load_end"] or os.getloadavg(),
    }
    print(f"[bench] {json.dumps(summary)}", flush=True)
    if LOGIN_STATS_FILE:
        with open(LOGIN_STATS_FILE, "w") as file:
            json.dump(summary, file, indent=1)
