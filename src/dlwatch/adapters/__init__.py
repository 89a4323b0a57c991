"""Built-in download-client adapters, one module per client."""
