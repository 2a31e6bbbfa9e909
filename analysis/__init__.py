"""insole analysis: the science and the file format, importable on any laptop.

No hardware library is imported here (imports go ``pi`` → ``analysis``, never back).
"""

__version__ = "0.1.0"

from .load import LoadedSession, load_session  # noqa: E402,F401  (the notebook API)
