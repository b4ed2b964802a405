"""The deployment at a glance: workers' heartbeats, status, Prometheus metrics."""
