"""The run engine: plan a request's units, lock them, process them (in workers), stage and
commit their products, record them in the ledger, and decide their versions."""
