"""Quality gates: Great Expectations suites generated from the data contracts. Plain Python, no Dagster."""
