"""firmsync's Dagster code location: every exchange with an outside system, as software-defined assets."""
