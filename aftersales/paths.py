"""Which part of the product a request is for: the REST API (answered in JSON, API.md) or the
workspace's pages. One rule for the middleware, the error pages and the lockout's answer."""

API_PREFIX = "/api/"


def is_api_request(request) -> bool:
    return request.path.startswith(API_PREFIX)
