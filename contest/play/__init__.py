"""Timed contests: entry, papers, attempts, scoring, ranking and the live channel."""
