"""The fast engine agrees with the reference judge (tests/reference_judge.py), push after push.

Hypothesis plans a random history (main, dev, feature, hotfix, task and debug branches and a badly
named one; code, task folders, debug output, a .pt, a 620 KB blob and symlink, main's config with
VERSION moves, a DVC pointer and a fake one, a `..` path, a broken policy file; merges real,
evil, `-s ours` and octopus, fast-forwards, squashes right and wrong, version bumps, resets,
orphans), writes it with one `git fast-import` into a bare repository, sets the server's refs
before the push, then makes a few random multi-ref pushes (create, fast-forward, force, delete,
rename, same-tip branches, lightweight and annotated tags, version tags, a tag of a blob, notes,
replace and platform refs). Each push is judged by the engine in-process, as the hook calls it,
and by the reference: the same accept/refuse and the same set of rule ids, or the test fails.
An accepted push moves the refs, and the next push is judged from there.

CI runs the `ci` profile (a fixed set of a few hundred cases). The nightly-style run:

    POLICY_HYPOTHESIS_PROFILE=nightly python -m pytest -q -p no:cacheprovider \
        tests/test_reference_property.py tests/test_parsers_property.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from hypothesis import assume, given, settings
from hypothesis import strategies as st
from reference_judge import Reference
from reference_world import (
    BRANCHES,
    FILES,
    MERGE_MESSAGES,
    MESSAGES,
    MODE_FILE,
    POLICY,
    UNSAFE,
    ZERO,
    Files,
    Plan,
    config,
    init_bare,
    set_refs,
)

from policy.config import RULE_IDS, Policy
from policy.engine import judge
from policy.gitio import Git
from policy.model import RefUpdate
from policy.verdict import server_state

TAGS = ("v0.1.0", "v0.2.0", "exp-1")
OTHER_REFS = ("refs/notes/commits", "refs/merge-requests/1/head", "refs/custom/x", "refs/pull/7/head")


# ---------------------------------------------------------------------------------- the case
class Case:
    def __init__(
        self,
        plan: Plan,
        before: dict[str, str],
        rounds: list[list[tuple[str, ...]]],  # per push: intents, resolved against the server's refs
        locals_: list[dict[str, str]],  # the local branches when each push is made
        log: list[str],
    ) -> None:
        self.plan, self.before, self.rounds, self.locals, self.log = plan, before, rounds, locals_, log

    def name(self, sha: str) -> str:
        if sha == ZERO:
            return "0"
        if sha in self.plan.commits:
            return f"c{self.plan.order.index(sha)}"
        if sha in self.plan.tags:
            return f"tag({self.plan.tags[sha][0]}->{self.name(self.plan.tags[sha][1])})"
        return f"blob:{sha[:7]}"

    def __repr__(self) -> str:
        lines = ["Case:", *[f"  {entry}" for entry in self.log]]
        lines.append("  server before: " + ", ".join(f"{r}={self.name(s)}" for r, s in sorted(self.before.items())))
        for i, intents in enumerate(self.rounds):
            lines.append(f"  push {i}: {[tuple(self.name(x) if len(x) == 40 else x for x in t) for t in intents]}")
        return "\n".join(lines)


BENIGN = ("src/model.py", "src/util.py", "README.md")


def _paths_for(branch: str, vocab: dict[str, tuple[str, tuple[bytes, ...]]]) -> list[str]:
    """Every path; code, and a task branch's own folder, more often (so that many pushes pass)."""
    paths = sorted(vocab)
    own = [p for p in paths if p.startswith(f"tasks/{branch}/")]
    usual = own * 8 if own else [*BENIGN] * 6
    return paths + usual + ["<delete>"]


@st.composite
def _change(draw: st.DrawFn, files: Files, branch: str, vocab: dict[str, tuple[str, tuple[bytes, ...]]]) -> str:
    path = draw(st.sampled_from(_paths_for(branch, vocab)))
    if path == "<delete>":
        if not files:
            return "nothing to delete"
        gone = draw(st.sampled_from(sorted(files)))
        del files[gone]
        return f"-{gone}"
    mode, variants = vocab[path]
    index = draw(st.sampled_from([0, 0, *range(len(variants))]))  # the first variant is the usual one
    files[path] = (mode, variants[index])
    return f"+{path}#{index}"


