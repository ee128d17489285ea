"""Task results end to end: three real runs made with `policy run` (a tiny training script that
writes metrics.json and a loss curve), merged into dev and main with the project's own commands
against a real server with the hook, then `policy tasks` (every format, sort, filters, fitting),
`policy report` (the summary files and a PDF compiled by Typst) and the refusals of `policy run`."""

from __future__ import annotations

import csv
import io
import json
import subprocess
from pathlib import Path

import pytest
from conftest import Repo, World, config, policy_cmd
from workflow_helpers import cli, current, ok, ok_and_push, pushed

from policy.commands.results import tasks as tasks_command
from policy.config import DEFAULTS, parse_policy_text
from policy.template import TEMPLATE
from policy.workflow import table
from policy.workflow.listing import collect
from policy.workflow.workspace import Workspace

T1, T2, T3 = "20260101-100000", "20260102-110000", "20260103-120000"

# A training run in miniature: reads its config (given by `policy run` on the command line and in
# the environment), prints its progress, writes metrics.json and charts/loss.csv where it runs.
TRAIN = """\
import argparse, json, os, sys
parser = argparse.ArgumentParser()
parser.add_argument("--config", required=True)
parser.add_argument("--epochs", type=int, default=3)
parser.add_argument("--fail", action="store_true")
args = parser.parse_args()
assert os.environ["POLICY_RUN_CONFIG"] == args.config, "the config is given both ways"
cfg = dict(line.split(": ", 1) for line in open(args.config).read().splitlines() if ": " in line)
lr, seed = float(cfg["LEARNING_RATE"]), int(cfg["RANDOM_SEED"])
os.makedirs("charts", exist_ok=True)
rows = ["step,train_loss,val_loss"]
for step in range(1, args.epochs + 1):
    loss = round(1 / (1 + lr * 1000 * step) + seed / 1000, 4)
    rows.append(f"{step},{loss},{round(loss * 1.1, 4)}")
    print(f"epoch {step} loss {loss}", flush=True)
with open("charts/loss.csv", "w") as f:
    f.write("\\n".join(rows) + "\\n")
acc = round(1 - loss, 4)
with open("metrics.json", "w") as f:
    json.dump({"acc": acc, "val": {"acc": round(acc - 0.02, 4), "loss": round(loss * 1.1, 4)}}, f)
if args.fail:
    print("diverged", file=sys.stderr)
    sys.exit(3)
"""


def seed_repo(world: World) -> Repo:
    repo = world.work
    repo.commit(
        "feat: initial model and task layout",
        {"tasks/main/config.yaml": config("0.1.0"), "tasks/main/train.py": TRAIN, "src/model.py": "pass\n"},
    )
    pushed(repo, "main")
    repo.branch("dev")
    pushed(repo, "dev")
    repo.checkout("main")
    return repo


def set_config(repo: Repo, run: str, **values: object) -> None:
    path = repo.path / "tasks" / run / "config.yaml"
    text = path.read_text()
    for key, value in values.items():
        text = "\n".join(f"{key}: {value}" if line.startswith(f"{key}:") else line for line in text.splitlines())
        text += "\n"
    path.write_text(text)


def make_run(repo: Repo, slug: str, time: str, epochs: int, **values: object) -> str:
    """policy task start, change the config, policy run, commit the results, push."""
    repo.checkout("main")
    run = ok_and_push(repo, "task", "start", slug, "--time", time)
    set_config(repo, run, **values)
    out = cli(repo, "run", "--", "--epochs", str(epochs))
    assert out.code == 0, out.show()
    assert f"epoch {epochs} loss" in out.stdout  # streamed through
    changed = repo.git("ls-files", "--modified", "--others", "--exclude-standard").splitlines()
    assert changed and all(path.startswith(f"tasks/{run}/") for path in changed), changed
    repo.git("add", "--", f"tasks/{run}")
    repo.git("commit", "-q", "-m", f"task: {slug} results")
    pushed(repo, run)  # the server's task-scope accepts everything the run wrote
    return run


