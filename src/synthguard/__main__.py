"""``python -m synthguard``: the same as the ``synthguard`` command."""

from __future__ import annotations

from synthguard.cli import main

if __name__ == "__main__":
    main()
