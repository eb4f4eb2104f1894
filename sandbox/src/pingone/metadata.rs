//! `GET /{envId}/saml20/metadata/{appId}`: the "AWS Single Sign-On" application's IdP metadata
//! (the file the seeds' Step 2.3 downloads and uploads to Identity Center). Public, as on
//! PingOne.

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::{ApiError, SharedPingOne};
use crate::saml::{IdpMetadata, signed_idp_metadata};

pub async fn handler(
    State(state): State<SharedPingOne>,
    Path((env, app)): Path<(String, String)>,
) -> Response {
    let Ok(e) = state.environment() else {
        return ApiError::internal("the environment's lock is poisoned").into_response();
    };
    if env != e.id || app != e.app.id {
        return ApiError::not_found("application").into_response();
    }
    let auth = format!("{}/pingone/auth/{}", state.base_url, e.id);
    let signed = signed_idp_metadata(
        &IdpMetadata {
            id: &format!("_{}", e.app.id),
            entity_id: &e.app.idp_entity_id,
            certificate: &e.signing_key.certificate.base64(),
            name_id_format: "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
            sso_url: &format!("{auth}/saml20/idp/sso"),
            slo_url: &format!("{auth}/saml20/idp/slo"),
        },
        &e.signing_key.certificate.der,
    );
    let xml = match signed {
        Ok(xml) => xml,
        Err(message) => return ApiError::internal(&message).into_response(),
    };
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/xml;charset=UTF-8")],
        xml,
    )
        .into_response()
}