@pytest.fixture(scope="module")
def three(tmp_path_factory: pytest.TempPathFactory) -> tuple[World, Repo, list[str]]:
    """Three runs: lr-small merged into main and dev, lr-big into dev only, seed-7 open."""
    mp = pytest.MonkeyPatch()
    home = tmp_path_factory.mktemp("home")
    (home / "gitconfig").write_text(
        "[user]\n\tname = Researcher\n\temail = r@example.com\n[init]\n\tdefaultBranch = main\n"
        "[advice]\n\tdetachedHead = false\n"
    )
    mp.setenv("GIT_CONFIG_GLOBAL", str(home / "gitconfig"))
    mp.setenv("GIT_CONFIG_NOSYSTEM", "1")
    mp.setenv("HOME", str(home))
    world = World(tmp_path_factory.mktemp("results"))
    repo = seed_repo(world)
    small = make_run(repo, "lr-small", T1, 4, LEARNING_RATE=0.0005)
    ok_and_push(repo, "task", "finish", "--dev")
    big = make_run(repo, "lr-big", T2, 3, LEARNING_RATE=0.01)
    repo.checkout("dev")
    ok_and_push(repo, "merge", big)
    seven = make_run(repo, "seed-7", T3, 2, RANDOM_SEED=7)
    yield world, repo, [small, big, seven]
    mp.undo()


@pytest.fixture(autouse=True)
def git_env() -> None:  # the module's world has its own git config (see `three`)
    return None


def metrics_of(repo: Repo, run: str) -> dict[str, object]:
    loaded = json.loads(repo.git("show", f"{run}:tasks/{run}/metrics.json"))
    return {"acc": loaded["acc"], "val.acc": loaded["val"]["acc"], "val.loss": loaded["val"]["loss"]}


def test_tasks_json_shows_status_metrics_and_what_differs(three: tuple[World, Repo, list[str]]) -> None:
    _, repo, runs = three
    data = json.loads(ok(repo, "tasks", "--format", "json"))
    assert [r["name"] for r in data["runs"]] == ["lr-small", "lr-big", "seed-7"]
    assert [r["branch"] for r in data["runs"]] == runs
    assert [r["status"] for r in data["runs"]] == ["main", "dev", "open"]
    assert data["metrics"] == ["acc", "val.acc", "val.loss"]
    assert data["settings"] == ["RANDOM_SEED", "LEARNING_RATE"]  # what some run changed, in config order
    for row, run in zip(data["runs"], runs):
        assert {k: row["values"][k] for k in data["metrics"]} == metrics_of(repo, run)
        assert row["commit"] == repo.sha(run) and row["metric_files"] == ["metrics.json"]
    assert [r["differs"] for r in data["runs"]] == [["LEARNING_RATE"], ["LEARNING_RATE"], ["RANDOM_SEED"]]
    assert [r["values"]["LEARNING_RATE"] for r in data["runs"]] == [0.0005, 0.01, 0.001]


