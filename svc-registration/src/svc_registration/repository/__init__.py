"""Loading and saving: all of the service's SQL lives in this package, one module per feature."""
