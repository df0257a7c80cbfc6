//! `multipart/form-data` bodies: the pages' file uploads. A browser's upload form cannot set a
//! header, so its CSRF token comes as the field `csrf` (read by the guard) beside the file.

use crate::ApiError;
use axum::body::Bytes;

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
