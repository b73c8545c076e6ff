"""Collections: dunning policies, the daily run, the activity log."""
