"""Benchmarks against the simulator with injected latency. They print ratios measured in one run."""
