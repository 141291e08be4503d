"""One small class per API resource, each holding a reference to the client."""
