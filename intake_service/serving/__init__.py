"""What the API and the pages share under Flask: the request's context, observability,
rate limits."""
