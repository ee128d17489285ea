"""One module per command; `policy.cli` loads them lazily so hooks import only what they use."""
