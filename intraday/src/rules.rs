//! `adherence.toml`: which agent states keep an agent in adherence with each roster activity,
//! and the thresholds of the attendance figures. Every key is optional (the built-in defaults
//! are in [`AdherenceRules::default`]); an unknown key or state name is an error naming it.

use serde::Deserialize;
use wfm_model::AgentState;
use wfm_scheduler::roster::ActivityKind;

/// An agent state as the rules and reports name it: the store's state names, a not-ready
/// period written with its reason (`not_ready:lunch`). `not_ready` alone is a not-ready period
/// without a reason, and `not_ready:*` any not-ready period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatePattern {
    State(AgentState),
    NotReady(Option<String>),
    AnyNotReady,
}

impl StatePattern {
    pub fn parse(text: &str) -> Result<Self, String> {
        if let Some(reason) = text.strip_prefix("not_ready:") {
            return match reason {
                "*" => Ok(Self::AnyNotReady),
                "" => Err(format!("{text:?}: a reason must follow `not_ready:`")),
                reason => Ok(Self::NotReady(Some(reason.to_owned()))),
            };
        }
        match AgentState::parse(text) {
            Ok(AgentState::NotReady) => Ok(Self::NotReady(None)),
            Ok(state) => Ok(Self::State(state)),
            Err(_) => Err(format!(
                "{text:?} is not a state (expected one of ready, ringing, on_call, wrap_up, logged_out, not_ready, not_ready:REASON, not_ready:*)"
            )),
        }
    }

    pub fn matches(&self, state: AgentState, reason: Option<&str>) -> bool {
        match self {
            Self::State(s) => *s == state,
            Self::NotReady(r) => state == AgentState::NotReady && r.as_deref() == reason,
            Self::AnyNotReady => state == AgentState::NotReady,
        }
    }
}

/// What logged-in time outside the shift counts as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutsideShift {
    /// Out of adherence, and part of the day's exceptions.
    Exception,
    /// Not judged.
    Ignore,
}

/// The states in adherence with each on-shift activity, and the thresholds.
#[derive(Debug, Clone, PartialEq)]
pub struct AdherenceRules {
    work: Vec<StatePattern>,
    break_: Vec<StatePattern>,
    meal: Vec<StatePattern>,
    training: Vec<StatePattern>,
    /// An out-of-adherence run shorter than this counts as in adherence.
    pub exception_threshold_s: i64,
    pub late_grace_s: i64,
    pub early_leave_grace_s: i64,
    pub working_outside_shift: OutsideShift,
}

/// The states that count as working: `conformance` and `overtime_s` are time in these.
pub fn is_work_state(state: AgentState) -> bool {
    matches!(state, AgentState::Ready | AgentState::Ringing | AgentState::OnCall | AgentState::WrapUp)
}

