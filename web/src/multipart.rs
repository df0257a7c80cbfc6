//! `multipart/form-data` bodies: the pages' file uploads. A browser's upload form cannot set a
//! header, so its CSRF token comes as the field `csrf` (read by the guard) beside the file.

use crate::ApiError;
use axum::body::Bytes;
use axum::http::{header, HeaderMap};

/// The largest upload a page takes: a six-week roster of 2 000 agents is about 6 MB of CSV.
pub const UPLOAD_LIMIT: usize = 64 << 20;

/// One field of a form.
pub struct Part {
    pub name: String,
    /// The file's name on the user's machine, for file fields.
    pub file_name: Option<String>,
    pub bytes: Bytes,
}

/// Whether a request's `Content-Type` is a multipart form.
pub fn is_multipart(content_type: &str) -> bool {
    content_type.starts_with("multipart/form-data")
}

/// The fields of a multipart body, in the order sent.
pub async fn fields(content_type: &str, body: Bytes) -> Result<Vec<Part>, ApiError> {
    let boundary = multer::parse_boundary(content_type).map_err(|e| ApiError::bad_request("body", format!("not a multipart form: {e}")))?;
    let stream = futures_util::stream::once(async move { Ok::<_, std::convert::Infallible>(body) });
    let mut form = multer::Multipart::new(stream, boundary);
    let mut parts = Vec::new();
    while let Some(field) = form.next_field().await.map_err(|e| ApiError::bad_request("body", format!("the form cannot be read: {e}")))? {
        let (name, file_name) = (field.name().unwrap_or_default().to_owned(), field.file_name().map(str::to_owned));
        let bytes = field.bytes().await.map_err(|e| ApiError::bad_request("body", format!("the form's field {name:?} cannot be read: {e}")))?;
        parts.push(Part { name, file_name, bytes });
    }
    Ok(parts)
}

/// The fields of a page's upload form; a body that is not a multipart form is refused naming
/// `field`, the file it should carry.
pub async fn form(headers: &HeaderMap, body: Bytes, field: &'static str) -> Result<Vec<Part>, ApiError> {
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !is_multipart(content_type) {
        return Err(ApiError::bad_request(field, "send the file as a multipart form (the page's upload)"));
    }
    fields(content_type, body).await
}

/// The file sent as `field`, with its name; refused naming `field` when none was chosen
/// (`what` says what it should be).
pub fn file<'a>(parts: &'a [Part], field: &'static str, what: &str) -> Result<(&'a str, &'a Bytes), ApiError> {
    let part = parts.iter().find(|f| f.name == field).ok_or_else(|| ApiError::bad_request(field, format!("required: {what}")))?;
    let name = part.file_name.as_deref().filter(|n| !n.is_empty()).ok_or_else(|| ApiError::bad_request(field, format!("choose a file: {what}")))?;
    Ok((name, &part.bytes))
}
