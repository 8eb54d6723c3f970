"""Online registration, waves and selection, offline CSV imports."""
