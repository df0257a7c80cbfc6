//! `rules.toml`: shift shapes, breaks and meals, hard rules, soft rules with weights.
//! Unknown keys are errors, so that a misspelt rule is never silently ignored.

use crate::design::shapes;
use crate::service_hours::ServiceHours;
use crate::InputError;
use chrono::NaiveDate;
use wfm_model::QueueName;
use serde::Deserialize;
use std::collections::BTreeMap;
/// Times of day are the model's; re-exported where the rules use them.
pub use wfm_model::ClockTime;

#[derive(Debug, Clone, PartialEq)]
pub struct Rules {
    pub shifts: ShiftRules,
    pub breaks: BreakRules,
    pub hard: HardRules,
    pub soft: SoftRules,
    /// Queues with service hours; a queue not named is open round the clock.
    pub service_hours: BTreeMap<QueueName, ServiceHours>,
}

/// Shapes a shift may take; a team may have its own window.
#[derive(Debug, Clone, PartialEq)]
pub struct ShiftRules {
    /// Paid and unpaid length of a shift, in minutes.
    pub lengths_min: Vec<u32>,
    pub start_step_min: u32,
    pub window: ShiftWindow,
    pub team_windows: BTreeMap<String, ShiftWindow>,
}

/// When shifts may start and end. A `latest_end` at or before `earliest_start` is on the next
/// morning (`22:00`–`06:00` is a night window); equal times give the whole 24 hours.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ShiftWindow {
    pub earliest_start: ClockTime,
    pub latest_end: ClockTime,
}

impl ShiftWindow {
    /// `latest_end` in minutes after the midnight of the day the shift starts (past 1440 for
    /// a window that crosses midnight).
    pub fn end_min(&self) -> u32 {
        let (start, end) = (self.earliest_start.minutes(), self.latest_end.minutes());
        if end > start { end } else { end + 1440 }
    }

    /// Whether a shift starting `start_min` after its day's midnight and lasting `length_min`
    /// (by the clocks) lies inside the window.
    pub fn holds(&self, start_min: u32, length_min: u32) -> bool {
        start_min >= self.earliest_start.minutes() && start_min + length_min <= self.end_min()
    }
}

