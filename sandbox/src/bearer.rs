//! The bearer token of an `Authorization: Bearer <token>` header (RFC 6750; the scheme is
//! matched in either case), shared by every emulated endpoint that takes one.

use axum::http::HeaderMap;

/// The token, trimmed; None when the header is missing, not a bearer token, or empty.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
}
