from mptui.cli import main

raise SystemExit(main())
