from escrow.cli import main

raise SystemExit(main())
