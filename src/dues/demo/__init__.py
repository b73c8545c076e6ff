"""The demo company: a seeded, realistic year of an Indian distributor's receivables."""
