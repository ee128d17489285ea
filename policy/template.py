"""The file `policy init` writes: every default, commented. Loading it gives exactly DEFAULTS
(a test checks this), so the file documents the built-in behaviour and is a starting point."""

TEMPLATE = r"""# .branch-policy.yaml -- branch-policy settings (https://github.com/branch-policy)
#
# The server reads this file from `main` as it was before each push, so a push cannot loosen
# the rules that judge it: change it on dev (or a feature branch) and merge it into main.
# Every key is optional; what is left out keeps the default shown here. Unknown keys are errors.
version: 1

# What the server does when the check itself fails (a bug, a corrupt object): refuse | allow.
# Under allow, violations found before the failure still refuse the push.
on_error: refuse

# Seconds the server hook may take to judge a push; past it the push is refused (or allowed,
# under on_error: allow). GitHub Enterprise gives all pre-receive hooks of a push 5 seconds.
time_budget_s: 60

# Placeholders for the branch and tag patterns below (RE2 regular expressions, the dialect of
# GitHub's and GitLab's push rules: no look-arounds or back-references; linear time).
placeholders:
  semver: '(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)'
  time: '[0-9]{8}(?:-[0-9]{4}|-[0-9]{6}|T[0-9]{6})?'   # YYYYMMDD[-HHMM|-HHMMSS|THHMMSS]
  slug: '[a-z0-9][a-z0-9._-]*'

# Branch kinds: the name pattern, and the kinds whose branches may be merged into it.
# `kind: null` removes a kind (for example `dev: null` for the main-only variant of the model).
# main, dev, task, hotfix and debug have the special meanings the rules below give them.
branches:
  main:
    pattern: main
    merges_from: [dev, hotfix, task]
  dev:
    pattern: dev
    merges_from: [feature, hotfix, task, main]
  feature:
    pattern: 'feature-{slug}'
    merges_from: [dev, main]
  hotfix:
    pattern: 'hotfix-{slug}'
    merges_from: [main]
  task:
    pattern: 'task-{semver}-{time}-{slug}'
    merges_from: []          # add main to let task branches take main's updates
  debug:
    pattern: 'debug-{semver}-{time}-{slug}'
    merges_from: []

# Task runs: one folder per branch under `dir`; the core version lives in `main_config`.
tasks:
  dir: tasks
  main_config: tasks/main/config.yaml
  version_key: VERSION

# Version tags (protected-ref, version-tag).
version_tag: 'v{semver}'

# Rules, by id. `enabled: false` (or `rule-id: false`) turns one off.
rules:
  branch-name:
    enabled: true
    also_allow: []           # extra RE2 regexes of accepted branch names, e.g. ['renovate/.*']
  protected-ref:
    enabled: true
    branches: [main, dev]    # kinds never deleted nor force-pushed
  main-direct-commit:
    enabled: true
  squash-merge:
    enabled: true
    trailer: Squash-Merge    # the record: 'Squash-Merge: <branch> <40-hex commit>'
  version-bump:
    enabled: true
  merge-source:
    enabled: true
  task-scope:
    enabled: true
  task-base:
    enabled: true
    from: [main, task]
  debug-leak:
    enabled: true
    folders: 'debug-*'       # folders under tasks/ that hold debug runs
  commit-message:
    enabled: true
    types: [feat, fix, docs, style, refactor, test, chore, task]
    max_subject_length: 72
    allow_git_merge_messages: true   # "Merge branch 'x' ..." is fine, except on strict branches
    strict_branches: [main]
  task-type:
    enabled: true
    type: task
  hotfix-size:
    enabled: true
    max_lines: 50            # added + deleted lines of text files
  version-tag:
    enabled: true
  task-config:
    enabled: true
    required:                # key: semver | bool | int | number | str | null-or-str | null | list | mapping | any
      VERSION: semver
      DEBUG: bool
      RESUME: null-or-str
      TRAIN: bool
      TEST: bool
      MODEL_PATH: null-or-str
      RANDOM_SEED: int
  large-file:
    enabled: true
    max_kb: 500              # 1 KB = 1024 bytes
    suffixes: [.pt, .pth, .ckpt, .safetensors, .h5, .hdf5, .npy, .npz, .pkl, .pickle, .joblib,
               .onnx, .pb, .tflite, .bin, .tar, .zip, .gz, .tgz, .7z, .parquet, .feather, .arrow,
               .tfrecord, .mat]
    allow: ['*.dvc', '.dvc/*', .dvcignore]   # no suffix check: DVC's pointer and config files
                             # (their size still counts; a .dvc file must be a DVC pointer;
                             # nothing under .dvc/cache/ or .dvc/tmp/)
  unsafe-path:
    enabled: true            # no path component git will not check out: '.', '..', '.git'
  ref-namespace:
    enabled: true            # refs outside refs/heads/ and refs/tags/ are refused, except:
    allow: [refs/merge-requests/, refs/keep-around/, refs/environments/, refs/pipelines/, refs/pull/]
"""
