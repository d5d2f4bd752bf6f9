"""Replications on a Dask cluster give exactly the numbers of a local run; a bad address is a clear error."""

import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT, ccplan

distributed = pytest.importorskip("distributed")  # the 'cluster' extra; `make test` installs it

RUNS = {
    "simulate": ["simulate", "scenarios/trainer.toml", "-r", "4", "--json"],
    "compare": ["compare", "scenarios/trainer.toml", "--vary", "routing.policy=fifo,priority", "-r", "3", "--json"],
    "sweep": ["sweep", "scenarios/trainer.toml", "--vary", "agent_groups.team.agents=48:50", "-r", "2", "--json"],
    "staff --verify": ["staff", "scenarios/trainer.toml", "--verify", "-r", "3", "--confirm-replications", "6",
                       "--json"],
}


@pytest.fixture(scope="module")
def local_cluster():
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    yield cluster.scheduler_address
    cluster.close()


@pytest.mark.parametrize("what", sorted(RUNS))
def test_a_local_cluster_of_two_worker_processes_gives_the_same_json(local_cluster, what):
    local = ccplan(*RUNS[what])
    remote = ccplan(*RUNS[what], "--scheduler", local_cluster)
    assert local.returncode == remote.returncode == 0, remote.stderr
    assert remote.stdout == local.stdout


def test_the_environment_variable_points_at_the_cluster(local_cluster):
    env = {**os.environ, "CCPLAN_SCHEDULER": local_cluster}
    r = subprocess.run([sys.executable, "-m", "ccplan", *RUNS["simulate"]], capture_output=True, text=True,
                       cwd=ROOT, env=env, timeout=300)
    assert r.returncode == 0 and r.stdout == ccplan(*RUNS["simulate"]).stdout


def test_a_scheduler_and_workers_started_as_separate_processes_give_the_same_json(tmp_path):
    dask = shutil.which("dask", path=os.path.dirname(sys.executable)) or shutil.which("dask")
    assert dask, "the dask command comes with the cluster extra"
    port = 8786 + os.getpid() % 1000
    address = f"tcp://127.0.0.1:{port}"
    procs = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)]
    try:
        time.sleep(2)
        procs.append(subprocess.Popen([dask, "worker", address, "--nworkers", "2", "--nthreads", "1",
                                       "--no-dashboard"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                      start_new_session=True))
        with distributed.Client(address, timeout="20s") as client:
            client.wait_for_workers(2, timeout=60)
        remote = ccplan(*RUNS["simulate"], "--scheduler", address)
        assert remote.returncode == 0, remote.stderr
        assert remote.stdout == ccplan(*RUNS["simulate"]).stdout
    finally:
        for p in procs:
            os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)


def test_an_address_that_does_not_answer_is_a_clear_error_within_ten_seconds():
    t0 = time.perf_counter()
    r = ccplan("simulate", "scenarios/trainer.toml", "-r", "2", "--scheduler", "tcp://127.0.0.1:9")
    assert time.perf_counter() - t0 < 20  # 10 s to connect, plus start-up
    assert r.returncode == 1 and "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in r.stderr
    assert "Traceback" not in r.stderr


def test_without_the_extra_the_message_says_how_to_install_it(monkeypatch):
    from ccplan.cluster import ClusterError, cluster_executor

    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(ClusterError, match=r"pip install -e '.\[cluster\]'"):
        with cluster_executor("tcp://127.0.0.1:8786"):
            pass


def test_scheduler_without_verify_is_refused():
    r = ccplan("staff", "scenarios/trainer.toml", "--scheduler", "tcp://127.0.0.1:9")
    assert r.returncode == 1 and "--scheduler only goes with --verify" in r.stderr


def test_a_worker_killed_mid_run_is_replaced_and_the_result_is_unchanged():
    import threading

    from ccplan.scenario import load, presets
    from sim.runner import simulate

    sc = load(presets()["telecom"])
    local = simulate(sc, replications=24, seed=11)
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    try:
        with distributed.Client(cluster) as client:
            pids = client.run(os.getpid)
            done = []
            box = {}

            def run():
                box["res"] = simulate(sc, replications=24, seed=11, executor=client.get_executor(),
                                      progress=lambda d, t: done.append(d))

            th = threading.Thread(target=run)
            th.start()
            while len(done) < 3 and th.is_alive():
                time.sleep(0.05)
            at_kill = len(done)
            os.kill(next(iter(pids.values())), signal.SIGKILL)  # one worker dies mid-run
            th.join(timeout=240)
            assert not th.is_alive()
            assert at_kill < 24  # the kill came before the last replication finished
    finally:
        cluster.close()
    remote = box["res"]
    for name in ("segments", "groups", "day"):
        assert remote.per_replication[name].equals(local.per_replication[name]), name