impl ShiftRules {
    pub fn window_for(&self, team: &str) -> ShiftWindow {
        self.team_windows.get(team).copied().unwrap_or(self.window)
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BreakRules {
    /// Unpaid meal, for shifts longer than `meal_after_min`.
    pub meal_min: u32,
    pub meal_after_min: u32,
    /// Paid break.
    pub break_min: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct HardRules {
    pub min_rest_between_shifts_min: Option<u32>,
    pub max_paid_min_per_week: Option<u32>,
    pub max_consecutive_work_days: Option<u32>,
    pub min_days_off_per_week: Option<u32>,
    pub max_continuous_work_min: Option<u32>,
    pub no_early_after_night: Option<EarlyAfterNight>,
    /// Rule 9's second half: at least this many dates with no shift after a run of night
    /// shifts ([`is_night`]).
    pub days_off_after_night_sequence: Option<u32>,
    /// Rule 8, rest frequency: after `work_days` worked dates in a row, `days_off` dates with no
    /// shift.
    pub rest_after_work_days: Option<RestPattern>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RestPattern {
    pub work_days: u32,
    pub days_off: u32,
}

impl RestPattern {
    /// The dates (indices into `worked`, one per consecutive date) that break the pattern: a
    /// shift within `days_off` dates after any `work_days` worked dates in a row (so a longer
    /// run breaks it too).
    pub fn breaches(&self, worked: &[bool]) -> Vec<usize> {
        let n = self.work_days as usize;
        let mut out = Vec::new();
        for end in n.saturating_sub(1)..worked.len() {
            if worked[end + 1 - n..=end].iter().all(|w| *w) {
                out.extend((end + 1..worked.len().min(end + 1 + self.days_off as usize)).filter(|&d| worked[d]));
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// A night shift, for `days_off_after_night_sequence`: one that ends after the midnight of the
/// day it starts (`end_min` counted from that midnight, by the clocks).
pub fn is_night(end_min: i64) -> bool {
    end_min > 1440
}

/// The dates (indices into `days`, one entry per consecutive date: `None` off, `Some(night)` a
/// shift) that break `days_off_after_night_sequence = min_off`: any shift within `min_off` dates
/// after the last night of a run of nights on consecutive dates. Shared by the solver and the
/// checker so that both read the rule alike.
pub fn night_rest_breaches(days: &[Option<bool>], min_off: u32) -> Vec<usize> {
    let mut out = Vec::new();
    for (end, day) in days.iter().enumerate() {
        let run_ends_here = *day == Some(true) && days.get(end + 1).copied().flatten() != Some(true);
        if !run_ends_here {
            continue;
        }
        out.extend((end + 1..days.len().min(end + 1 + min_off as usize)).filter(|&d| days[d].is_some()));
    }
    out
}

impl Rules {
    /// Whether an agent skilled for `queues` may work a shift from `start_min` after the
    /// midnight of `date` for `length_min` (by the clocks): one of the queues is open for all
    /// of it (an agent of no queue may always work).
    pub fn open_for<'q>(&self, mut queues: impl Iterator<Item = &'q QueueName>, date: NaiveDate, start_min: u32, length_min: u32) -> bool {
        let mut any = false;
        let open = queues.any(|q| {
            any = true;
            self.service_hours.get(q).is_none_or(|h| h.holds(date, start_min, length_min))
        });
        open || !any
    }

    /// Contract minutes a stretch of leave (`leave_min` on one day) counts for: its length, at
    /// most one working day's share of the weekly minimum (`min_hours_week` over the days a
    /// week may be worked), so that a whole day of leave counts as a day's work, not 24 hours.
    pub fn leave_credit_min(&self, min_hours_week: u32, leave_min: i64) -> i64 {
        let working_days = 7 - i64::from(self.hard.min_days_off_per_week.unwrap_or(2).min(6));
        leave_min.min(i64::from(min_hours_week) * 60 / working_days)
    }
}

/// A shift starting before `early_start_before` may not follow, on the next day, a shift that
/// ended after `night_end_after`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EarlyAfterNight {
    pub early_start_before: ClockTime,
    pub night_end_after: ClockTime,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SoftRule {
    pub limit: f64,
    pub weight: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SoftRules {
    pub max_same_shift_per_week: Option<SoftRule>,
    pub team_start_spread_hours: Option<SoftRule>,
    pub preferences_weight: Option<f64>,
    /// Fair share of unpopular (early, late, weekend) shifts.
    pub fairness_weight: Option<f64>,
    /// Per hour a team member works with no leader of their team on shift.
    pub leaders_with_team_weight: Option<f64>,
    pub training: Option<Training>,
}

/// One training session per agent in the roster period, off the phones, placed where the
/// requirement leaves the most staff spare; `weight` per agent left untrained.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Training {
    pub minutes: u32,
    pub weight: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileShape {
    shifts: ShiftsSection,
    breaks: BreaksSection,
    #[serde(default)]
    rules: HardSection,
    #[serde(default)]
    soft: SoftSection,
    #[serde(default)]
    service_hours: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ShiftsSection {
    lengths_hours: Vec<f64>,
    start_step_minutes: u32,
    earliest_start: String,
    latest_end: String,
    #[serde(default)]
    teams: BTreeMap<String, WindowSection>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WindowSection {
    earliest_start: String,
    latest_end: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BreaksSection {
    meal_minutes: u32,
    meal_after_hours: f64,
    break_minutes: u32,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct HardSection {
    min_rest_between_shifts_hours: Option<f64>,
    max_hours_per_week: Option<f64>,
    max_consecutive_work_days: Option<u32>,
    min_days_off_per_week: Option<u32>,
    max_continuous_work_hours: Option<f64>,
    no_early_after_night: Option<EarlyAfterNightSection>,
    days_off_after_night_sequence: Option<u32>,
    rest_after_work_days: Option<RestPatternSection>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RestPatternSection {
    work_days: u32,
    days_off: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EarlyAfterNightSection {
    early_start_before: String,
    night_end_after: String,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct SoftSection {
    max_same_shift_per_week: Option<SoftSection2>,
    team_start_spread_hours: Option<SoftSection2>,
    preferences: Option<WeightOnly>,
    fairness: Option<WeightOnly>,
    leaders_with_team: Option<WeightOnly>,
    training: Option<TrainingSection>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TrainingSection {
    minutes: u32,
    weight: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SoftSection2 {
    limit: f64,
    weight: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WeightOnly {
    weight: f64,
}

impl Rules {
    /// Parses and checks a rules file; `name` appears in errors.
    pub fn parse(name: &str, text: &str) -> Result<Self, InputError> {
        let file: FileShape = toml::from_str(text).map_err(|e| InputError::File { file: name.into(), message: e.to_string() })?;
        let bad = |field: &str, message: String| InputError::File { file: name.into(), message: format!("`{field}`: {message}") };
        let clock = |field: &str, s: &str| ClockTime::parse(s).ok_or_else(|| bad(field, format!("{s:?} is not a time HH:MM")));
        let hours_to_min = |field: &str, h: f64, max_hours: f64| {
            if h.is_finite() && h > 0.0 && h <= max_hours && (h * 60.0).fract() == 0.0 {
                Ok((h * 60.0) as u32)
            } else {
                Err(bad(field, format!("{h} is not a whole number of minutes' hours in (0, {max_hours}]")))
            }
        };
        let s = &file.shifts;
        if s.lengths_hours.is_empty() {
            return Err(bad("shifts.lengths_hours", "no shift length given".into()));
        }
        let lengths_min = s.lengths_hours.iter().map(|&h| hours_to_min("shifts.lengths_hours", h, 24.0)).collect::<Result<Vec<_>, _>>()?;
        if s.start_step_minutes == 0 || 1440 % s.start_step_minutes != 0 {
            return Err(bad("shifts.start_step_minutes", format!("{} does not divide a day", s.start_step_minutes)));
        }
        let window = |prefix: &str, earliest: &str, latest: &str| -> Result<ShiftWindow, InputError> {
            let w = ShiftWindow {
                earliest_start: clock(&format!("{prefix}.earliest_start"), earliest)?,
                latest_end: clock(&format!("{prefix}.latest_end"), latest)?,
            };
            if !shapes(&lengths_min, s.start_step_minutes, w).is_empty() {
                return Ok(w);
            }
            let hours = f64::from(w.end_min() - w.earliest_start.minutes()) / 60.0;
            Err(bad(&format!("{prefix}.latest_end"), format!("no shift of {:?} hours starting on the {}-minute step fits the {hours} hours from {} to {}", s.lengths_hours, s.start_step_minutes, w.earliest_start, w.latest_end)))
        };

        let base = window("shifts", &s.earliest_start, &s.latest_end)?;
        let mut team_windows = BTreeMap::new();
        for (team, w) in &s.teams {
            team_windows.insert(team.clone(), window(&format!("shifts.teams.{team}"), &w.earliest_start, &w.latest_end)?);
        }

        let b = &file.breaks;
        let breaks = BreakRules { meal_min: b.meal_minutes, meal_after_min: hours_to_min("breaks.meal_after_hours", b.meal_after_hours, 24.0)?, break_min: b.break_minutes };
        if breaks.meal_min > 240 || breaks.break_min > 120 {
            return Err(bad("breaks", "a meal over 4 hours or a break over 2 hours is not a break".into()));
        }

        let r = &file.rules;
        let week = |field: &str, v: Option<u32>| match v {
            Some(d) if d > 7 => Err(bad(field, format!("{d} is more than the days of a week"))),
            other => Ok(other),
        };
        let hard = HardRules {
            min_rest_between_shifts_min: r.min_rest_between_shifts_hours.map(|h| hours_to_min("rules.min_rest_between_shifts_hours", h, 48.0)).transpose()?,
            max_paid_min_per_week: r.max_hours_per_week.map(|h| hours_to_min("rules.max_hours_per_week", h, 168.0)).transpose()?,
            max_consecutive_work_days: match r.max_consecutive_work_days {
                Some(0) => return Err(bad("rules.max_consecutive_work_days", "0 would forbid all work".into())),
                other => other,
            },
            min_days_off_per_week: week("rules.min_days_off_per_week", r.min_days_off_per_week)?,
            max_continuous_work_min: r.max_continuous_work_hours.map(|h| hours_to_min("rules.max_continuous_work_hours", h, 24.0)).transpose()?,
            no_early_after_night: r
                .no_early_after_night
                .as_ref()
                .map(|n| -> Result<_, InputError> {
                    Ok(EarlyAfterNight {
                        early_start_before: clock("rules.no_early_after_night.early_start_before", &n.early_start_before)?,
                        night_end_after: clock("rules.no_early_after_night.night_end_after", &n.night_end_after)?,
                    })
                })
                .transpose()?,
            days_off_after_night_sequence: match r.days_off_after_night_sequence {
                Some(d) if d > 7 => return Err(bad("rules.days_off_after_night_sequence", format!("{d} days off is more than a week"))),
                other => other,
            },
            rest_after_work_days: match &r.rest_after_work_days {
                Some(p) if !(1..=31).contains(&p.work_days) => return Err(bad("rules.rest_after_work_days.work_days", format!("{} is not 1–31 days", p.work_days))),
                Some(p) if !(1..=7).contains(&p.days_off) => return Err(bad("rules.rest_after_work_days.days_off", format!("{} is not 1–7 days", p.days_off))),
                Some(p) => Some(RestPattern { work_days: p.work_days, days_off: p.days_off }),
                None => None,
            },
        };

        let weight = |field: &str, w: f64| if w.is_finite() && w >= 0.0 { Ok(w) } else { Err(bad(field, format!("{w} is not a weight ≥ 0"))) };
        let soft_rule = |field: &str, r: &SoftSection2| -> Result<SoftRule, InputError> {
            if !(r.limit.is_finite() && r.limit >= 0.0) {
                return Err(bad(&format!("{field}.limit"), format!("{} is not a limit ≥ 0", r.limit)));
            }
            Ok(SoftRule { limit: r.limit, weight: weight(&format!("{field}.weight"), r.weight)? })
        };
        let so = &file.soft;
        let soft = SoftRules {
            max_same_shift_per_week: so.max_same_shift_per_week.as_ref().map(|r| soft_rule("soft.max_same_shift_per_week", r)).transpose()?,
            team_start_spread_hours: so.team_start_spread_hours.as_ref().map(|r| soft_rule("soft.team_start_spread_hours", r)).transpose()?,
            preferences_weight: so.preferences.as_ref().map(|p| weight("soft.preferences.weight", p.weight)).transpose()?,
            fairness_weight: so.fairness.as_ref().map(|p| weight("soft.fairness.weight", p.weight)).transpose()?,
            leaders_with_team_weight: so.leaders_with_team.as_ref().map(|p| weight("soft.leaders_with_team.weight", p.weight)).transpose()?,
            training: so
                .training
                .as_ref()
                .map(|t| {
                    if !(1..=480).contains(&t.minutes) {
                        return Err(bad("soft.training.minutes", format!("{} is not 1–480 minutes", t.minutes)));
                    }
                    Ok(Training { minutes: t.minutes, weight: weight("soft.training.weight", t.weight)? })
                })
                .transpose()?,
        };
        let mut service_hours = BTreeMap::new();
        for (queue, text) in &file.service_hours {
            let field = format!("service_hours.{queue}");
            let name = QueueName::parse(queue).map_err(|e| bad(&field, e.to_string()))?;
            service_hours.insert(name, ServiceHours::parse(text).map_err(|e| bad(&field, e))?);
        }
        Ok(Rules { shifts: ShiftRules { lengths_min, start_step_min: s.start_step_minutes, window: base, team_windows }, breaks, hard, soft, service_hours })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The shape the issue prints, which `wfm generate` writes too.
    pub(crate) const EXAMPLE: &str = r#"
[shifts]
lengths_hours = [6, 8, 9]
start_step_minutes = 30
earliest_start = "06:00"
latest_end = "23:00"
[breaks]
meal_minutes = 30
meal_after_hours = 6
break_minutes = 15
[rules]
min_rest_between_shifts_hours = 11
max_hours_per_week = 40
max_consecutive_work_days = 5
min_days_off_per_week = 2
max_continuous_work_hours = 3
no_early_after_night = { early_start_before = "08:00", night_end_after = "21:00" }
[soft]
max_same_shift_per_week = { limit = 3, weight = 5 }
team_start_spread_hours = { limit = 2, weight = 3 }
preferences = { weight = 2 }
"#;

    #[test]
    fn reads_the_documented_shape() {
        let r = Rules::parse("rules.toml", EXAMPLE).unwrap();
        assert_eq!(r.shifts.lengths_min, vec![360, 480, 540]);
        assert_eq!(r.shifts.window.earliest_start, ClockTime::parse("06:00").unwrap());
        assert_eq!(r.hard.min_rest_between_shifts_min, Some(660));
        assert_eq!(r.hard.max_continuous_work_min, Some(180));
        assert_eq!(r.hard.no_early_after_night.unwrap().night_end_after.to_string(), "21:00");
        assert_eq!(r.soft.max_same_shift_per_week, Some(SoftRule { limit: 3.0, weight: 5.0 }));
        assert_eq!(r.breaks.meal_after_min, 360);
    }

    #[test]
    fn unknown_keys_and_bad_values_are_errors_naming_the_key() {
        let typo = EXAMPLE.replace("max_consecutive_work_days", "max_consecutive_workdays");
        let e = Rules::parse("rules.toml", &typo).unwrap_err().to_string();
        assert!(e.contains("max_consecutive_workdays"), "{e}");
        let e = Rules::parse("rules.toml", &EXAMPLE.replace("\"06:00\"", "\"6am\"")).unwrap_err().to_string();
        assert!(e.contains("`shifts.earliest_start`"), "{e}");
        let e = Rules::parse("rules.toml", &EXAMPLE.replace("[6, 8, 9]", "[20]")).unwrap_err().to_string();
        assert!(e.contains("`shifts.latest_end`") && e.contains("fits"), "{e}");
        let e = Rules::parse("rules.toml", &EXAMPLE.replace("start_step_minutes = 30", "start_step_minutes = 7")).unwrap_err().to_string();
        assert!(e.contains("`shifts.start_step_minutes`"), "{e}");
        let e = Rules::parse("rules.toml", &EXAMPLE.replace("min_days_off_per_week = 2", "min_days_off_per_week = 9")).unwrap_err().to_string();
        assert!(e.contains("`rules.min_days_off_per_week`"), "{e}");
    }

    #[test]
    fn windows_may_cross_midnight_and_must_hold_a_shift() {
        let nights = EXAMPLE.replace("[breaks]", "[shifts.teams.nights]\nearliest_start = \"22:00\"\nlatest_end = \"06:00\"\n[breaks]");
        let r = Rules::parse("rules.toml", &nights).unwrap();
        let w = r.shifts.window_for("nights");
        assert_eq!(w.end_min(), 1800);
        assert!(w.holds(1320, 480) && !w.holds(1320, 540) && !w.holds(1290, 480));
        let round_the_clock = EXAMPLE.replace("latest_end = \"23:00\"", "latest_end = \"06:00\"");
        assert_eq!(Rules::parse("rules.toml", &round_the_clock).unwrap().shifts.window.end_min(), 1800);
        // Five hours of night cannot hold a 6-hour shift: the team's key is named.
        let short = nights.replace("latest_end = \"06:00\"", "latest_end = \"03:00\"");
        let e = Rules::parse("rules.toml", &short).unwrap_err().to_string();
        assert!(e.contains("`shifts.teams.nights.latest_end`") && e.contains("fits the 5 hours"), "{e}");
        let e = Rules::parse("rules.toml", &EXAMPLE.replace("max_continuous_work_hours", "days_off_after_night_sequence = 9\nmax_continuous_work_hours")).unwrap_err().to_string();
        assert!(e.contains("`rules.days_off_after_night_sequence`"), "{e}");
    }

    #[test]
    fn days_off_follow_the_last_night_of_a_run() {
        let (n, d) = (Some(true), Some(false));
        // Nights on 0–2, then a day shift on 4: two days off are needed after day 2.
        assert_eq!(night_rest_breaches(&[n, n, n, None, d], 2), vec![4]);
        assert_eq!(night_rest_breaches(&[n, n, n, None, None, d], 2), Vec::<usize>::new());
        // A night after one free date starts a new run, still too soon.
        assert_eq!(night_rest_breaches(&[n, None, n, None, None], 2), vec![2]);
        assert_eq!(night_rest_breaches(&[d, n, d], 1), vec![2]);
    }

    #[test]
    fn rest_frequency_follows_each_run_of_work_days() {
        let p = RestPattern { work_days: 3, days_off: 1 };
        let (w, o) = (true, false);
        assert_eq!(p.breaches(&[w, w, w, o, w, w, w, o]), Vec::<usize>::new());
        assert_eq!(p.breaches(&[w, w, w, w, o]), vec![3], "a fourth day in a row");
        let two_off = RestPattern { work_days: 3, days_off: 2 };
        assert_eq!(two_off.breaches(&[w, w, w, o, w, o]), vec![4]);
        assert_eq!(two_off.breaches(&[w, w, o, w, w]), Vec::<usize>::new(), "runs shorter than 3 need no rest");
        let e = Rules::parse("rules.toml", &EXAMPLE.replace("[soft]", "rest_after_work_days = { work_days = 3, days_off = 0 }\n[soft]")).unwrap_err().to_string();
        assert!(e.contains("`rules.rest_after_work_days.days_off`"), "{e}");
    }

    #[test]
    fn team_windows_override_the_default() {
        let text = EXAMPLE.replace("[breaks]", "[shifts.teams.nights]\nearliest_start = \"14:00\"\nlatest_end = \"24:00\"\n[breaks]");
        let r = Rules::parse("rules.toml", &text).unwrap();
        assert_eq!(r.shifts.window_for("nights").latest_end.minutes(), 1440);
        assert_eq!(r.shifts.window_for("day"), r.shifts.window);
    }

    #[test]
    fn the_generators_example_parses() {
        let generated = include_str!("../../datasets/sample/rules.toml");
        Rules::parse("rules.toml", generated).unwrap();
    }
}
