use serde::Serialize;
use serde_json::Value;

/// Renders serialisable rows as CSV, columns in field order. Nested objects (such as time per
/// not-ready reason) become `key=value;key=value`; nulls become empty cells.
pub fn rows_to_csv<T: Serialize>(rows: &[T]) -> String {
    let values: Vec<Value> = rows.iter().map(|r| serde_json::to_value(r).expect("rows serialise")).collect();
    let mut out = csv::Writer::from_writer(Vec::new());
    let Some(Value::Object(first)) = values.first() else { return String::new() };
    let header: Vec<&String> = first.keys().collect();
    out.write_record(header.iter().map(|h| h.as_str())).expect("in-memory write");
    for row in &values {
        let cells = header.iter().map(|h| cell(row.get(h.as_str()).unwrap_or(&Value::Null)));
        out.write_record(cells.collect::<Vec<_>>()).expect("in-memory write");
    }
    String::from_utf8(out.into_inner().expect("in-memory flush")).expect("utf-8 in, utf-8 out")
}

fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Object(map) => map.iter().map(|(k, v)| format!("{k}={}", cell(v))).collect::<Vec<_>>().join(";"),
        other => other.to_string(),
    }
}
