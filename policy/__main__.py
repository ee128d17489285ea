from policy.cli import entry

entry()
