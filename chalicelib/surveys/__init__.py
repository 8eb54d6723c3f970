"""Employment survey dispatch, responses and survey incentives."""
