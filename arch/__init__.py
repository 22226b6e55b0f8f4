"""xpusim package."""
