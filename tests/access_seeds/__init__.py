"""Seeds of the access matrix, one module per feature
(see tests/integration/access/test_access_matrix.py).

A module defines ``seed(setting) -> dict[str, str]``: it creates, in the matrix's
application, what its rows need (a problem of gpo-toulouse and one of another GPO,
a slot of csp-toulouse...) and returns the values of its rules' variables. Optional:
``FRESH`` (name → function returning new values for each request of a row that
changes state) and ``BODIES`` (name → (``json`` or ``form``, factory)).
"""
