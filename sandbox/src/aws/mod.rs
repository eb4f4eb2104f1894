//! The AWS JSON 1.1 protocol as the official SDKs speak it: `POST /` with
//! `X-Amz-Target: <Service>.<Operation>`, a SigV4 signature, a JSON body; errors as a JSON body
//! with `__type` and `Message` (plus the `x-amzn-ErrorType` header).

pub mod identitystore;
pub mod limits;
pub mod sigv4;
pub mod ssoadmin;
pub mod wire;

use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::directory::Directory;
use crate::faults::{FaultKind, Faults, SandboxClock, Verdict};
use crate::instance::Instance;
use sigv4::StaticCredentials;

/// What the AWS endpoints serve from. Shared by every request.
#[derive(Debug)]
pub struct AwsState {
    pub directory: RwLock<Directory>,
    pub instance: RwLock<Instance>,
    pub credentials: StaticCredentials,
    pub throttle: limits::Throttle,
    pub faults: Arc<Faults>,
    pub clock: Arc<SandboxClock>,
    /// Identity Center's SCIM endpoint for this store (tenant and bearer tokens).
    pub scim: crate::scim::ScimState,
}

pub type SharedAwsState = Arc<AwsState>;

/// An error as AWS reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct AwsError {
    pub status: StatusCode,
    pub kind: &'static str,
    pub message: String,
    /// Extra members of the error shape (ResourceType, ResourceId, RetryAfterSeconds, …).
    pub fields: serde_json::Map<String, Value>,
}

impl AwsError {
    pub fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            kind,
            message: message.into(),
            fields: serde_json::Map::new(),
        }
    }

    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "ValidationException", message)
    }

    pub fn not_found(resource_type: &str, resource_id: &str, message: impl Into<String>) -> Self {
        let mut e = Self::new(
            StatusCode::BAD_REQUEST,
            "ResourceNotFoundException",
            message,
        );
        e.fields
            .insert("ResourceType".into(), Value::from(resource_type));
        e.fields
            .insert("ResourceId".into(), Value::from(resource_id));
        e
    }

    /// ResourceNotFoundException with a message only (SSO Admin's shape).
    pub fn not_found_message(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "ResourceNotFoundException",
            message,
        )
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        let mut e = Self::new(StatusCode::BAD_REQUEST, "ConflictException", message);
        e.fields.insert(
            "Reason".into(),
            Value::from("UNIQUENESS_CONSTRAINT_VIOLATION"),
        );
        e
    }

    /// Over quota; the client should wait `retry_after_seconds`.
    pub fn throttled(retry_after_seconds: u64) -> Self {
        let mut e = Self::new(
            StatusCode::BAD_REQUEST,
            "ThrottlingException",
            "Rate exceeded",
        );
        e.fields
            .insert("RetryAfterSeconds".into(), Value::from(retry_after_seconds));
        e
    }

    pub fn access_denied(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "AccessDeniedException", message)
    }

    pub fn unknown_operation(target: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "UnknownOperationException",
            format!("Operation {target} is not supported."),
        )
    }

    pub fn serialization(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "SerializationException", message)
    }

    pub fn missing_authentication() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "MissingAuthenticationTokenException",
            "Missing Authentication Token",
        )
    }

    pub fn incomplete_signature(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "IncompleteSignatureException",
            message,
        )
    }

    pub fn invalid_signature(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "InvalidSignatureException",
            message,
        )
    }

    pub fn unrecognized_client() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        )
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerException",
            message,
        )
    }
}

impl IntoResponse for AwsError {
    fn into_response(self) -> Response {
        let mut body = self.fields;
        body.insert("__type".into(), Value::from(self.kind));
        body.insert("Message".into(), Value::from(self.message));
        let mut response = (self.status, axum::Json(Value::Object(body))).into_response();
        response
            .headers_mut()
            .insert("x-amzn-ErrorType", HeaderValue::from_static(self.kind));
        set_json_content_type(&mut response);
        response
    }
}

