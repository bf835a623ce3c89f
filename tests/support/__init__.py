"""Loopback machinery shared by the tests and the benchmarks in bench/.

One proxy in front of a moto server and one way to pick a free port, so that
what the fault tests and the upload benchmark run against cannot drift apart.
Standard library only: bench/ imports it without pytest.
"""
