"""The host project: settings and URLs for the demo and the tests, and nothing else.

It is called ``mysite`` because Python's standard library owns the module name ``site``.
"""
