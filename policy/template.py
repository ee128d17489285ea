"""The file `policy init` writes: every default, commented. Loading it gives exactly DEFAULTS
(a test checks this), so the file documents the built-in behaviour and is a starting point."""

TEMPLATE = r"""# .branch-policy.yaml -- branch-policy settings (`policy rules` lists them with their current values)
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
  # What a run recorded, read by `policy tasks` and `policy report` (globs inside tasks/<run>/):
  metrics: [metrics.json, metrics.yaml]   # JSON or YAML mappings; nested keys shown as val.acc
  charts: ['charts/*.csv']                # chart data: a step/x column, then one column per series

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
    types: [feat, fix, docs, style, refactor, test, chore, task]   # letters, digits, _ and -
    type_case: lower         # lower: 'Feat: x' is refused (did you mean 'feat: x'); any: accepted
    scopes: []               # [] any scope; [model, data]: only these; 'model|data(/.*)?': an RE2 pattern
    scope_required: false
    max_subject_length: 72
    allow_git_merge_messages: true        # "Merge branch 'x' ..." on merges, except on strict branches
    allow_platform_merge_messages: true   # the merge buttons' messages below, same conditions
    platform_merge_messages:              # name: RE2 pattern, matched at the start of the message
      github: 'Merge pull request #[0-9]+ from \S+(?:\n|\z)'
      gitlab: '(?m)Merge branch ''[^''\n]+'' into ''[^''\n]+''\n(?s:.*)^See merge request [^\s!]+![0-9]+$'
      gitea: 'Merge pull request ''.*'' \([#!][0-9]+\) from \S+ into \S+(?:\n|\z)'
      bitbucket: 'Merged in \S+ \(pull request #[0-9]+\)(?:\n|\z)'
      bitbucket-server: 'Merge pull request #[0-9]+ in \S+ from \S+ to \S+(?:\n|\z)'
    allow_autosquash_messages: true   # 'fixup! ...', 'squash! ...', 'amend! ...' except on strict branches
    allow_revert_messages: true       # git revert's 'Revert "..."' naming the commit in its body
    fix: false               # commit-msg hook: correct type case, ': ' and the blank line in place
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
