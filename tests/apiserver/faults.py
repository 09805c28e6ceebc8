"""Injectable faults, the request log and per-verb counters.

Faults are set at start (flags) and at run time (POST /_test/faults with a JSON
object; keys not given keep their value). Random decisions use one seeded
generator, so a single-threaded client sees the same faults on every run.

  latency_ms        added before every API request is handled
  error_rate        share (0..1) of API requests answered 500 InternalError
  throttle_rate     share of API requests answered 429 TooManyRequests
  retry_after       Retry-After seconds of those 429s (default 1)
  conflict_rate     share of writes answered 409 Conflict
  fail_next_500     the next N API requests are answered 500 (then 0)
  throttle_next     the next N API requests are answered 429
  conflict_next     the next N writes are answered 409 Conflict
  watch_drop_after  every watch connection is closed after N events (0: never)
  expire_next_resumes  the next N watches that resume from a resourceVersion
                    get an ERROR event with a 410 Expired Status
  verbs             list of verbs the rate/next faults apply to (default: all)
  seed              reseeds the generator
"""

import collections
import random
import threading
import time

WRITE_VERBS = ("CREATE", "UPDATE", "PATCH", "APPLY", "DELETE", "DELETECOLLECTION")
COUNTED = ("GET", "LIST", "WATCH", "CREATE", "UPDATE", "PATCH", "APPLY", "DELETE",
           "DELETECOLLECTION", "DISCOVERY")

DEFAULTS = {
    "latency_ms": 0, "error_rate": 0.0, "throttle_rate": 0.0, "retry_after": 1,
    "conflict_rate": 0.0, "fail_next_500": 0, "throttle_next": 0, "conflict_next": 0,
    "watch_drop_after": 0, "expire_next_resumes": 0, "verbs": [], "seed": 0,
}


class Faults:
    def __init__(self, log_size=100000):
        self.lock = threading.Lock()
        self.cfg = dict(DEFAULTS)
        self.rng = random.Random(0)
        self.counters = collections.Counter()
        self.by_resource = {}
        self.log = collections.deque(maxlen=log_size)
        self.seq = 0

    def configure(self, changes):
        """Applies a dict of changes; returns the new configuration or raises ValueError."""
        with self.lock:
            for k, v in changes.items():
                if k not in DEFAULTS:
                    raise ValueError("unknown fault %r" % k)
                if k == "verbs":
                    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
                        raise ValueError("verbs must be a list of strings")
                    self.cfg[k] = [x.upper() for x in v]
                    continue
                if not isinstance(v, (int, float)) or isinstance(v, bool) or v < 0:
                    raise ValueError("%s must be a non-negative number" % k)
                if k.endswith("_rate") and v > 1:
                    raise ValueError("%s must be between 0 and 1" % k)
                self.cfg[k] = v
                if k == "seed":
                    self.rng = random.Random(v)
            return dict(self.cfg)

    def snapshot(self):
        with self.lock:
            return dict(self.cfg)

    def _applies(self, verb):
        verbs = self.cfg["verbs"]
        return not verbs or verb in verbs

    def decide(self, verb):
        """The fault for one API request: None, ("latency", s) handled by caller,
        or one of "500", "429", "409". Returns (latency seconds, fault or None)."""
        with self.lock:
            latency = self.cfg["latency_ms"] / 1000.0
            if not self._applies(verb):
                return latency, None
            fault = None
            if self.cfg["fail_next_500"] > 0:
                self.cfg["fail_next_500"] -= 1
                fault = "500"
            elif self.cfg["throttle_next"] > 0:
                self.cfg["throttle_next"] -= 1
                fault = "429"
            elif verb in WRITE_VERBS and self.cfg["conflict_next"] > 0:
                self.cfg["conflict_next"] -= 1
                fault = "409"
            else:
                if self.cfg["error_rate"] and self.rng.random() < self.cfg["error_rate"]:
                    fault = "500"
                elif self.cfg["throttle_rate"] and self.rng.random() < self.cfg["throttle_rate"]:
                    fault = "429"
                elif verb in WRITE_VERBS and self.cfg["conflict_rate"] and \
                        self.rng.random() < self.cfg["conflict_rate"]:
                    fault = "409"
            if fault:
                self.counters["faults_" + fault] += 1
            return latency, fault

    def take_expire_resume(self):
        with self.lock:
            if self.cfg["expire_next_resumes"] > 0:
                self.cfg["expire_next_resumes"] -= 1
                self.counters["faults_410"] += 1
                return True
            return False

    def watch_drop_after(self):
        with self.lock:
            return int(self.cfg["watch_drop_after"])

    def count_drop(self):
        with self.lock:
            self.counters["faults_watch_drop"] += 1

    def record(self, entry):
        """Counts one request and appends it to the log (entry: dict with verb...)."""
        with self.lock:
            self.seq += 1
            entry["seq"] = self.seq
            verb = entry.get("verb")
            self.counters["requests"] += 1
            if verb in COUNTED:
                self.counters[verb] += 1
                if verb in WRITE_VERBS:
                    self.counters["writes"] += 1
                res = entry.get("resource")
                if res:
                    self.by_resource.setdefault(res, collections.Counter())[verb] += 1
            self.log.append(entry)

    def counters_json(self):
        with self.lock:
            out = {v: 0 for v in COUNTED}
            out["writes"] = 0
            out["requests"] = 0
            out.update(self.counters)
            out["by_resource"] = {k: dict(v) for k, v in self.by_resource.items()}
            return out

    def log_json(self, since=0):
        with self.lock:
            return [e for e in self.log if e["seq"] > since]

    def reset_counters(self):
        with self.lock:
            self.counters.clear()
            self.by_resource.clear()
            self.log.clear()


def sleep(seconds):
    if seconds > 0:
        time.sleep(seconds)
