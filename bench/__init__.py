"""Northstar benchmarks (`make bench`): each measurement side by side with its limit and a naive peer, as ratios.

Benchmarks are not tests: nothing here asserts a time. The report lands in bench/results/report.json and a readable
table is printed (and written to bench/results/report.md).
"""
