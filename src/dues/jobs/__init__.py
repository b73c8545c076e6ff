"""Jobs and schedules: the desk's automatic work (dunning run, promise refresh, management reports,
bank folder pick-up, month-end close pack), run by ``dues worker`` on Huey; see docs/jobs.md."""
