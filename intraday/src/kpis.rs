//! `kpis.toml`: the tenant's live service-level settings — the answer threshold and the short
//! abandon of the statistics' definitions, the sliding window of the live figures and the target
//! the headline service level is judged by. Every key is optional; unknown keys are errors.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct KpiSettings {
    /// A call answered (or abandoned) with a wait ≤ this is "within" (default 20).
    pub threshold_s: f64,
    /// An abandon with a wait ≤ this is a short abandon (default 5).
    pub short_abandon_s: f64,
    /// The live figures cover calls that entered the queue in the last this many seconds (300).
    pub window_s: i64,
    /// The headline service level's target, 0–1 (0.8).
    pub service_level_target: f64,
}


impl KpiSettings {
    /// The statistics' rule of these settings (checked at load: always valid then).
    pub fn rule(&self) -> wfm_analytics::stats::ServiceLevelRule {
        wfm_analytics::stats::ServiceLevelRule::from_seconds(self.threshold_s, self.short_abandon_s).unwrap_or_default()
    }
}

impl Default for KpiSettings {
    fn default() -> Self {
        Self { threshold_s: 20.0, short_abandon_s: 5.0, window_s: 300, service_level_target: 0.8 }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{file}: {message}")]
pub struct KpiSettingsError {
    pub file: String,
    pub message: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileShape {
    threshold_s: Option<f64>,
    short_abandon_s: Option<f64>,
    window_s: Option<i64>,
    service_level_target: Option<f64>,
}

impl KpiSettings {
    pub fn parse(file: &str, text: &str) -> Result<Self, KpiSettingsError> {
        let error = |message: String| KpiSettingsError { file: file.to_owned(), message };
        let shape: FileShape = toml::from_str(text).map_err(|e| error(e.to_string()))?;
        let d = Self::default();
        let s = Self {
            threshold_s: shape.threshold_s.unwrap_or(d.threshold_s),
            short_abandon_s: shape.short_abandon_s.unwrap_or(d.short_abandon_s),
            window_s: shape.window_s.unwrap_or(d.window_s),
            service_level_target: shape.service_level_target.unwrap_or(d.service_level_target),
        };
        for (key, value) in [("threshold_s", s.threshold_s), ("short_abandon_s", s.short_abandon_s)] {
            if !(0.0..=86_400.0).contains(&value) {
                return Err(error(format!("{key}: {value} is not between 0 and 86400 seconds")));
            }
        }
        if !(10..=86_400).contains(&s.window_s) {
            return Err(error(format!("window_s: {} is not between 10 and 86400 seconds", s.window_s)));
        }
        if !(0.0..=1.0).contains(&s.service_level_target) {
            return Err(error(format!("service_level_target: {} is not between 0 and 1", s.service_level_target)));
        }
        Ok(s)
    }

    pub fn load_or_default(path: &std::path::Path) -> Result<Self, KpiSettingsError> {
        crate::load_or_default(path, Self::parse, |file, message| KpiSettingsError { file, message })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_errors_name_the_key() {
        assert_eq!(KpiSettings::parse("k.toml", "").unwrap(), KpiSettings::default());
        assert_eq!(KpiSettings::parse("k.toml", "threshold_s = 15\nwindow_s = 600\n").unwrap().window_s, 600);
        assert!(KpiSettings::parse("k.toml", "window_s = 1\n").unwrap_err().to_string().contains("window_s"));
        assert!(KpiSettings::parse("k.toml", "service_level_target = 80\n").unwrap_err().to_string().contains("service_level_target"));
        assert!(KpiSettings::parse("k.toml", "treshold_s = 20\n").unwrap_err().to_string().contains("treshold_s"));
    }
}
