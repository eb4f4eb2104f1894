//! A minimal S3 (REST, path-style, SigV4 with signing name `s3`) serving the activity reports'
//! bucket: ListObjectsV2 (`GET /<bucket>?list-type=2` with `prefix`, `max-keys`,
//! `continuation-token`, `start-after`) and GetObject (`GET /<bucket>/<key>`). Errors are S3's
//! XML (`<Error><Code>…`). It listens on its own port, as S3 is its own host.

use std::sync::Arc;
use std::time::SystemTime;

use aws_smithy_xml::encode::XmlWriter;
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine;
use chrono::SecondsFormat;

use crate::activity::{ActivityReports, ReportObject};
use crate::aws::sigv4::{self, StaticCredentials};
use crate::faults::{FaultKind, Faults, SandboxClock, Verdict};

/// The fault-plan key of S3.
pub const FAULT_KEY: &str = "s3";

#[derive(Debug)]
pub struct S3State {
    pub reports: ActivityReports,
    pub credentials: StaticCredentials,
    pub faults: Arc<Faults>,
    pub clock: Arc<SandboxClock>,
}

pub type SharedS3 = Arc<S3State>;

pub fn router(state: SharedS3) -> Router {
    Router::new()
        .route("/{bucket}", get(bucket_handler))
        .route("/{bucket}/", get(bucket_handler))
        .route("/{bucket}/{*key}", get(object_handler))
        .with_state(state)
}

/// An S3 error.
struct S3Error {
    status: StatusCode,
    code: &'static str,
    message: String,
    resource: Option<String>,
}

impl S3Error {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            resource: None,
        }
    }
}

impl IntoResponse for S3Error {
    fn into_response(self) -> Response {
        let request_id = uuid::Uuid::new_v4().simple().to_string().to_uppercase();
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        {
            let mut doc = XmlWriter::new(&mut out);
            let mut error = doc.start_el("Error").finish();
            error.start_el("Code").finish().data(self.code);
            error.start_el("Message").finish().data(&self.message);
            if let Some(resource) = &self.resource {
                error.start_el("Resource").finish().data(resource);
            }
            error.start_el("RequestId").finish().data(&request_id);
            error.finish();
        }
        let mut response = (self.status, out).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/xml"),
        );
        if let Ok(v) = HeaderValue::from_str(&request_id) {
            headers.insert("x-amz-request-id", v);
        }
        response
    }
}

/// Faults, then the signature (S3 signs the path as sent, `x-amz-content-sha256` carries the
/// payload hash), then the bucket.
async fn admit(
    state: &S3State,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    bucket: &str,
) -> Result<(), Response> {
    let (latency, verdict) = state.faults.decide(FAULT_KEY);
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    match verdict {
        Verdict::Serve => {}
        Verdict::Unavailable => {
            return Err(S3Error::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "ServiceUnavailable",
                "Service is unable to handle request (sandbox outage).",
            )
            .into_response());
        }
        Verdict::Fail(FaultKind::Throttle) => {
            return Err(S3Error::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "SlowDown",
                "Please reduce your request rate.",
            )
            .into_response());
        }
        Verdict::Fail(FaultKind::InternalError) => {
            return Err(S3Error::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalError",
                "We encountered an internal error. Please try again.",
            )
            .into_response());
        }
        Verdict::Fail(FaultKind::DropConnection) => return Err(crate::aws::dropped_connection()),
    }
    sigv4::verify(
        method,
        uri,
        headers,
        &[],
        "s3",
        &state.credentials,
        SystemTime::now(),
    )
    .map_err(|e| {
        let code = match e.kind {
            "UnrecognizedClientException" => "InvalidAccessKeyId",
            "MissingAuthenticationTokenException" => "AccessDenied",
            "IncompleteSignatureException" => "AuthorizationHeaderMalformed",
            _ => "SignatureDoesNotMatch",
        };
        S3Error::new(StatusCode::FORBIDDEN, code, e.message).into_response()
    })?;
    if bucket != state.reports.bucket {
        let mut e = S3Error::new(
            StatusCode::NOT_FOUND,
            "NoSuchBucket",
            "The specified bucket does not exist",
        );
        e.resource = Some(bucket.to_string());
        return Err(e.into_response());
    }
    Ok(())
}

