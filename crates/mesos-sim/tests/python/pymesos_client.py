"""Drives a Mesos master with pymesos 0.3.15, a third-party scheduler client.

Run by crates/mesos-sim/tests/pymesos_fidelity.rs against the emulator:

    python pymesos_client.py HOST:PORT

One JSON object per line on stdout for every milestone; the Rust test
asserts on them. A milestone with "checkpoint": true waits for a line on
stdin so the test can inspect the master's own view at that moment. Every
wait is bounded: a master that stops answering makes this script print a
"failed" line and exit 1 instead of hanging. pymesos logs to stderr.
"""

import base64
import json
import queue
import select
import sys
import threading
import time
import traceback

from pymesos import MesosSchedulerDriver, Scheduler

WAIT = 20.0  # seconds for any single expected event
TASKS = ("pymesos-killed", "pymesos-kept")


def emit(event, **fields):
    fields["event"] = event
    sys.stdout.write(json.dumps(fields, sort_keys=True) + "\n")
    sys.stdout.flush()


class Failure(Exception):
    pass


def checkpoint(event, **fields):
    """Emits a milestone, then waits until the test says to go on."""
    emit(event, checkpoint=True, **fields)
    ready, _, _ = select.select([sys.stdin], [], [], 60.0)
    if not ready or sys.stdin.readline().strip() != "continue":
        raise Failure("test did not answer checkpoint %r" % event)


class Recorder(Scheduler):
    """Queues every callback for the main thread; declines offers once the
    tasks are launched. Callbacks run on pymesos's I/O thread and must not
    raise (that would abort the driver)."""

    def __init__(self):
        self.events = queue.Queue()
        self.decline_offers = False

    def registered(self, driver, framework_id, master_info):
        self.events.put(("registered", dict(framework_id), dict(master_info)))

    def reregistered(self, driver, master_info):
        self.events.put(("reregistered", driver.framework_id, dict(master_info)))

    def disconnected(self, driver):
        self.events.put(("disconnected",))

    def resourceOffers(self, driver, offers):
        if not self.decline_offers:
            self.events.put(("offers", offers))
            return
        try:
            driver.declineOffer(
                [o["id"] for o in offers], filters={"refuse_seconds": 3600.0}
            )
        except Exception as e:  # an offer may be gone already
            self.events.put(("decline_failed", str(e)))

    def offerRescinded(self, driver, offer_id):
        self.events.put(("rescinded", dict(offer_id)))

    def statusUpdate(self, driver, status):
        self.events.put(("update", dict(status)))

    def error(self, driver, message):
        self.events.put(("error", message))


class Inbox:
    """Takes events of one kind in order, keeping the others for later."""

    def __init__(self, recorder):
        self.recorder = recorder
        self.backlog = []

    def take(self, kind, what, match=lambda e: True, timeout=WAIT):
        for i, e in enumerate(self.backlog):
            if e[0] == kind and match(e):
                return self.backlog.pop(i)
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Failure(
                    "timed out after %.0fs waiting for %s; unmatched events: %r"
                    % (timeout, what, self.backlog[-10:])
                )
            try:
                e = self.recorder.events.get(timeout=left)
            except queue.Empty:
                continue
            if e[0] == kind and match(e):
                return e
            self.backlog.append(e)

    def drain(self, kind, seconds):
        """Everything of that kind arriving within `seconds` (and queued)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                self.backlog.append(self.recorder.events.get(timeout=0.05))
            except queue.Empty:
                pass
        found = [e for e in self.backlog if e[0] == kind]
        self.backlog = [e for e in self.backlog if e[0] != kind]
        return found


def status_summary(s):
    return {
        "task_id": s["task_id"]["value"],
        "state": s["state"],
        "reason": s.get("reason"),
        "source": s.get("source"),
        "has_uuid": "uuid" in s,
        "agent_id": s.get("agent_id", {}).get("value"),
    }


def task_states(inbox, task_id, until):
    """States of one task's updates until (and including) `until`."""
    states = []
    while not states or states[-1] != until:
        _, s = inbox.take(
            "update",
            "%s of task %s (so far %r)" % (until, task_id, states),
            lambda e: e[1]["task_id"]["value"] == task_id,
        )
        if "uuid" not in s:
            raise Failure("agent update without uuid: %r" % (s,))
        states.append(s["state"])
        if s["state"] != until and s["state"] not in (
            "TASK_STAGING",
            "TASK_STARTING",
            "TASK_RUNNING",
            "TASK_KILLING",
        ):
            raise Failure("task %s went %s: %r" % (task_id, s["state"], s))
    return states


def stop(driver, failover):
    """Stops a driver (TEARDOWN unless failover) and waits for its thread."""
    driver.stop(failover=failover)
    joiner = threading.Thread(target=driver.join, daemon=True)
    joiner.start()
    joiner.join(WAIT)
    if joiner.is_alive():
        raise Failure("pymesos driver did not stop within %.0fs" % WAIT)


def scalar(offer, name):
    return sum(
        r["scalar"]["value"] for r in offer.get("resources", []) if r["name"] == name
    )


