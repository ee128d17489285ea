"""The development flow (runs, merges, releases) as commands.

Each command builds a `Plan`: the checks it makes before touching anything, then an ordered list
of steps (mostly plain git argv), printed as they run or, with --dry-run, instead of running.
After the steps, the engine judges the refs the user is about to push exactly as the server will;
if it would refuse them, or any step fails, the repository is put back as it was.

Modules, one job each:
- errors:     the two ways a command stops (usage problem: exit 2; policy refusal: exit 1)
- workspace:  the repository as the commands see it (policy, refs, clean work tree, file contents)
- steps:      the step types and the plan
- rollback:   remembering the refs and HEAD before a plan, restoring them after a failure
- execute:    running a plan: echo, run, verify with the engine, roll back
- verify:     the engine's verdicts (a merge before it is made; the push after it is made)
- yamledit:   changing one top-level line of a YAML file, keeping comments, order and quoting
- messages:   commit subjects that fit the commit-message rule
- runs:       task and debug branches: naming and `start`
- finish:     `task finish`
- merging:    `merge` (--no-ff and --squash with the squash record)
- release:    `release` (bump VERSION, tag, merge main back into dev)
- listing:    `tasks` (every task run, its config values, merged or not)
"""
