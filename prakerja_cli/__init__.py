"""`prakerja`, the operator's command line: the programme's daily work (waves, imports, jobs,
figures, approvals) done through the public API over HTTP, so that one tool serves the local stack
and a deployed stage alike.

A package of its own beside `chalicelib`, never imported by it: the Lambda bundle carries none of it."""
