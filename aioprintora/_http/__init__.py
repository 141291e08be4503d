"""The request path's internals: the transport, the retry loop, the pure decoding step."""
