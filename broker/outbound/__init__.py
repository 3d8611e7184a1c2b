"""Calls out to relying services' registered URIs: which addresses may be called, the proxy, the client."""