@st.composite
def _op(draw: st.DrawFn, plan: Plan, local: dict[str, str], vocab: dict, log: list[str]) -> None:
    names = sorted(local)
    op = draw(st.sampled_from(("commit",) * 4 + ("merge",) * 2 + ("branch", "ff", "squash", "bump", "reset", "root")))
    name = lambda sha: f"c{plan.order.index(sha)}"  # noqa: E731
    if op == "commit":  # on main rarely: main takes no direct commits
        b = draw(st.sampled_from([n for n in names if n != "main"] * 4 + ["main"]))
        files = dict(plan.files(local[b]))
        what = [draw(_change(files, b, vocab)) for _ in range(draw(st.integers(1, 3)))]
        usual = ("task: record run results",) * 8 if b.startswith("task-") else MESSAGES[:2] * 4
        msg = draw(st.sampled_from(MESSAGES + usual))
        local[b] = plan.commit(files, (local[b],), msg)
        log.append(f"{name(local[b])} = commit on {b} {what} {msg[:30]!r}")
    elif op == "branch":
        new, start = draw(st.sampled_from(BRANCHES)), draw(st.sampled_from(names))
        if new not in local:
            local[new] = local[start]
            log.append(f"branch {new} at {start} ({name(local[new])})")
    elif op == "merge":
        dst, src = draw(st.sampled_from(names)), draw(st.sampled_from(names))
        if dst == src or local[dst] == local[src]:
            return
        mode = draw(st.sampled_from(("real", "real", "real", "evil", "ours", "octopus")))
        files = dict(plan.files(local[dst])) if mode == "ours" else plan.merged(local[dst], local[src])
        parents = [local[dst], local[src]]
        if mode == "evil":
            draw(_change(files, "", vocab))
        if mode == "octopus":
            third = draw(st.sampled_from(names))
            if local[third] in parents:
                return
            parents.append(local[third])
        msg = draw(st.sampled_from(MERGE_MESSAGES)).format(src=src, dst=dst)
        local[dst] = plan.commit(files, parents, msg)
        log.append(f"{name(local[dst])} = {mode} merge of {src} into {dst} {msg!r}")
    elif op == "ff":
        dst, src = draw(st.sampled_from(names)), draw(st.sampled_from(names))
        if local[dst] in plan.ancestors(local[src]) and local[dst] != local[src]:
            local[dst] = local[src]
            log.append(f"fast-forward {dst} to {src} ({name(local[src])})")
    elif op == "squash" and "main" in local:
        src = draw(st.sampled_from(names))
        if src == "main":
            return
        mode = draw(st.sampled_from(("good", "good", "tree", "sha", "name")))
        files = plan.merged(local["main"], local[src])
        if mode == "tree":
            draw(_change(files, "", vocab))
        sha = plan.order[0] if mode == "sha" else local[src]
        named = "dev" if mode == "name" and src != "dev" else src
        kind = "task" if src.startswith("task-") else "feat"
        msg = f"{kind}: squash {src}\n\nSquash-Merge: {named} {sha}\n"
        local["main"] = plan.commit(files, (local["main"],), msg)
        log.append(f"{name(local['main'])} = squash ({mode}) of {src} onto main, names {named} {name(sha)}")
    elif op == "bump" and "main" in local:
        files = dict(plan.files(local["main"]))
        variants = FILES["tasks/main/config.yaml"][1]
        index = draw(st.integers(0, len(variants) - 1))
        files["tasks/main/config.yaml"] = (MODE_FILE, variants[index])
        local["main"] = plan.commit(files, (local["main"],), "chore: release")
        log.append(f"{name(local['main'])} = bump main config to variant {index}")
    elif op == "reset":
        b = draw(st.sampled_from(names))
        parents = plan.parents(local[b])
        if parents:
            local[b] = parents[0]
            log.append(f"reset {b} to {name(local[b])}")
    elif op == "root":
        b = draw(st.sampled_from(names))
        files: Files = {}
        what = [draw(_change(files, b, vocab)) for _ in range(draw(st.integers(1, 2)))]
        msg = draw(st.sampled_from(("feat: orphan", f"feat: orphan\n\nSquash-Merge: dev {plan.order[0]}\n")))
        local[b] = plan.commit(files, (), msg)
        log.append(f"{name(local[b])} = orphan commit on {b} {what} {msg!r}")


