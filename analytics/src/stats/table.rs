use serde::Serialize;
use std::io::Write;

/// Writes flat serialisable rows as CSV, columns in field order, nulls as empty cells.
pub fn write_csv<T: Serialize>(rows: &[T], out: impl Write) -> std::io::Result<()> {
    let mut writer = csv::Writer::from_writer(out);
    for row in rows {
        writer.serialize(row).map_err(|e| match e.into_kind() {
            csv::ErrorKind::Io(io) => io,
            other => std::io::Error::other(format!("{other:?}")),
        })?;
    }
    writer.flush()
}
