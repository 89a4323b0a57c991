"""dlwatch: send downloads to the clients you run at home, and track each one to the end."""

__version__ = "0.1.0"
