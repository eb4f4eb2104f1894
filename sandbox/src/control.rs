//! Helpers of the loopback control API (`/_sandbox/...`) that the emulated IdPs share.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use serde_json::json;

/// `{"token"}`: a SCIM token an admin pastes into the IdP's provisioning settings.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    pub token: String,
}

/// A control-API body that could not be read: 400 `{"error": "send <example> (<why>)"}`.
#[derive(Debug)]
pub struct BadBody(String);

impl IntoResponse for BadBody {
    fn into_response(self) -> Response {
        (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"error": self.0})),
        )
            .into_response()
    }
}

/// Parses a JSON body, or says what to send instead.
pub fn json_body<T: DeserializeOwned>(body: &[u8], example: &str) -> Result<T, BadBody> {
    serde_json::from_slice(body).map_err(|e| BadBody(format!("send {example} ({e})")))
}