def run(master):
    framework = {
        "user": "root",
        "name": "pymesos-fidelity",
        "failover_timeout": 3600.0,
        "checkpoint": True,
        "capabilities": [{"type": "TASK_KILLING_STATE"}],
    }

    # 1. Subscribe as a new framework.
    rec = Recorder()
    inbox = Inbox(rec)
    driver = MesosSchedulerDriver(rec, dict(framework), master)
    driver.start()
    _, fid, info = inbox.take("registered", "SUBSCRIBED")
    emit(
        "subscribed",
        framework_id=fid["value"],
        master_version=driver.version,
        master_info=info,
    )

    # 2. Launch two command tasks on one offer, sized from what it offers.
    offer = None
    while offer is None:
        _, offers = inbox.take("offers", "an offer with cpus and mem")
        for o in offers:
            if offer is None and scalar(o, "cpus") >= 0.2 and scalar(o, "mem") >= 64:
                offer = o
        rest = [o["id"] for o in offers if o is not offer]
        if rest:
            driver.declineOffer(rest, filters={"refuse_seconds": 3600.0})
    rec.decline_offers = True
    cpus = min(0.5, scalar(offer, "cpus") / 4)
    mem = min(64.0, scalar(offer, "mem") / 4)
    tasks = [
        {
            "name": name,
            "task_id": {"value": name},
            "agent_id": offer["agent_id"],
            "resources": [
                {"name": "cpus", "type": "SCALAR", "scalar": {"value": cpus}},
                {"name": "mem", "type": "SCALAR", "scalar": {"value": mem}},
            ],
            "command": {"value": "sleep 30"},
        }
        for name in TASKS
    ]
    driver.launchTasks([offer["id"]], tasks, filters={"refuse_seconds": 3600.0})
    emit(
        "launched",
        offer_id=offer["id"]["value"],
        agent_id=offer["agent_id"]["value"],
        tasks=list(TASKS),
        cpus=cpus,
        mem=mem,
    )

    # 3. Both run. The master puts one unacknowledged update per task on the
    # wire at a time, so TASK_RUNNING arriving proves pymesos acknowledged
    # TASK_STARTING.
    for name in TASKS:
        emit("task_running", task_id=name, states=task_states(inbox, name, "TASK_RUNNING"))

    # 4. Kill one.
    driver.killTask({"value": TASKS[0]})
    checkpoint(
        "task_killed",
        task_id=TASKS[0],
        states=task_states(inbox, TASKS[0], "TASK_KILLED"),
    )

    # 5. Disconnect without TEARDOWN: the framework and its tasks stay.
    stop(driver, failover=True)
    checkpoint("disconnected", framework_id=fid["value"])

    # 6. Fail over: subscribe again with the same framework ID.
    rec = Recorder()
    rec.decline_offers = True
    inbox = Inbox(rec)
    # pymesos keeps (and on TEARDOWN edits) the dict it is given: pass copies.
    again = dict(framework, id={"value": fid["value"]})
    driver = MesosSchedulerDriver(rec, dict(again), master)
    driver.start()
    _, same_fid, _ = inbox.take("reregistered", "SUBSCRIBED after failover")
    emit("resubscribed", framework_id=same_fid)

    # Every update was acknowledged, so nothing is resent on re-subscribe.
    resent = inbox.drain("update", 1.0)
    emit("redelivered", statuses=[status_summary(e[1]) for e in resent])

    # 7. Reconcile, implicitly then explicitly.
    driver.reconcileTasks([])
    _, s = inbox.take(
        "update",
        "implicit reconciliation",
        lambda e: e[1].get("reason") == "REASON_RECONCILIATION",
    )
    more = inbox.drain("update", 0.5)
    emit(
        "implicit_reconciliation",
        statuses=[status_summary(s)] + [status_summary(e[1]) for e in more],
    )
    driver.reconcileTasks([{"task_id": {"value": name}} for name in TASKS])
    found = {}
    while len(found) < len(TASKS):
        _, s = inbox.take(
            "update",
            "explicit reconciliation of %r (have %r)" % (TASKS, sorted(found)),
            lambda e: e[1].get("reason") == "REASON_RECONCILIATION",
        )
        found[s["task_id"]["value"]] = status_summary(s)
    emit("explicit_reconciliation", statuses=[found[name] for name in TASKS])

    # 8. A call real Mesos rejects: ACKNOWLEDGE whose uuid is not 16 bytes.
    # pymesos raises what the master answered.
    bogus = {
        "agent_id": offer["agent_id"],
        "task_id": {"value": TASKS[1]},
        "uuid": base64.b64encode(b"not-a-uuid").decode("ascii"),
    }
    try:
        driver.acknowledgeStatusUpdate(bogus)
        emit("rejected_acknowledge", error=None)
    except RuntimeError as e:
        emit("rejected_acknowledge", error=str(e))

    # 9. Tear down: pymesos sends TEARDOWN when stopped without failover.
    stop(driver, failover=False)
    emit("torn_down", framework_id=same_fid)

    # 10. The torn-down ID cannot subscribe again: ERROR on the stream.
    rec = Recorder()
    rec.decline_offers = True
    inbox = Inbox(rec)
    driver = MesosSchedulerDriver(rec, dict(again), master)
    driver.start()
    _, message = inbox.take("error", "ERROR for a removed framework")
    stop(driver, failover=True)
    emit("removed_framework_error", message=message)

    emit("done")


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: pymesos_client.py HOST:PORT\n")
        return 2
    try:
        run(sys.argv[1])
        return 0
    except BaseException as e:  # KeyboardInterrupt: pymesos's I/O thread died
        traceback.print_exc()
        emit("failed", error="%s: %s" % (type(e).__name__, e))
        return 1


if __name__ == "__main__":
    sys.exit(main())
