from policy.cli import main

raise SystemExit(main())