fn set_json_content_type(response: &mut Response) {
    response.headers_mut().insert(
        "content-type",
        HeaderValue::from_static("application/x-amz-json-1.1"),
    );
}

/// `POST /`: applies the service's fault plan, checks the signature for the target's service,
/// then runs the operation.
pub async fn handle(
    State(state): State<SharedAwsState>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let call = Service::parse_target(target);
    let fault_key = call.map_or("unknown", |(service, _)| service.fault_key());
    let (latency, verdict) = state.faults.decide(fault_key);
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    match verdict {
        Verdict::Serve => {}
        Verdict::Unavailable => {
            return AwsError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "ServiceUnavailableException",
                "Service is unavailable (sandbox outage)",
            )
            .into_response();
        }
        Verdict::Fail(FaultKind::Throttle) => return AwsError::throttled(1).into_response(),
        Verdict::Fail(FaultKind::InternalError) => {
            return AwsError::internal("Internal error (sandbox fault)").into_response();
        }
        Verdict::Fail(FaultKind::DropConnection) => return dropped_connection(),
    }
    let Some((service, operation)) = call else {
        return AwsError::unknown_operation(target).into_response();
    };
    match dispatch(&state, service, operation, &method, &uri, &headers, &body) {
        Ok(value) => {
            let mut response = (StatusCode::OK, axum::Json(value)).into_response();
            set_json_content_type(&mut response);
            response
        }
        Err(e) => e.into_response(),
    }
}

/// An emulated AWS service, as named by the `X-Amz-Target` prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Service {
    IdentityStore,
    SsoAdmin,
    /// The SCIM endpoint (bearer tokens, not SigV4; never named by an `X-Amz-Target`).
    Scim,
}

impl Service {
    pub const ALL: [Service; 3] = [Service::IdentityStore, Service::SsoAdmin, Service::Scim];

    /// `AWSIdentityStore.ListUsers` → (IdentityStore, "ListUsers"); None for other services.
    pub fn parse_target(target: &str) -> Option<(Service, &str)> {
        let (prefix, operation) = target.split_once('.')?;
        let service = match prefix {
            identitystore::TARGET_PREFIX => Service::IdentityStore,
            ssoadmin::TARGET_PREFIX => Service::SsoAdmin,
            _ => return None,
        };
        Some((service, operation))
    }

    /// The SigV4 signing name in the credential scope.
    pub fn signing_name(self) -> &'static str {
        match self {
            Service::IdentityStore => "identitystore",
            Service::SsoAdmin => "sso",
            Service::Scim => "scim",
        }
    }

    /// The name fault plans use (`/_sandbox/faults/{name}`).
    pub fn fault_key(self) -> &'static str {
        match self {
            Service::IdentityStore => "identitystore",
            Service::SsoAdmin => "sso-admin",
            Service::Scim => "scim",
        }
    }
}

/// A response whose body fails at once: the server closes the connection without an answer.
pub(crate) fn dropped_connection() -> Response {
    let failing = futures_util::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "sandbox fault: connection dropped",
        ))
    });
    Response::new(axum::body::Body::from_stream(failing))
}

fn dispatch(
    state: &AwsState,
    service: Service,
    operation: &str,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Value, AwsError> {
    sigv4::verify(
        method,
        uri,
        headers,
        body,
        service.signing_name(),
        &state.credentials,
        SystemTime::now(),
    )?;
    state.throttle.admit(service, operation)?;
    let input: Value = if body.is_empty() {
        json!({})
    } else {
        serde_json::from_slice(body).map_err(|e| {
            AwsError::serialization(format!("The request body is not valid JSON: {e}"))
        })?
    };
    if !input.is_object() {
        return Err(AwsError::serialization(
            "The request body must be a JSON object.",
        ));
    }
    match service {
        Service::IdentityStore => identitystore::call(state, operation, &input),
        Service::SsoAdmin => ssoadmin::call(state, operation, &input),
        Service::Scim => Err(AwsError::unknown_operation(operation)),
    }
}
