"""The request path's internals, in the order a call meets them.

``call`` (the frozen request object resources build) → ``pipeline`` (the one call loop: limiter
slot, hooks, retries, deadlines) → ``transport`` (the thin exchange, the only aiohttp code) →
``sansio`` (pure: status, headers and body to the result or the SDK's error). ``retry`` holds the
retry policy and its pure decisions, ``walk_guard`` the pure page-walk decisions of a listing.
"""