impl Default for AdherenceRules {
    fn default() -> Self {
        let states = |names: &[&str]| names.iter().map(|n| StatePattern::parse(n).expect("built-in state names")).collect();
        Self {
            work: states(&["ready", "ringing", "on_call", "wrap_up"]),
            break_: states(&["not_ready:break"]),
            meal: states(&["not_ready:lunch", "not_ready:meal", "logged_out"]),
            training: states(&["not_ready:training"]),
            exception_threshold_s: 60,
            late_grace_s: 120,
            early_leave_grace_s: 120,
            working_outside_shift: OutsideShift::Exception,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileShape {
    exception_threshold_s: Option<i64>,
    late_grace_s: Option<i64>,
    early_leave_grace_s: Option<i64>,
    working_outside_shift: Option<OutsideShift>,
    #[serde(default)]
    activities: ActivitiesShape,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ActivitiesShape {
    work: Option<Vec<String>>,
    #[serde(rename = "break")]
    break_: Option<Vec<String>>,
    meal: Option<Vec<String>>,
    training: Option<Vec<String>>,
}

/// `adherence.toml` refused, with the file and the key.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{file}: {message}")]
pub struct RulesError {
    pub file: String,
    pub message: String,
}

impl AdherenceRules {
    pub fn parse(file: &str, text: &str) -> Result<Self, RulesError> {
        let fail = |message: String| RulesError { file: file.to_owned(), message };
        let shape: FileShape = toml::from_str(text).map_err(|e| fail(e.to_string().trim_end().to_owned()))?;
        let mut rules = Self::default();
        let seconds = |key: &str, value: Option<i64>, default: i64| match value {
            Some(v) if !(0..=86_400).contains(&v) => Err(fail(format!("`{key}`: {v} is not between 0 and 86400 seconds"))),
            Some(v) => Ok(v),
            None => Ok(default),
        };
        rules.exception_threshold_s = seconds("exception_threshold_s", shape.exception_threshold_s, rules.exception_threshold_s)?;
        rules.late_grace_s = seconds("late_grace_s", shape.late_grace_s, rules.late_grace_s)?;
        rules.early_leave_grace_s = seconds("early_leave_grace_s", shape.early_leave_grace_s, rules.early_leave_grace_s)?;
        rules.working_outside_shift = shape.working_outside_shift.unwrap_or(rules.working_outside_shift);
        let lists = [
            ("work", shape.activities.work, &mut rules.work),
            ("break", shape.activities.break_, &mut rules.break_),
            ("meal", shape.activities.meal, &mut rules.meal),
            ("training", shape.activities.training, &mut rules.training),
        ];
        for (key, names, target) in lists {
            if let Some(names) = names {
                *target = names
                    .iter()
                    .map(|n| StatePattern::parse(n).map_err(|e| fail(format!("`activities.{key}`: {e}"))))
                    .collect::<Result<_, _>>()?;
            }
        }
        Ok(rules)
    }

    /// A tenant's rules file, or the defaults when there is none.
    pub fn load_or_default(path: &std::path::Path) -> Result<Self, RulesError> {
        crate::load_or_default(path, Self::parse, |file, message| RulesError { file, message })
    }

    /// Whether `state` keeps the agent in adherence during `activity`; `None` is time outside
    /// the shift's activities (in adherence when logged out, else as `working_outside_shift`).
    pub fn in_adherence(&self, activity: Option<ActivityKind>, state: AgentState, reason: Option<&str>) -> bool {
        let allowed = match activity {
            Some(ActivityKind::Work) => &self.work,
            Some(ActivityKind::Break) => &self.break_,
            Some(ActivityKind::Meal) => &self.meal,
            Some(ActivityKind::Training) => &self.training,
            Some(ActivityKind::Leave | ActivityKind::DayOff) | None => {
                return state == AgentState::LoggedOut || self.working_outside_shift == OutsideShift::Ignore;
            }
        };
        allowed.iter().any(|p| p.matches(state, reason))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_documented_ones() {
        let r = AdherenceRules::default();
        assert!(r.in_adherence(Some(ActivityKind::Work), AgentState::WrapUp, None));
        assert!(!r.in_adherence(Some(ActivityKind::Work), AgentState::NotReady, Some("break")));
        assert!(r.in_adherence(Some(ActivityKind::Break), AgentState::NotReady, Some("break")));
        assert!(r.in_adherence(Some(ActivityKind::Meal), AgentState::LoggedOut, None));
        assert!(!r.in_adherence(Some(ActivityKind::Meal), AgentState::NotReady, Some("break")));
        assert!(r.in_adherence(None, AgentState::LoggedOut, None));
        assert!(!r.in_adherence(None, AgentState::Ready, None));
        assert_eq!((r.exception_threshold_s, r.late_grace_s, r.early_leave_grace_s), (60, 120, 120));
        assert_eq!(AdherenceRules::parse("a.toml", "").unwrap(), r);
    }

    #[test]
    fn a_file_overrides_what_it_names() {
        let r = AdherenceRules::parse(
            "a.toml",
            "exception_threshold_s = 30\nworking_outside_shift = \"ignore\"\n[activities]\nbreak = [\"not_ready:*\", \"logged_out\"]\n",
        )
        .unwrap();
        assert_eq!(r.exception_threshold_s, 30);
        assert!(r.in_adherence(None, AgentState::Ready, None));
        assert!(r.in_adherence(Some(ActivityKind::Break), AgentState::NotReady, Some("coffee")));
        assert!(r.in_adherence(Some(ActivityKind::Break), AgentState::NotReady, None));
        assert!(r.in_adherence(Some(ActivityKind::Work), AgentState::Ready, None), "work keeps its default");
    }

    #[test]
    fn unknown_keys_and_states_name_the_key() {
        let e = AdherenceRules::parse("a.toml", "treshold = 5\n").unwrap_err();
        assert!(e.to_string().contains("treshold"), "{e}");
        let e = AdherenceRules::parse("a.toml", "[activities]\nwork = [\"redy\"]\n").unwrap_err();
        assert!(e.to_string().contains("activities.work") && e.to_string().contains("redy"), "{e}");
        let e = AdherenceRules::parse("a.toml", "[activities]\nlunch = []\n").unwrap_err();
        assert!(e.to_string().contains("lunch"), "{e}");
        let e = AdherenceRules::parse("a.toml", "late_grace_s = -1\n").unwrap_err();
        assert!(e.to_string().contains("late_grace_s"), "{e}");
        let e = AdherenceRules::parse("a.toml", "working_outside_shift = \"maybe\"\n").unwrap_err();
        assert!(e.to_string().contains("maybe"), "{e}");
    }
}
