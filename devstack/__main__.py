"""`python -m devstack`: the local stack in the foreground (see devstack.stack)."""

from devstack.stack import main

raise SystemExit(main())
