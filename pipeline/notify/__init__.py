"""Slack digests and alerts: pure message building (escape, digest, alerts), delivery with an
idempotent log (delivery), and the jobs the CLI and the scheduler run (jobs)."""