@pytest.mark.parametrize("given,expected", [
    ("tcp://127.0.0.1:8786", "tcp://127.0.0.1:8786"), ("10.0.0.5:8786", "tcp://10.0.0.5:8786"),
    ("TCP://host.example:1", "tcp://host.example:1"), ("[::1]:8786", "tcp://[::1]:8786"),
])
def test_tcp_addresses_are_accepted_with_or_without_the_scheme(given, expected):
    from ccplan.cluster import check_address

    assert check_address(given) == expected


@pytest.mark.parametrize("given,words", [
    ("tls://127.0.0.1:8786", "tls:// needs certificates"), ("ucx://127.0.0.1:8786", "'ucx' is not supported"),
    ("inproc://x", "'inproc' is not supported"), ("127.0.0.1", "(no port)"), ("tcp://h:0", "is not tcp://"),
    ("tcp://h:99999", "is not tcp://"), ("tcp://[::1", "is not tcp://"), ("tcp://h:1/path", "is not tcp://"),
    ("tcp://user@h:1", "is not tcp://"), ("tcp://", "is not tcp://"),
])
def test_other_protocols_and_malformed_addresses_are_refused_before_connecting(given, words):
    from ccplan.cluster import ClusterError, check_address

    with pytest.raises(ClusterError) as exc:
        check_address(given)
    assert words in str(exc.value) and "tcp://HOST:PORT" in str(exc.value)


class _FakeClient:
    """A client whose tasks never finish, with a scheduler that reports ``workers`` (None: does not answer)."""

    def __init__(self, workers):
        from concurrent.futures import Future

        self.workers, self.status, self.scheduler = workers, "running", self
        self.futures: list[Future] = []
        fake = self

        class _Ex:
            def submit(self, fn, *args, **kwargs):
                f = Future()
                fake.futures.append(f)
                return f

        self._ex = _Ex()

    def get_executor(self, **kwargs):
        return self._ex

    def identity(self, **kwargs):
        return None

    def sync(self, fn, *args, callback_timeout=None, **kwargs):
        if self.workers is None:
            raise TimeoutError("no answer")
        return {"n_workers": self.workers}


@pytest.mark.parametrize("workers,words", [(0, "no Dask worker has been connected"), (None, "has not answered for")])
def test_the_watchdog_ends_outstanding_work_when_no_worker_or_no_scheduler_is_left(workers, words):
    from ccplan.cluster import ClusterError, WatchedExecutor

    client = _FakeClient(workers)
    ex = WatchedExecutor(client, "tcp://h:1", no_worker_s=1.0, scheduler_lost_s=1.0)
    try:
        fut = ex.submit(print, "never runs")
        t0 = time.perf_counter()
        with pytest.raises(ClusterError, match=words):
            fut.result(timeout=10)
        assert time.perf_counter() - t0 < 3  # 1 s, polled every 0.5 s
        assert client.futures[0].cancelled()
        with pytest.raises(ClusterError, match=words):
            ex.submit(print, "refused")
    finally:
        ex.shutdown()


def test_a_cancelled_task_means_a_lost_scheduler_and_results_and_errors_pass_through():
    from ccplan.cluster import ClusterError, WatchedExecutor

    client = _FakeClient(2)
    ex = WatchedExecutor(client, "tcp://h:1")
    try:
        ok, bad, lost = (ex.submit(print) for _ in range(3))
        client.futures[0].set_result(42)
        client.futures[1].set_exception(ValueError("the task's own error"))
        client.futures[2].cancel()
        assert ok.result(timeout=5) == 42
        with pytest.raises(ValueError, match="the task's own error"):
            bad.result(timeout=5)
        with pytest.raises(ClusterError, match="lost the connection to the Dask scheduler at tcp://h:1"):
            lost.result(timeout=5)
    finally:
        ex.shutdown()