def test_tasks_text_sort_filters_and_errors(three: tuple[World, Repo, list[str]]) -> None:
    _, repo, runs = three
    lines = ok(repo, "tasks", "--width", "0").splitlines()
    head = ["NAME", "VERSION", "TIME", "STATUS", "acc", "val.acc", "val.loss", "RANDOM_SEED", "LEARNING_RATE"]
    assert lines[0].split() == head
    small = metrics_of(repo, runs[0])
    assert lines[1].split() == ["lr-small", "0.1.0", T1, "main", *(str(small[k]) for k in small), "42", "0.0005"]
    assert [line.split()[3] for line in lines[1:]] == ["main", "dev", "open"]

    found = collect(Workspace(str(repo.path)))

    def names(*args: str, via_cli: bool = False) -> list[str]:
        """The names `policy tasks ARGS` lists (most cases in-process, with the command's own parser)."""
        if via_cli:
            return [line.split()[0] for line in ok(repo, "tasks", "--width", "0", *args).splitlines()[1:]]
        ctx = tasks_command.make_context("tasks", list(args))
        p = ctx.params
        return [r.name for r in table.select(found, p["wheres"], p["version"], p["merged"], p["sort"], p["desc"])]

    accs = {run: metrics_of(repo, run)["acc"] for run in runs}
    by_acc = [r.split("-", 4)[-1] for r in sorted(runs, key=lambda r: float(str(accs[r])), reverse=True)]
    assert names("--sort", "acc", "--desc", via_cli=True) == by_acc
    assert names("--sort", "LEARNING_RATE") == ["lr-small", "seed-7", "lr-big"]  # 0.0005 < 0.001 < 0.01
    assert names("--where", "status=open", via_cli=True) == ["seed-7"]
    assert names("--merged") == ["lr-small", "lr-big"]
    assert names("--where", "LEARNING_RATE>0.001", "--where", "status!=main") == ["lr-big"]
    assert names("--version", "0.2.0") == [] and names("--version", "0.1.0") == ["lr-small", "lr-big", "seed-7"]
    chosen = ok(repo, "tasks", "-k", "val.acc", "-k", "TRAIN").splitlines()
    assert chosen[0].split() == ["NAME", "VERSION", "TIME", "STATUS", "val.acc", "TRAIN"]

    for args in (["-k", "NOPE"], ["--sort", "accuracy"], ["--where", "lr=1"]):
        out = cli(repo, "tasks", *args)
        assert out.code == 2 and "no run has this key" in out.stderr and "val.acc" in out.stderr, out.show()
        assert "Traceback" not in out.stderr and len(out.stderr.strip().splitlines()) == 1
    assert "did you mean 'acc'" in cli(repo, "tasks", "--sort", "accuracy").stderr


def test_tasks_fits_the_width_and_other_formats(three: tuple[World, Repo, list[str]]) -> None:
    _, repo, runs = three
    out = cli(repo, "tasks", "--width", "60", "--sort", "RANDOM_SEED")
    assert out.code == 0, out.show()
    lines = out.stdout.splitlines()
    assert all(len(line) <= 60 for line in lines) and len(lines) == 4
    assert "RANDOM_SEED" in lines[0].split()  # the sort key stays
    assert "left out to fit 60 characters" in out.stderr and "LEARNING_RATE" in out.stderr
    rows = list(csv.DictReader(io.StringIO(ok(repo, "tasks", "--format", "csv"))))
    assert [r["branch"] for r in rows] == runs and rows[2]["RANDOM_SEED"] == "7" and rows[1]["status"] == "dev"
    markdown = ok(repo, "tasks", "--format", "markdown").splitlines()
    assert markdown[0].startswith("| NAME | VERSION |") and markdown[1].startswith("|---|") and len(markdown) == 5