fn param(uri: &Uri, name: &str) -> Option<String> {
    let query = uri.query()?;
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

async fn bucket_handler(
    State(state): State<SharedS3>,
    Path(bucket): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if let Err(refused) = admit(&state, &method, &uri, &headers, &bucket).await {
        return refused;
    }
    if param(&uri, "list-type").as_deref() != Some("2") {
        return S3Error::new(
            StatusCode::NOT_IMPLEMENTED,
            "NotImplemented",
            "The sandbox serves ListObjectsV2 (list-type=2) on this bucket.",
        )
        .into_response();
    }
    let max_keys = match param(&uri, "max-keys").map(|m| m.parse::<usize>()) {
        None => 1000,
        Some(Ok(n)) => n.min(1000),
        Some(Err(_)) => {
            return S3Error::new(
                StatusCode::BAD_REQUEST,
                "InvalidArgument",
                "Provided max-keys not an integer or within integer range",
            )
            .into_response();
        }
    };
    let prefix = param(&uri, "prefix").unwrap_or_default();
    let after = match param(&uri, "continuation-token") {
        Some(token) => match base64::engine::general_purpose::STANDARD
            .decode(&token)
            .ok()
            .and_then(|raw| String::from_utf8(raw).ok())
        {
            Some(key) => Some(key),
            None => {
                return S3Error::new(
                    StatusCode::BAD_REQUEST,
                    "InvalidArgument",
                    "The continuation token provided is incorrect",
                )
                .into_response();
            }
        },
        None => param(&uri, "start-after"),
    };
    let objects = match state.reports.objects() {
        Ok(o) => o,
        Err(e) => {
            return S3Error::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalError",
                e.to_string(),
            )
            .into_response();
        }
    };
    let matching: Vec<&ReportObject> = objects
        .iter()
        .filter(|o| o.key.starts_with(&prefix))
        .filter(|o| after.as_ref().is_none_or(|a| o.key.as_str() > a.as_str()))
        .collect();
    let page: Vec<&ReportObject> = matching.iter().take(max_keys).copied().collect();
    let truncated = matching.len() > page.len();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    {
        let mut doc = XmlWriter::new(&mut out);
        let mut root = doc
            .start_el("ListBucketResult")
            .write_ns("http://s3.amazonaws.com/doc/2006-03-01/", None)
            .finish();
        root.start_el("Name").finish().data(&bucket);
        root.start_el("Prefix").finish().data(&prefix);
        root.start_el("KeyCount")
            .finish()
            .data(&page.len().to_string());
        root.start_el("MaxKeys")
            .finish()
            .data(&max_keys.to_string());
        root.start_el("IsTruncated")
            .finish()
            .data(if truncated { "true" } else { "false" });
        if let Some(token) = param(&uri, "continuation-token") {
            root.start_el("ContinuationToken").finish().data(&token);
        }
        if truncated && let Some(last) = page.last() {
            root.start_el("NextContinuationToken")
                .finish()
                .data(&base64::engine::general_purpose::STANDARD.encode(&last.key));
        }
        for o in &page {
            let mut contents = root.start_el("Contents").finish();
            contents.start_el("Key").finish().data(&o.key);
            contents
                .start_el("LastModified")
                .finish()
                .data(&last_modified(o).to_rfc3339_opts(SecondsFormat::Millis, true));
            contents.start_el("ETag").finish().data(&o.etag);
            contents.start_el("Size").finish().data(&o.size.to_string());
            contents.start_el("StorageClass").finish().data("STANDARD");
            contents.finish();
        }
        root.finish();
    }
    let mut response = (StatusCode::OK, out).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml"),
    );
    response
}

/// When the report run wrote the file: just after midnight UTC on the next day.
fn last_modified(o: &ReportObject) -> chrono::DateTime<chrono::Utc> {
    (o.day + chrono::Duration::days(1))
        .and_hms_opt(0, 4, 17)
        .map(|t| t.and_utc())
        .unwrap_or_default()
}

async fn object_handler(
    State(state): State<SharedS3>,
    Path((bucket, key)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if let Err(refused) = admit(&state, &method, &uri, &headers, &bucket).await {
        return refused;
    }
    match state.reports.object(&key) {
        Ok(Some((object, bytes))) => {
            let mut response = Response::new(Body::from(bytes));
            let h = response.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv"));
            if let Ok(v) = HeaderValue::from_str(&object.etag) {
                h.insert(header::ETAG, v);
            }
            if let Ok(v) = HeaderValue::from_str(
                &last_modified(&object)
                    .format("%a, %d %b %Y %H:%M:%S GMT")
                    .to_string(),
            ) {
                h.insert(header::LAST_MODIFIED, v);
            }
            response
        }
        Ok(None) => {
            let mut e = S3Error::new(
                StatusCode::NOT_FOUND,
                "NoSuchKey",
                "The specified key does not exist.",
            );
            e.resource = Some(key);
            e.into_response()
        }
        Err(e) => S3Error::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            e.to_string(),
        )
        .into_response(),
    }
}
