"""Pure accounts-receivable domain: values and functions, no Django, no I/O.

Everything here takes its inputs as arguments (dates included: nothing reads the clock) and returns
new values, so it can be tested with plain data and reused by services, importers and benchmarks.
"""