@st.composite
def _intent(draw: st.DrawFn, plan: Plan, local: dict[str, str], branches_only: bool) -> tuple[str, ...]:
    names = sorted(local)
    extra = () if branches_only else ("tag", "tag", "deltag", "other")
    what = draw(st.sampled_from(("set",) * 5 + ("delete", "rename", "alias", *extra)))
    if what == "set":
        return ("set", draw(st.sampled_from(names)))
    if what == "delete":
        return ("delete", draw(st.sampled_from(BRANCHES)))
    if what == "rename":
        return ("rename", draw(st.sampled_from(BRANCHES)), draw(st.sampled_from(BRANCHES)))
    if what == "alias":
        return ("alias", draw(st.sampled_from(BRANCHES)), draw(st.sampled_from(names)))
    if what == "deltag":
        return ("deltag", draw(st.sampled_from(TAGS)))
    target = local[draw(st.sampled_from(names))]
    style = draw(st.sampled_from(("annotated", "lightweight", "blob")))
    if style == "blob":
        target = draw(st.sampled_from(sorted(plan.blobs)))
    if what == "tag":
        tag = draw(st.sampled_from(TAGS))
        obj = plan.tag(tag, target, "blob" if style == "blob" else "commit") if style != "lightweight" else target
        return ("tag", tag, obj)
    ref = draw(st.sampled_from((*OTHER_REFS, "refs/replace/")))
    if ref == "refs/replace/":
        ref += draw(st.sampled_from(plan.order))
    return ("other", ref, target)


@st.composite
def cases(draw: st.DrawFn, hook: bool = False, branches_only: bool = False) -> Case:
    """A history, the server's refs before the first push, and a few pushes. `hook`: nothing git's
    own checks refuse before the hook runs (a `..` path) and no policy file; `branches_only`: no
    tags, no other refs, no replace refs."""
    vocab = dict(FILES) if hook or branches_only else {**FILES, **UNSAFE, **POLICY}
    plan = Plan()
    root = plan.commit(
        {"tasks/main/config.yaml": (MODE_FILE, config("0.1.0")), "src/model.py": (MODE_FILE, b"model v1\n"),
         "README.md": (MODE_FILE, b"# research v1\n")},
        (), "feat: initial layout",
    )  # fmt: skip
    local = {"main": root}
    log = ["c0 = root commit on main"]
    if draw(st.sampled_from((True, True, True, False))):
        local["dev"] = root
    for _ in range(draw(st.integers(0, 8))):
        draw(_op(plan, local, vocab, log))
    before = {}
    for b in sorted(local):
        if draw(st.integers(0, 4)) > (0 if b == "main" else 2):
            before[f"refs/heads/{b}"] = local[b]
    # a replace ref already on the server (a loop, at times): git's own receive-pack honours it, so
    # not in the cases pushed for real
    if "refs/heads/main" in before and not (branches_only or hook) and draw(st.integers(0, 9)) == 0:
        before[f"refs/replace/{before['refs/heads/main']}"] = draw(st.sampled_from(plan.order))
    rounds, locals_ = [], []
    for _ in range(draw(st.integers(1, 3))):
        for _ in range(draw(st.integers(0, 5))):
            draw(_op(plan, local, vocab, log))
        rounds.append(
            [draw(_intent(plan, local, branches_only)) for _ in range(draw(st.sampled_from((1, 1, 1, 2, 2, 3, 4))))]
        )
        locals_.append(dict(local))
    return Case(plan, before, rounds, locals_, log)


def resolve(
    intents: list[tuple[str, ...]], server: dict[str, str], local: dict[str, str]
) -> list[tuple[str, str, str]]:
    """The push's lines, given the server's refs now (at most one line per ref, no no-ops)."""
    out: dict[str, tuple[str, str, str]] = {}

    def line(ref: str, new: str) -> None:
        old = server.get(ref, ZERO)
        if ref not in out and old != new:
            out[ref] = (ref, old, new)

    for intent in intents:
        what = intent[0]
        if what == "set":
            line(f"refs/heads/{intent[1]}", local[intent[1]])
        elif what == "delete" and f"refs/heads/{intent[1]}" in server:
            line(f"refs/heads/{intent[1]}", ZERO)
        elif what == "rename" and f"refs/heads/{intent[1]}" in server and intent[1] != intent[2]:
            tip = server[f"refs/heads/{intent[1]}"]
            line(f"refs/heads/{intent[1]}", ZERO)
            line(f"refs/heads/{intent[2]}", tip)
        elif what == "alias":
            line(f"refs/heads/{intent[1]}", local[intent[2]])
        elif what == "deltag" and f"refs/tags/{intent[1]}" in server:
            line(f"refs/tags/{intent[1]}", ZERO)
        elif what == "tag":
            line(f"refs/tags/{intent[1]}", intent[2])
        elif what == "other":
            line(intent[1], intent[2])
    return list(out.values())


