"""envtrace: complaints to traced sources and tracked cases."""
__version__ = "0.1.0"
