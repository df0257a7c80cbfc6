//! The staffing goals, parsed once at the edge so that the Erlang code can trust them.

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("`{field}`: {message}")]
pub struct TargetError {
    pub field: &'static str,
    pub message: String,
}

impl TargetError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self { field, message: message.into() }
    }
}

/// A share in [0, 1]: a service-level target, an occupancy cap.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize)]
#[serde(transparent)]
pub struct Fraction(f64);

impl Fraction {
    pub fn new(field: &'static str, value: f64) -> Result<Self, TargetError> {
        if !(0.0..=1.0).contains(&value) {
            return Err(TargetError::new(field, format!("{value} is not a share between 0 and 1")));
        }
        Ok(Self(value))
    }

    pub fn get(self) -> f64 {
        self.0
    }
}

/// The share of paid time agents are not available for calls (breaks, training, absence).
/// Kept in parts per billion so that `agents / (1 − shrinkage)` rounds up exactly: in floating
/// point 21 / (1 − 0.3) is 30.000000000000004, which would round up to 31.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Shrinkage {
    parts_per_billion: u64,
}

const BILLION: u64 = 1_000_000_000;
/// Highest shrinkage accepted: beyond it a roster would be ten times the staff on the phones.
pub const MAX_SHRINKAGE: f64 = 0.9;

impl Shrinkage {
    pub fn new(value: f64) -> Result<Self, TargetError> {
        if !(0.0..=MAX_SHRINKAGE).contains(&value) {
            return Err(TargetError::new("shrinkage", format!("{value} is not a share between 0 and {MAX_SHRINKAGE}")));
        }
        Ok(Self { parts_per_billion: (value * BILLION as f64).round() as u64 })
    }

    pub fn get(self) -> f64 {
        self.parts_per_billion as f64 / BILLION as f64
    }

    /// Agents to roster so that `agents` remain after shrinkage: ⌈agents / (1 − shrinkage)⌉.
    pub fn apply(self, agents: u32) -> u32 {
        let available = BILLION - self.parts_per_billion;
        u32::try_from((u64::from(agents) * BILLION).div_ceil(available)).unwrap_or(u32::MAX)
    }
}

/// What a staffing level must achieve; any combination, at least one.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct StaffingTargets {
    /// Share of calls answered within `threshold_s`.
    pub service_level: Option<Fraction>,
    pub threshold_s: f64,
    /// Average speed of answer of answered calls, seconds.
    pub asa_s: Option<f64>,
    pub max_occupancy: Option<Fraction>,
}

impl StaffingTargets {
    pub fn new(
        service_level: Option<f64>,
        threshold_s: f64,
        asa_s: Option<f64>,
        max_occupancy: Option<f64>,
    ) -> Result<Self, TargetError> {
        let service_level = service_level.map(|v| Fraction::new("sl_target", v)).transpose()?;
        if !(threshold_s.is_finite() && threshold_s >= 0.0) {
            return Err(TargetError::new("threshold_s", format!("{threshold_s} is not a number of seconds ≥ 0")));
        }
        if let Some(asa) = asa_s
            && !(asa.is_finite() && asa > 0.0) {
                return Err(TargetError::new("asa_target_s", format!("{asa} is not a number of seconds > 0")));
            }
        let max_occupancy = max_occupancy.map(|v| Fraction::new("max_occupancy", v)).transpose()?;
        if max_occupancy.is_some_and(|o| o.get() == 0.0) {
            return Err(TargetError::new("max_occupancy", "0 would need infinitely many agents"));
        }
        if service_level.is_none() && asa_s.is_none() && max_occupancy.is_none() {
            return Err(TargetError::new("sl_target", "give at least one target: a service level, an ASA or an occupancy cap"));
        }
        Ok(Self { service_level, threshold_s, asa_s, max_occupancy })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shrinkage_rounds_up_exactly() {
        let s = Shrinkage::new(0.3).unwrap();
        assert_eq!(s.apply(14), 20);
        assert_eq!(s.apply(21), 30, "21 / 0.7 is 30.000000000000004 in floating point");
        assert_eq!(s.apply(15), 22);
        assert_eq!(Shrinkage::new(0.9).unwrap().apply(u32::MAX), u32::MAX);
        assert!(Shrinkage::new(0.95).is_err());
        assert_eq!(Shrinkage::new(0.0).unwrap().apply(7), 7);
        assert_eq!(Shrinkage::new(0.5).unwrap().apply(0), 0);
        assert!(Shrinkage::new(1.0).is_err());
        assert!(Shrinkage::new(-0.1).is_err());
    }

    #[test]
    fn bad_targets_name_their_field() {
        assert_eq!(StaffingTargets::new(Some(1.2), 20.0, None, None).unwrap_err().field, "sl_target");
        assert_eq!(StaffingTargets::new(Some(0.8), -1.0, None, None).unwrap_err().field, "threshold_s");
        assert_eq!(StaffingTargets::new(None, 20.0, None, None).unwrap_err().field, "sl_target");
        assert_eq!(StaffingTargets::new(None, 20.0, Some(0.0), None).unwrap_err().field, "asa_target_s");
        assert_eq!(StaffingTargets::new(None, 20.0, None, Some(0.0)).unwrap_err().field, "max_occupancy");
    }
}
