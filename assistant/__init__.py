"""Guideline assistant: answers questions about five Chinese organisation-building
guidelines and cites the exact clause that says so.

Data flows one way: corpus → clauses → index → retrieve → answer → (CLI | web | quiz | eval).
"""

__version__ = "0.1.0"