def test_report_writes_the_summary_and_a_pdf(three: tuple[World, Repo, list[str]]) -> None:
    pypdf = pytest.importorskip("pypdf")
    pytest.importorskip("typst")
    _, repo, runs = three
    out = cli(repo, "report")
    assert out.code == 0, out.show()
    folder = repo.path / "reports"
    for name in ("runs.csv", "runs.json", "report.json", "report.typ", "report.pdf", "charts/loss.csv"):
        assert (folder / name).is_file(), name
    assert "reports/report.pdf" in out.stdout and "commit reports/ on dev" in out.stderr  # we are on a task branch
    table = list(csv.DictReader(io.StringIO((folder / "runs.csv").read_text())))
    assert [r["name"] for r in table] == ["lr-small", "lr-big", "seed-7"]
    meta = json.loads((folder / "report.json").read_text())
    assert meta["charts"] == [
        {"name": "loss", "file": "charts/loss.csv", "x": "step", "series": ["train_loss", "val_loss"],
         "runs": ["lr-small", "lr-big", "seed-7"]}
    ]  # fmt: skip
    assert meta["statuses"] == {"main": 1, "dev": 1, "open": 1}
    lined_up = list(csv.reader(io.StringIO((folder / "charts/loss.csv").read_text())))
    assert lined_up[0] == ["run", "step", "series", "value"]
    for name, run in zip(["lr-small", "lr-big", "seed-7"], runs):
        source = list(csv.DictReader(io.StringIO(repo.git("show", f"{run}:tasks/{run}/charts/loss.csv"))))
        mine = [(r[1], float(r[3])) for r in lined_up[1:] if r[0] == name and r[2] == "train_loss"]
        assert mine == [(r["step"], float(r["train_loss"])) for r in source]
    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(folder / "report.pdf").pages)
    for needle in ("lr-small", "lr-big", "seed-7", "merged into main", "merged into dev", "loss", "val.acc"):
        assert needle in text, needle
    assert str(metrics_of(repo, runs[2])["acc"]) in text
    # filters apply to the report too; no PDF when asked not to
    out = cli(repo, "report", "--out", "only-open", "--where", "status=open", "--no-pdf")
    assert out.code == 0, out.show()
    assert not (repo.path / "only-open/report.pdf").exists()
    assert [r["name"] for r in csv.DictReader(io.StringIO((repo.path / "only-open/runs.csv").read_text()))] == [
        "seed-7"
    ]


def test_run_records_logs_and_exit_status(three: tuple[World, Repo, list[str]]) -> None:
    _, repo, runs = three
    run = runs[2]
    repo.checkout(run)
    folder = repo.path / "tasks" / run
    record = json.loads((folder / "run.json").read_text())["runs"]
    assert len(record) == 1 and record[0]["exit"] == 0 and record[0]["script"] == "train.py"
    assert record[0]["args"] == ["--epochs", "2"] and record[0]["commit"] == repo.sha(f"{run}~1")
    assert record[0]["start"] <= record[0]["end"]
    log = (folder / "task.log").read_text()
    assert "# policy run train.py --config" in log and "epoch 2 loss" in log and "exit 0" in log

    out = cli(repo, "run", "train.py", "--fail", "--epochs", "1")
    assert out.code == 3, out.show()
    assert "diverged" in out.stdout  # the script's stderr is streamed and logged too
    record = json.loads((folder / "run.json").read_text())["runs"]
    assert [r["exit"] for r in record] == [0, 3] and record[1]["args"] == ["--fail", "--epochs", "1"]
    assert "diverged" in (folder / "task.log").read_text().split("# policy run")[-1]
    repo.git("checkout", "-q", "--", f"tasks/{run}")
    repo.git("clean", "-qfd", "--", f"tasks/{run}")


def test_run_refuses_where_there_is_no_run(three: tuple[World, Repo, list[str]]) -> None:
    world, repo, _ = three
    repo.checkout("dev")
    out = cli(repo, "run")
    assert out.code == 2 and "dev is not a run branch" in out.stderr and "policy task start" in out.stderr, out.show()
    assert not (repo.path / "tasks/main/task.log").exists()

    # a task branch made by hand, without its folder: the hint, followed literally, works
    bare = "task-0.1.0-20260104-bare"
    repo.git("checkout", "-q", "-b", bare, "main")
    out = cli(repo, "run")
    assert out.code == 2 and f"has no run folder tasks/{bare}/" in out.stderr, out.show()
    recipe = out.stderr.split("commit it: ", 1)[1].strip()
    assert subprocess.run(recipe, shell=True, cwd=repo.path, capture_output=True).returncode == 0
    pushed(repo, bare)
    out = cli(repo, "run", "missing.py")
    assert out.code == 2 and f"there is no tasks/{bare}/missing.py (its scripts: train.py)" in out.stderr

    # a debug branch whose DEBUG is false: reminded, and the run goes on
    repo.checkout("dev")
    debug = ok_and_push(repo, "debug", "start", "smoke")
    assert current(repo) == debug
    set_config(repo, debug, DEBUG="false")
    out = cli(repo, "run", "--", "--epochs", "1")
    assert out.code == 0 and "DEBUG is not true" in out.stderr and "policy debug start" in out.stderr, out.show()
    data = json.loads(ok(repo, "tasks", "--all", "--format", "json"))
    assert [r["status"] for r in data["runs"] if r["kind"] == "debug"] == ["debug"]
    assert debug not in ok(repo, "tasks", "--format", "json")  # only with --all
    repo.git("checkout", "-q", "--", f"tasks/{debug}")
    repo.git("clean", "-qfd", "--", f"tasks/{debug}")
    assert world.server_sha(f"refs/heads/{bare}") == repo.sha(bare)


