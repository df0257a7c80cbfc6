#![no_main]
//! Any bytes as a calls CSV: no panic, and every record it yields passes the schema checks.

use libfuzzer_sys::fuzz_target;
use std::path::Path;
use wfm_analytics::import::csv::parse_calls;
use wfm_analytics::import::BadLines;
use wfm_model::TenantZone;

fuzz_target!(|data: &[u8]| {
    let zone = TenantZone::parse("Europe/Warsaw").unwrap();
    for policy in [BadLines::Skip, BadLines::Stop] {
        if let Ok(batch) = parse_calls(Path::new("fuzz.csv"), data, zone, policy) {
            for call in &batch.calls {
                call.validate().expect("importer emits valid calls");
            }
        }
    }
});