# ---------------------------------------------------------------------------------- verdicts
def engine_verdict(repo: Path, updates: list[tuple[str, str, str]]) -> tuple[bool, set[str], str]:
    """As the hook asks it: (accepted, rule ids, the violations shown)."""
    git = Git(cwd=str(repo))
    try:
        found = judge(git, Policy.defaults(), server_state(git), [RefUpdate(*u) for u in updates])
    except Exception as exc:  # the engine must never fail: shown as its own "rule"
        return False, {f"<crash {type(exc).__name__}>"}, f"{type(exc).__name__}: {exc}"
    shown = "\n".join(f"    {v.rule:<18} {v.commit[:7] or '-------'} {v.ref} {v.path} {v.message}" for v in found)
    return not found, {v.rule for v in found}, shown


def reference_verdict(repo: Path, updates: list[tuple[str, str, str]]) -> tuple[bool, set[str], str]:
    found = Reference(str(repo)).judge(updates)
    return not found, {f.rule for f in found}, "\n".join(f"    {f}" for f in found)


def run_case(case: Case, root: Path) -> int:
    """Every push of the case, judged both ways; returns how many pushes were compared."""
    repo = init_bare(root / "server.git")
    case.plan.write(repo)
    server = dict(case.before)
    set_refs(repo, server)
    compared = 0
    for i, (intents, local) in enumerate(zip(case.rounds, case.locals)):
        updates = resolve(intents, server, local)
        if not updates:
            continue
        engine = engine_verdict(repo, updates)
        reference = reference_verdict(repo, updates)
        compared += 1
        pushed = "\n".join(f"    {ref} {case.name(old)} -> {case.name(new)}" for ref, old, new in updates)
        assert engine[:2] == reference[:2], (
            f"push {i} judged differently\n{case!r}\n  push {i}:\n{pushed}\n"
            f"  engine {sorted(engine[1])}:\n{engine[2]}\n  reference {sorted(reference[1])}:\n{reference[2]}"
        )
        if engine[0]:
            for ref, _old, new in updates:
                if new == ZERO:
                    server.pop(ref, None)
                else:
                    server[ref] = new
            set_refs(repo, server)
    return compared


@given(cases())
def test_engine_agrees_with_the_reference(case: Case) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        run_case(case, Path(tmp))


# ---------------------------------------------------------------------------------- the real hook
KNOWN = set(RULE_IDS) | {"ref-namespace", "unsafe-path", "policy-file"}


def hook_verdict(client: Path, server: Path, updates: list[tuple[str, str, str]]) -> tuple[bool, set[str], str]:
    specs = [f":{ref}" if new == ZERO else f"+{new}:{ref}" for ref, _old, new in updates]
    proc = subprocess.run(["git", "push", "--porcelain", str(server), *specs], cwd=client, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    rules = {
        words[1]
        for line in proc.stdout.splitlines()
        if line.startswith("remote:") and len(words := line.split()) > 1 and words[1] in KNOWN
    }
    return proc.returncode == 0, rules, proc.stdout


@settings(max_examples=6)
@given(cases(hook=True))
def test_the_hook_gives_the_in_process_verdict(case: Case) -> None:
    """A handful of generated cases pushed for real (`git push` into a bare repository whose hook
    came from `policy install --server`): the hook's verdict is the in-process engine's."""
    with tempfile.TemporaryDirectory() as tmp:
        _push_for_real(case, Path(tmp))


def _push_for_real(case: Case, root: Path) -> None:
    assume(resolve(case.rounds[0], case.before, case.locals[0]))  # the first push moves something
    server = init_bare(root / "server.git")
    installed = subprocess.run([sys.executable, "-m", "policy", "install", "--server", str(server)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)  # fmt: skip
    assert installed.returncode == 0, installed.stdout
    subprocess.run(["git", "config", "receive.denyDeleteCurrent", "ignore"], cwd=server, check=True)
    client = init_bare(root / "client.git")
    case.plan.write(server)
    case.plan.write(client)
    refs = dict(case.before)
    set_refs(server, refs)
    for intents, local in zip(case.rounds, case.locals):
        updates = resolve(intents, refs, local)
        if not updates:
            continue
        expected = engine_verdict(server, updates)
        got = hook_verdict(client, server, updates)
        crashed = any(rule.startswith("<crash") for rule in expected[1])  # the hook: one line, no rule
        assert (got[0], set() if crashed else got[1]) == (expected[0], set() if crashed else expected[1]), (
            f"{case!r}\n{updates}\nhook:\n{got[2]}\nin-process:\n{expected[2]}"
        )
        out = subprocess.run(["git", "for-each-ref", "--format=%(objectname) %(refname)"], cwd=server,
                             stdout=subprocess.PIPE, text=True, check=True)  # fmt: skip
        refs = {name: sha for sha, name in (line.split(" ", 1) for line in out.stdout.splitlines())}