def test_tasks_reads_in_a_constant_number_of_processes(three: tuple[World, Repo, list[str]]) -> None:
    _, repo, runs = three
    counts, sizes = [], []
    for extra in (0, 10):
        for i in range(extra):
            repo.git("branch", "-f", f"task-0.1.0-202602{i + 1:02d}-copy{i}", runs[0])
        ws = Workspace(str(repo.path))
        start = ws.git.processes
        sizes.append(len(collect(ws, charts=True)))
        counts.append(ws.git.processes - start)
    assert sizes[1] == sizes[0] + 10
    assert counts[0] == counts[1] <= 6
    for i in range(10):
        repo.git("branch", "-D", f"task-0.1.0-202602{i + 1:02d}-copy{i}")


def test_unreadable_results_are_named_and_the_rest_shown(three: tuple[World, Repo, list[str]], tmp_path: Path) -> None:
    world = World(tmp_path)
    repo = seed_repo(world)
    run = ok_and_push(repo, "task", "start", "odd", "--time", T1)
    repo.commit(
        "task: odd results",
        {f"tasks/{run}/metrics.json": '{"loss": {"train": 0.5}, "bad\\u001bkey": 1}',
         f"tasks/{run}/metrics.yaml": "acc: [0.5\n",
         f"tasks/{run}/charts/x.csv": "step,a\nfoo,1\n2,bar\n3,0.5\n", f"tasks/{run}/charts/empty.csv": ""},
    )  # fmt: skip
    out = cli(repo, "tasks", "--format", "json")
    assert out.code == 0 and f"tasks/{run}/metrics.yaml:2: not valid YAML" in out.stderr, out.show()
    assert json.loads(out.stdout)["runs"][0]["metrics"] == {"loss.train": 0.5, "bad\x1bkey": 1}
    text = ok(repo, "tasks", "--width", "0")
    assert "bad\\x1bkey" in text and "\x1b" not in text  # a key from a commit cannot drive the terminal
    out = cli(repo, "report", "--no-pdf")
    assert out.code == 0 and f"tasks/{run}/charts/empty.csv: expected a header row" in out.stderr, out.show()
    assert (repo.path / "reports/charts/x.csv").read_text() == "run,step,series,value\nodd,3,a,0.5\n"


def test_policy_settings_for_results() -> None:
    assert parse_policy_text(TEMPLATE, "t").cfg == DEFAULTS
    policy = parse_policy_text("tasks:\n  metrics: [results/*.json]\n  charts: [plots/*.csv]\n", "f")
    assert policy.cfg["tasks"]["metrics"] == ["results/*.json"]
    for bad, problem in (
        ("tasks: {charts: [../x.csv]}", "inside the run's folder"),
        ("tasks: {metrics: m.json}", "a list"),
    ):
        with pytest.raises(Exception, match=problem):
            parse_policy_text(bad, "f")


def test_help_of_the_new_commands(tmp_path: Path) -> None:
    for command in ("tasks", "report", "run"):
        proc = subprocess.run(policy_cmd(command, "--help"), cwd=tmp_path, capture_output=True, text=True)
        assert proc.returncode == 0 and "Usage: policy " + command in proc.stdout
