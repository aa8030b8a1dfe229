# SPDX-License-Identifier: Apache-2.0
"""Runs one generated scenario against the real processes and records what happened.

A private mosquitto (persistent, autosave as in config/mosquitto/local.conf) on a free loopback
port, lorawatchd with the shipped rules and the generated estate and roster, lorawatch-sim playing
first the battery history and then the storm, a persistent-session QoS 1 subscriber, and the fault
schedule applied on the wall clock. Every fault actually applied is appended to trace.jsonl with
the time it happened; a replay reads that trace back instead of the planned schedule.
"""
import errno
import json
import os
import pwd
import random
import signal
import socket
import sqlite3
import subprocess
import threading
import time

from . import gen

CLIENT_ID = "lorawatchd-inv"
SUB_ID = "inv-persistent"


def free_port(kind):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM if kind == "tcp" else socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def listening(port):
    s = socket.socket()
    s.settimeout(0.2)
    try:
        s.connect(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def wait_for(secs, fn):
    end = time.monotonic() + secs
    while time.monotonic() < end:
        if fn():
            return True
        time.sleep(0.05)
    return False


class DiskFull:
    """How a full disk is made for the state directory; one small interface so methods can be swapped.

    namespace: the scenario runs under `unshare -Urm` with a small tmpfs on the state directory,
    filled with a file until ENOSPC. preload: tests/emu's LD_PRELOAD shim (lw_enospc_preload.so,
    or LW_INV_ENOSPC_SHIM) fails writes under LW_ENOSPC_DIR with ENOSPC while the control file
    LW_ENOSPC_CTL exists.
    """

    def __init__(self, method, state_dir):
        self.method, self.state_dir = method, state_dir
        self.flag = os.path.join(os.path.dirname(state_dir), "enospc.full")

    def daemon_env(self):
        if self.method != "preload":
            return {}
        return {"LD_PRELOAD": enospc_shim(), "LW_ENOSPC_DIR": self.state_dir, "LW_ENOSPC_CTL": self.flag}

    def fill(self):
        if self.method == "preload":
            open(self.flag, "w").close()
            return "flag"
        path = os.path.join(self.state_dir, "filler")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
        chunk = b"\0" * 65536
        n = 0
        try:
            while True:
                n += os.write(fd, chunk)
        except OSError as e:
            if e.errno != errno.ENOSPC:
                raise
        try:  # the last few bytes too
            while True:
                n += os.write(fd, b"\0" * 512)
        except OSError:
            pass
        os.close(fd)
        return "%d bytes" % n

    def release(self):
        for p in (os.path.join(self.state_dir, "filler"), self.flag):
            try:
                os.unlink(p)
            except FileNotFoundError:
                pass


def enospc_shim():
    """The ENOSPC shim of tests/emu: LW_INV_ENOSPC_SHIM, else next to the build's binaries."""
    p = os.environ.get("LW_INV_ENOSPC_SHIM")
    if not p and os.environ.get("LW_BIN"):
        p = os.path.join(os.path.dirname(os.environ["LW_BIN"]), "tests", "lw_enospc_preload.so")
    return p if p and os.path.exists(p) else None


def disk_full_method():
    """The method that works here: namespace, preload, or None (then CI fails the case)."""
    forced = os.environ.get("LW_INV_DISK_METHOD")
    if forced:
        return None if forced == "none" else forced
    try:
        r = subprocess.run(["unshare", "-Urm", "sh", "-c",
                            "d=$(mktemp -d) && mount -t tmpfs -o size=1m tmpfs $d && umount $d && rmdir $d"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=10)
        if r.returncode == 0:
            return "namespace"
    except (OSError, subprocess.TimeoutExpired):
        pass
    if enospc_shim():
        return "preload"
    return None


class Runner:
    def __init__(self, sc, work, bindir, srcdir, replay_events=None, disk_method=None):
        self.sc, self.work, self.bin, self.src = sc, work, bindir, srcdir
        self.events = replay_events if replay_events is not None else sc["events"]
        self.state = os.path.join(work, "state")
        self.db = os.path.join(self.state, "lw.db")
        self.sock = os.path.join(work, "control.sock")
        self.trace = []
        self.notes = []  # harness trouble, reported as violations of kind "harness"
        self.daemon = None
        self.daemon_expected_down = False
        self.died = []
        self.broker = None
        self.sub = None
        self.disk = DiskFull(disk_method, self.state) if disk_method else None
        self.rng = random.Random(sc["seed"] * 7919 + 1)
        self.lock = threading.RLock()  # the watcher logs while holding it
        self.down_wall = 0.0
        self.reconnects = []
        self.acked = set()

    # ---- files ---------------------------------------------------------------------------------
    def write_files(self):
        sc = self.sc
        os.makedirs(self.state, exist_ok=True)
        self.mport, self.uport = free_port("tcp"), free_port("udp")
        with open(os.path.join(self.work, "storm.ini"), "w") as f:
            f.write(gen.scenario_ini(sc))
        with open(os.path.join(self.work, "history.ini"), "w") as f:
            f.write(gen.history_ini(sc))
        nodes = subprocess.run([os.path.join(self.bin, "lorawatch-sim"), "--emit-node-config", "-s",
                                os.path.join(self.work, "storm.ini")], capture_output=True, text=True,
                               check=True).stdout
        rules = []
        keep = False
        with open(os.path.join(self.src, "config", "lorawatch.conf")) as f:
            for line in f:
                if line.startswith("["):
                    keep = line.startswith("[rule:")
                if keep:
                    rules.append(line)
        duty = []
        for p in sc["roster"]:
            duty += ["[duty:%s]" % p["id"], "name = %s" % p["id"], "tier = %d" % p["tier"]]
            if p["grids"]:
                duty.append("grids = %s" % ",".join(p["grids"]))
            duty.append("")
        conf = "\n".join([
            "[gateway]", "site = %s" % sc["site"], "network_id = 0x4C57", "database = %s" % self.db,
            "log_level = info", "clock_check = none", "control_socket = %s" % self.sock, "control_group =", "",
            "[radio]", "backend = sim", "spreading_factor = %d" % gen.SF, "sim_listen = 127.0.0.1:%d" % self.uport, "sim_clock = medium", "",
            # reconnect_min/max: the shipped values (config/lorawatch.conf).
            "[mqtt]", "host = 127.0.0.1", "port = %d" % self.mport, "client_id = %s" % CLIENT_ID, "",
            "[alerts]", "escalate_after = %ds" % ESCALATE_S, "remind_every = %ds" % REMIND_S, "",
            # As the shipped configuration: alert writes waiting for the full disk kept on
            # another file system (the work directory, not the state directory that fills).
            "[storage]", "spool_file = %s" % os.path.join(self.work, "spool"), "",
        ]) + "\n" + "".join(rules) + "\n" + "\n".join(duty) + "\n" + nodes
        self.conf = os.path.join(self.work, "lorawatchd.conf")
        with open(self.conf, "w") as f:
            f.write(conf)
        os.chmod(self.conf, 0o600)
        os.makedirs(os.path.join(self.work, "broker-db"), exist_ok=True)
        bconf = ["listener %d 127.0.0.1" % self.mport, "allow_anonymous true", "persistence true",
                 "persistence_location %s/broker-db/" % self.work,
                 # As config/mosquitto/local.conf: what a broker SIGKILL can lose is real.
                 "autosave_interval 30", "max_queued_messages 0", "log_dest stderr",
                 "log_type error", "log_type warning", "log_type notice", "log_type information",
                 "connection_messages true"]
        if os.getuid() == 0:
            bconf.append("user %s" % pwd.getpwuid(os.getuid()).pw_name)
        with open(os.path.join(self.work, "mosquitto.conf"), "w") as f:
            f.write("\n".join(bconf) + "\n")

    def log(self, op, **kw):
        kw.update(op=op, t=round(time.monotonic() - self.t0, 3) if hasattr(self, "t0") else None)
        with self.lock:
            self.last_log = kw
            self.trace.append(kw)
            with open(os.path.join(self.work, "trace.jsonl"), "a") as f:
                f.write(json.dumps(kw) + "\n")

    # ---- processes -----------------------------------------------------------------------------
    def start_broker(self):
        log = open(os.path.join(self.work, "mosquitto.log"), "a")
        self.broker = subprocess.Popen(["mosquitto", "-c", os.path.join(self.work, "mosquitto.conf")],
                                       stdout=log, stderr=log)
        if not wait_for(10, lambda: listening(self.mport)):
            raise RuntimeError("mosquitto did not start")

    def stop_broker(self, sig):
        self.broker.send_signal(sig)
        try:
            self.broker.wait(10)
        except subprocess.TimeoutExpired:
            self.broker.kill()
            self.broker.wait()

    def start_sub(self):
        # Connected before the next fault: mosquitto_sub gives up when its first connection fails
        # (a broker stopped again at once on a loaded machine: seed 7030), so it is started again
        # until the broker has seen it.
        n0 = self.broker_connections(SUB_ID)
        for _ in range(5):
            out = open(os.path.join(self.work, "sub.log"), "a")
            self.sub = subprocess.Popen(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(self.mport), "-q", "1",
                                         "-c", "-i", SUB_ID, "-R", "-F", "%U %t %p",
                                         "-t", "lorawatch/%s/#" % self.sc["site"]],
                                        stdout=out, stderr=subprocess.DEVNULL)
            if wait_for(5, lambda: self.broker_connections(SUB_ID) > n0 or self.sub.poll() is not None) \
                    and self.sub.poll() is None:
                return
            if self.sub.poll() is None:
                return  # connected later than we looked: it keeps trying
            time.sleep(0.3)

    def broker_connections(self, client):
        try:
            with open(os.path.join(self.work, "mosquitto.log"), errors="replace") as f:
                return sum(1 for line in f if (" as %s " % client) in line)
        except FileNotFoundError:
            return 0

    def start_daemon(self):
        env = dict(os.environ)
        if self.disk:
            env.update(self.disk.daemon_env())
        log = open(os.path.join(self.work, "lorawatchd.log"), "a")
        log.write("=== start at %.3f\n" % (time.monotonic() - getattr(self, "t0", time.monotonic())))
        log.flush()
        self.daemon_conns = self.broker_connections(CLIENT_ID)
        self.daemon = subprocess.Popen([os.path.join(self.bin, "lorawatchd"), "-d", "-f", self.conf],
                                       stdout=log, stderr=log, env=env)
        self.daemon_expected_down = False

    def wait_ready(self):
        """Signals other than SIGKILL go to a daemon that has finished starting (connected)."""
        wait_for(5, lambda: self.broker_connections(CLIENT_ID) > self.daemon_conns)

    def watch(self):
        """The daemon must never exit unless the harness stopped it. When it does, it is started
        again after a second, as systemd's Restart=on-failure would (sooner than the unit's 5 s:
        the storm runs accelerated), so the rest of the scenario still has a daemon."""
        while not self.finished:
            with self.lock:
                d, expected = self.daemon, self.daemon_expected_down
            if d is not None and not expected and d.poll() is not None:
                full = self.disk is not None and os.path.exists(os.path.join(self.state, "filler"))
                self.died.append(dict(t=round(time.monotonic() - self.t0, 3), rc=d.returncode,
                                      on="while the disk was full" if full else None))
                time.sleep(1)
                with self.lock:
                    if not self.finished and self.daemon is d:
                        self.log("daemon_restarted_after_exit", rc=d.returncode)
                        self.start_daemon()
            time.sleep(0.05)

    def stop_daemon(self, sig):
        with self.lock:
            self.daemon_expected_down = True
        d = self.daemon
        if d.poll() is not None:
            return d.returncode
        d.send_signal(sig)
        try:
            return d.wait(15)
        except subprocess.TimeoutExpired:
            d.kill()
            d.wait()
            return "timeout"

    def sim(self, ini, background, accel=None):
        args = [os.path.join(self.bin, "lorawatch-sim"), "-q", "-s", os.path.join(self.work, ini),
                "--gateway", "127.0.0.1:%d" % self.uport,
                "--summary-json", os.path.join(self.work, ini + ".json")]
        if accel is not None:
            args += ["--acceleration", str(accel)]
        log = open(os.path.join(self.work, ini + ".log"), "w")
        p = subprocess.Popen(args, stdout=log, stderr=log)
        if background:
            return p
        return p.wait(120)

    def q(self, sql, args=()):
        con = sqlite3.connect("file:%s?mode=ro" % self.db, uri=True, timeout=5)
        try:
            return con.execute(sql, args).fetchall()
        finally:
            con.close()

    def pub(self, user, payload):
        subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(self.mport), "-q", "1",
                        "-t", "lorawatch/%s/command/%s" % (self.sc["site"], user), "-m", json.dumps(payload)],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=10)

    # ---- faults --------------------------------------------------------------------------------
    def apply(self, ev):
        op = ev["op"]
        if op in ("daemon_kill9", "daemon_term"):
            sig = signal.SIGKILL if op == "daemon_kill9" else signal.SIGTERM
            if sig == signal.SIGTERM:
                self.wait_ready()
            t_down = time.monotonic()
            rc = self.stop_daemon(sig)
            time.sleep(ev["down"])
            self.start_daemon()
            self.down_wall += time.monotonic() - t_down
            self.log(op, down=ev["down"], rc=rc if op == "daemon_term" else None)
            if op == "daemon_term" and rc != 0:
                self.died.append(dict(t=round(time.monotonic() - self.t0, 3), rc=rc, on="SIGTERM"))
        elif op == "daemon_hup":
            self.wait_ready()
            self.daemon.send_signal(signal.SIGHUP)
            self.log(op)
        elif op in ("broker_kill9", "broker_term"):
            n0 = self.broker_connections(CLIENT_ID)
            if ev.get("sub_offline"):
                self.sub.terminate()  # a clean disconnect: its session stays, messages queue for it
                self.sub.wait(5)
                time.sleep(0.3)
            self.stop_broker(signal.SIGKILL if op == "broker_kill9" else signal.SIGTERM)
            time.sleep(ev["down"])
            self.start_broker()
            back = time.monotonic()
            if ev.get("sub_offline"):
                time.sleep(0.5)
                self.start_sub()
            ok = wait_for(20, lambda: self.broker_connections(CLIENT_ID) > n0)
            self.reconnects.append(round(time.monotonic() - back, 2) if ok else None)
            self.log(op, down=ev["down"], sub_offline=bool(ev.get("sub_offline")),
                     daemon_back_s=self.reconnects[-1])
        elif op == "disk_full":
            if not self.disk:
                self.log(op, skipped="no method")
                return
            how = self.disk.fill()
            self.log(op, phase="full", how=how)
            time.sleep(ev["length"])
            self.disk.release()
            self.log(op, phase="released")
        elif op == "calibrate":
            # The estate's nodes are [node:] sections, so calibration goes the configuration way
            # (zero_offset and a reload); the CLI refuses such nodes. Done only while the node has
            # an open alert: the case where a calibration must not fake an all-clear.
            open_ = self.q("SELECT a.id FROM alerts a JOIN nodes n ON n.address = a.node "
                           "WHERE n.name = ? AND a.state = 'raised'", (ev["node"],))
            last = self.q("SELECT r.water_mm FROM readings r JOIN nodes n ON n.address = r.node "
                          "WHERE n.name = ? AND r.water_mm IS NOT NULL ORDER BY r.ts_ms DESC LIMIT 1",
                          (ev["node"],))
            if not ev.get("done") and (not open_ or not last or not last[0][0]):
                self.log(op, node=ev["node"], skipped="no open alert")
                return
            offset = ev.get("offset") or last[0][0]
            with open(self.conf) as f:
                text = f.read()
            text = text.replace("[node:%s]\n" % ev["node"], "[node:%s]\nzero_offset = %d\n" % (ev["node"], offset), 1)
            # Written beside it and renamed over it: a daemon (re)started meanwhile by another
            # fault must read the old file or the new one, never half of one (seed 6062).
            with open(self.conf + ".new", "w") as f:
                f.write(text)
            os.chmod(self.conf + ".new", 0o600)
            os.rename(self.conf + ".new", self.conf)
            self.wait_ready()
            self.daemon.send_signal(signal.SIGHUP)
            self.log(op, node=ev["node"], open=[a for (a,) in open_], offset=offset, done=True)
        elif op == "ack":
            alert = ev.get("alert")
            user = ev.get("user")
            if alert is None:
                rows = self.q("SELECT id FROM alerts WHERE state = 'raised' AND acked_by IS NULL "
                              "AND test = 0 ORDER BY id")
                rows = [a for (a,) in rows if a not in self.acked]
                if not rows:
                    self.log(op, skipped="no open alert")
                    return
                alert = rows[0]
                user = self.rng.choice([p["id"] for p in self.sc["roster"]])
            self.acked.add(alert)
            rid = "ack-%d" % alert
            self.pub(user, {"cmd": "ack", "alert": alert, "id": rid, "note": "invariant checker"})
            self.log(op, alert=alert, user=user, rid=rid)
        elif op == "silence":
            rid = "sil-%s" % ev["building"]
            self.pub("room", {"cmd": "silence", "building": ev["building"], "hazard": ev["hazard"],
                              "for": "%ds" % ev["length"], "reason": "invariant checker", "id": rid})
            self.log(op, building=ev["building"], hazard=ev["hazard"], length=ev["length"], rid=rid)
        else:
            raise ValueError(op)

    # ---- the run -------------------------------------------------------------------------------
    def run(self):
        self.write_files()
        self.t0 = time.monotonic()
        self.t0_wall = time.time()
        self.finished = False
        self.log("begin", wall=self.t0_wall)
        self.start_broker()
        self.start_sub()
        if not wait_for(10, lambda: self.broker_connections(SUB_ID) >= 1):
            self.notes.append("persistent subscriber did not connect")
        time.sleep(0.2)
        self.broker.send_signal(signal.SIGUSR1)  # save the subscriber's session now
        self.start_daemon()
        watcher = threading.Thread(target=self.watch, daemon=True)
        watcher.start()
        if not wait_for(15, lambda: self.broker_connections(CLIENT_ID) >= 1):
            self.notes.append("daemon did not connect to the broker")
        if not wait_for(10, lambda: os.path.exists(self.sock)):
            self.notes.append("control socket missing")
        rc = self.sim("history.ini", False)
        if rc != 0:
            self.notes.append("history simulator exit %s" % rc)
        self.log("storm_start")
        self.t_storm = time.monotonic()
        sim = self.sim("storm.ini", True)
        for ev in self.events:
            delay = self.t_storm + ev["t"] - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            actual = round(time.monotonic() - self.t_storm, 3)
            self.last_log = {}
            try:
                self.apply(ev)
            except Exception as e:  # noqa: BLE001 - a harness fault is reported, the run goes on
                self.notes.append("event %s: %r" % (ev["op"], e))
            # replay.jsonl: the schedule as it really happened (start times, chosen alerts), which
            # `run --replay` plays instead of the seed's plan.
            done = dict(ev, t=actual, planned=True)
            for k in ("alert", "user", "offset", "done"):
                if k in self.last_log:
                    done[k] = self.last_log[k]
            with open(os.path.join(self.work, "replay.jsonl"), "a") as f:
                f.write(json.dumps(done) + "\n")
        try:
            rc = sim.wait(self.sc["duration"] / self.sc["acceleration"] + 60)
        except subprocess.TimeoutExpired:
            sim.kill()
            rc = "timeout"
        if rc != 0:
            self.notes.append("storm simulator exit %s (a timeout: it waited for ACKs of its alarm frames)" % rc)
        self.log("storm_end")
        # The outbox drains, the last reminders and escalations go out.
        drained = wait_for(20, lambda: self.q("SELECT count(*) FROM outbox")[0][0] == 0)
        self.log("drain", outbox_empty=drained)
        time.sleep(1.5)
        self.t_end_wall = time.time()
        self.retained = self.snapshot_retained()
        self.finished = True
        rc = self.stop_daemon(signal.SIGTERM)
        if rc != 0:
            self.died.append(dict(t=round(time.monotonic() - self.t0, 3), rc=rc, on="final SIGTERM"))
        self.log("daemon_stop", rc=rc)
        time.sleep(0.3)
        self.sub.terminate()
        self.sub.wait(5)
        self.stop_broker(signal.SIGTERM)
        self.virtual_down = self.down_wall * self.sc["acceleration"]
        self.t_end = time.monotonic()

    def snapshot_retained(self):
        r = subprocess.run(["mosquitto_sub", "-h", "127.0.0.1", "-p", str(self.mport), "--retained-only",
                            "-W", "2", "-F", "%t %p", "-t", "lorawatch/%s/alert/+" % self.sc["site"]],
                           capture_output=True, text=True)
        with open(os.path.join(self.work, "retained.log"), "w") as f:
            f.write(r.stdout)
        return r.stdout

    def cleanup(self):
        for p in (self.daemon, self.sub, self.broker):
            if p is not None and p.poll() is None:
                p.kill()
                p.wait()


ESCALATE_S = 3
REMIND_S = 2
