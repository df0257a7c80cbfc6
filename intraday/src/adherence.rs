//! Adherence and attendance of one agent on one local date: the one function behind the
//! report, the HTTP rows and the live view (docs/intraday.md states the definitions).
//!
//! The *window* of date D is D's local day, stretched to the end of D's shift when that
//! crosses midnight, minus the time of other dates' shifts (a night shift begun on D−1 is
//! judged with D−1). Inside it, time is cut into pieces where neither the scheduled activity
//! nor the agent's state changes; a time with no state period is `logged_out`.

use crate::rules::{is_work_state, AdherenceRules};
use serde::Serialize;
use wfm_model::AgentState;
use wfm_scheduler::roster::ActivityKind;

/// UTC milliseconds.
pub type Ms = i64;

/// A state period as adherence reads it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Period<'a> {
    pub start_ms: Ms,
    pub end_ms: Ms,
    pub state: AgentState,
    pub reason: Option<&'a str>,
}

/// A rostered on-shift activity of date D.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Planned {
    pub kind: ActivityKind,
    pub start_ms: Ms,
    pub end_ms: Ms,
}

/// Everything the figures of one agent and one date are computed from.
#[derive(Debug, Clone, Copy)]
pub struct AgentDay<'a> {
    /// D's local day, `[start, end)` in UTC.
    pub day: (Ms, Ms),
    /// D's work, break, meal and training rows, in time order.
    pub shift: &'a [Planned],
    /// A leave row on D.
    pub on_leave: bool,
    /// Other dates' shifts that may overlap D's window.
    pub other_shifts: &'a [(Ms, Ms)],
    /// State periods in start order; they may begin before and end after the window.
    pub periods: &'a [Period<'a>],
    /// Spans a supervisor excused: out-of-adherence time in them counts as in adherence.
    pub excused: &'a [(Ms, Ms)],
    /// Judge only up to this instant (the live view: "so far today").
    pub until_ms: Option<Ms>,
}

/// The figures of one agent and one date.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct DayFigures {
    /// Length of the shift (first on-shift activity's start to the last one's end).
    pub scheduled_s: i64,
    /// Counted out-of-adherence time, inside the shift and (when counted) outside it.
    pub exception_s: i64,
    /// The part of `exception_s` outside the shift.
    pub outside_exception_s: i64,
    /// Out-of-adherence time that was excused.
    pub excused_s: i64,
    /// `max(0, 1 − exception_s / (scheduled_s + outside_exception_s))`; none when both are 0.
    pub adherence: Option<f64>,
    /// Seconds in work states in the window / seconds of `work` activity; none without work.
    pub conformance: Option<f64>,
    pub work_state_s: i64,
    pub scheduled_work_s: i64,
    pub absent: bool,
    pub late_s: i64,
    pub early_leave_s: i64,
    pub overtime_s: i64,
    pub on_leave: bool,
}

/// One piece of a counted out-of-adherence run: a constant scheduled activity and state.
#[derive(Debug, Clone, PartialEq)]
pub struct Exception<'a> {
    pub start_ms: Ms,
    pub end_ms: Ms,
    /// `None`: outside the shift's activities.
    pub scheduled: Option<ActivityKind>,
    pub state: AgentState,
    pub reason: Option<&'a str>,
}

impl Exception<'_> {
    /// The state as the rules write it: `not_ready:lunch`.
    pub fn state_name(&self) -> String {
        state_name(self.state, self.reason)
    }
}

pub fn state_name(state: AgentState, reason: Option<&str>) -> String {
    match (state, reason) {
        (AgentState::NotReady, Some(r)) => format!("not_ready:{r}"),
        (state, _) => state.as_str().to_owned(),
    }
}

#[derive(Debug, Clone, Copy)]
struct Piece<'a> {
    start: Ms,
    end: Ms,
    in_shift: bool,
    scheduled: Option<ActivityKind>,
    state: AgentState,
    reason: Option<&'a str>,
    excused: bool,
}

/// The shift's span: first start to last end.
pub fn shift_span(shift: &[Planned]) -> Option<(Ms, Ms)> {
    let start = shift.iter().map(|p| p.start_ms).min()?;
    Some((start, shift.iter().map(|p| p.end_ms).max()?))
}

/// Cuts the window into pieces (`other_shifts` removed) in time order.
fn pieces<'a>(day: &AgentDay<'a>) -> Vec<Piece<'a>> {
    let span = shift_span(day.shift);
    let window_start = day.day.0;
    let mut window_end = span.map_or(day.day.1, |(_, e)| e.max(day.day.1));
    if let Some(until) = day.until_ms {
        window_end = window_end.min(until);
    }
    if window_end <= window_start {
        return Vec::new();
    }
    let clamp = |t: Ms| t.clamp(window_start, window_end);
    let mut cuts = vec![window_start, window_end];
    cuts.extend(day.shift.iter().flat_map(|p| [clamp(p.start_ms), clamp(p.end_ms)]));
    cuts.extend(day.periods.iter().flat_map(|p| [clamp(p.start_ms), clamp(p.end_ms)]));
    cuts.extend(day.other_shifts.iter().chain(day.excused).flat_map(|&(s, e)| [clamp(s), clamp(e)]));
    cuts.sort_unstable();
    cuts.dedup();

    let covers = |spans: &[(Ms, Ms)], a: Ms| spans.iter().any(|&(s, e)| s <= a && a < e);
    let mut out = Vec::with_capacity(cuts.len());
    let (mut next_activity, mut next_period) = (0, 0);
    for pair in cuts.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        if covers(day.other_shifts, a) {
            continue;
        }
        while next_activity < day.shift.len() && day.shift[next_activity].end_ms <= a {
            next_activity += 1;
        }
        let scheduled = day.shift.get(next_activity).filter(|p| p.start_ms <= a).map(|p| p.kind);
        while next_period < day.periods.len() && day.periods[next_period].end_ms <= a {
            next_period += 1;
        }
        let period = day.periods[next_period..].iter().take_while(|p| p.start_ms <= a).find(|p| p.end_ms > a);
        let (state, reason) = period.map_or((AgentState::LoggedOut, None), |p| (p.state, p.reason));
        let in_shift = span.is_some_and(|(s, e)| s <= a && a < e);
        out.push(Piece { start: a, end: b, in_shift, scheduled, state, reason, excused: covers(day.excused, a) });
    }
    out
}

/// The figures and the counted exceptions of one agent on one date.
pub fn evaluate<'a>(rules: &AdherenceRules, day: &AgentDay<'a>) -> (DayFigures, Vec<Exception<'a>>) {
    let pieces = pieces(day);
    let threshold_ms = rules.exception_threshold_s * 1000;
    let mut figures = DayFigures { on_leave: day.on_leave, ..DayFigures::default() };
    let (mut exception_ms, mut outside_ms, mut excused_ms) = (0, 0, 0);
    let mut exceptions = Vec::new();

    // Out-of-adherence runs: maximal contiguous out-of-adherence pieces.
    let out_of_adherence = |p: &Piece| !rules.in_adherence(p.scheduled, p.state, p.reason);
    let mut i = 0;
    while i < pieces.len() {
        if !out_of_adherence(&pieces[i]) || pieces[i].excused {
            if pieces[i].excused && out_of_adherence(&pieces[i]) {
                excused_ms += pieces[i].end - pieces[i].start;
            }
            i += 1;
            continue;
        }
        let mut j = i + 1;
        while j < pieces.len() && pieces[j].start == pieces[j - 1].end && out_of_adherence(&pieces[j]) && !pieces[j].excused {
            j += 1;
        }
        let run = &pieces[i..j];
        if run[run.len() - 1].end - run[0].start >= threshold_ms {
            for p in run {
                let ms = p.end - p.start;
                exception_ms += ms;
                if !p.in_shift {
                    outside_ms += ms;
                }
                match exceptions.last_mut() {
                    Some(Exception { end_ms, scheduled, state, reason, .. })
                        if *end_ms == p.start && *scheduled == p.scheduled && *state == p.state && *reason == p.reason =>
                    {
                        *end_ms = p.end
                    }
                    _ => exceptions.push(Exception { start_ms: p.start, end_ms: p.end, scheduled: p.scheduled, state: p.state, reason: p.reason }),
                }
            }
        }
        i = j;
    }
    let span = shift_span(day.shift);
    let judged_until = |t: Ms| day.until_ms.map_or(t, |u| t.min(u));
    if let Some((start, end)) = span {
        figures.scheduled_s = (judged_until(end) - start).max(0) / 1000;
    }
    figures.scheduled_work_s =
        day.shift.iter().filter(|p| p.kind == ActivityKind::Work).map(|p| (judged_until(p.end_ms) - p.start_ms).max(0)).sum::<Ms>() / 1000;
    figures.exception_s = exception_ms / 1000;
    figures.outside_exception_s = outside_ms / 1000;
    figures.excused_s = excused_ms / 1000;
    let base = figures.scheduled_s + figures.outside_exception_s;
    figures.adherence = (base > 0).then(|| (1.0 - figures.exception_s as f64 / base as f64).max(0.0));

    let work_ms: Ms = pieces.iter().filter(|p| is_work_state(p.state)).map(|p| p.end - p.start).sum();
    figures.work_state_s = work_ms / 1000;
    figures.conformance = (figures.scheduled_work_s > 0).then(|| figures.work_state_s as f64 / figures.scheduled_work_s as f64);
    figures.overtime_s = pieces.iter().filter(|p| !p.in_shift && is_work_state(p.state)).map(|p| p.end - p.start).sum::<Ms>() / 1000;

    if let Some((start, end)) = span {
        let logged_in: Vec<&Piece> = pieces.iter().filter(|p| p.in_shift && p.state != AgentState::LoggedOut).collect();
        match (logged_in.first(), logged_in.last()) {
            (Some(first), Some(last)) => {
                let late_ms = first.start - start;
                if late_ms > rules.late_grace_s * 1000 {
                    figures.late_s = late_ms / 1000;
                }
                // Early leave is known only once the shift has ended.
                let early_ms = end - last.end;
                if day.until_ms.is_none_or(|u| u >= end) && early_ms > rules.early_leave_grace_s * 1000 {
                    figures.early_leave_s = early_ms / 1000;
                }
            }
            _ => figures.absent = day.until_ms.is_none_or(|u| u >= end),
        }
    }
    (figures, exceptions)
}

#[cfg(test)]
mod tests {
    use super::*;
    use AgentState::*;

    const MIN: Ms = 60_000;
    /// Minutes since the day's start, as UTC ms of a day starting at 0.
    fn m(minutes: i64) -> Ms {
        minutes * MIN
    }
    const DAY: (Ms, Ms) = (0, 24 * 60 * MIN);

    fn work(from: i64, to: i64) -> Planned {
        Planned { kind: ActivityKind::Work, start_ms: m(from), end_ms: m(to) }
    }
    fn planned(kind: ActivityKind, from: i64, to: i64) -> Planned {
        Planned { kind, start_ms: m(from), end_ms: m(to) }
    }
    fn period(from: i64, to: i64, state: AgentState, reason: Option<&'static str>) -> Period<'static> {
        Period { start_ms: m(from), end_ms: m(to), state, reason }
    }
    fn day<'a>(shift: &'a [Planned], periods: &'a [Period<'a>]) -> AgentDay<'a> {
        AgentDay { day: DAY, shift, on_leave: false, other_shifts: &[], periods, excused: &[], until_ms: None }
    }

    #[test]
    fn the_published_example_late_and_past_the_end() {
        // A 60-minute shift 09:00–10:00, logged in at 09:10, worked to 10:10.
        let shift = [work(540, 600)];
        let periods = [period(550, 610, Ready, None)];
        let (f, ex) = evaluate(&AdherenceRules::default(), &day(&shift, &periods));
        assert_eq!((f.scheduled_s, f.exception_s, f.outside_exception_s), (3600, 1200, 600));
        assert!((f.adherence.unwrap() - (1.0 - 1200.0 / 4200.0)).abs() < 1e-12);
        assert_eq!(format!("{:.1}", f.adherence.unwrap() * 100.0), "71.4");
        assert_eq!((f.late_s, f.early_leave_s, f.overtime_s, f.absent), (600, 0, 600, false));
        assert_eq!(f.conformance, Some(1.0), "60 minutes in work states for 60 scheduled");
        assert_eq!(ex.len(), 2);
        assert_eq!((ex[0].start_ms, ex[0].end_ms, ex[0].scheduled, ex[0].state), (m(540), m(550), Some(ActivityKind::Work), LoggedOut));
        assert_eq!((ex[1].start_ms, ex[1].end_ms, ex[1].scheduled, ex[1].state), (m(600), m(610), None, Ready));
    }

    #[test]
    fn short_runs_are_under_the_threshold_and_graces_hold() {
        // Logged in 1 minute late (grace 2), a 50 s not-ready, left 90 s early (grace 2 min).
        let shift = [work(540, 600)];
        let s = |min: i64, sec: i64| m(min) + sec * 1000;
        let periods = [
            Period { start_ms: s(541, 0), end_ms: s(560, 0), state: Ready, reason: None },
            Period { start_ms: s(560, 0), end_ms: s(560, 50), state: NotReady, reason: Some("toilet") },
            Period { start_ms: s(560, 50), end_ms: s(598, 30), state: OnCall, reason: None },
        ];
        let (f, ex) = evaluate(&AdherenceRules::default(), &day(&shift, &periods));
        // The late minute (60 s) reaches the threshold; the 50 s and the 90 s end run is over it.
        assert_eq!(f.exception_s, 60 + 90);
        assert_eq!(ex.len(), 2);
        assert_eq!((f.late_s, f.early_leave_s), (0, 0), "within the graces");
    }

    #[test]
    fn a_break_taken_early_is_two_exceptions() {
        // Work 09:00–11:00 with a break 10:00–10:15; the agent took it 09:50–10:05.
        let shift = [work(540, 600), planned(ActivityKind::Break, 600, 615), work(615, 660)];
        let periods = [
            period(540, 590, Ready, None),
            period(590, 605, NotReady, Some("break")),
            period(605, 660, Ready, None),
        ];
        let (f, ex) = evaluate(&AdherenceRules::default(), &day(&shift, &periods));
        assert_eq!(f.exception_s, 20 * 60, "10 minutes on break during work, 10 at work during the break");
        assert_eq!(ex.iter().map(|e| (e.scheduled, e.state_name())).collect::<Vec<_>>(), [
            (Some(ActivityKind::Work), "not_ready:break".to_owned()),
            (Some(ActivityKind::Break), "ready".to_owned())
        ]);
        assert_eq!(f.scheduled_work_s, 105 * 60);
        assert_eq!(f.work_state_s, 105 * 60);
        assert!((f.adherence.unwrap() - (1.0 - 1200.0 / 7200.0)).abs() < 1e-12);
    }

    #[test]
    fn absent_and_early_leave() {
        let shift = [work(540, 600)];
        let (f, _) = evaluate(&AdherenceRules::default(), &day(&shift, &[]));
        assert!(f.absent);
        assert_eq!((f.exception_s, f.adherence, f.late_s), (3600, Some(0.0), 0));
        let periods = [period(540, 570, Ready, None), period(570, 600, LoggedOut, None)];
        let (f, _) = evaluate(&AdherenceRules::default(), &day(&shift, &periods));
        assert_eq!((f.absent, f.early_leave_s, f.exception_s), (false, 1800, 1800));
    }

    #[test]
    fn logged_in_again_after_a_logout_is_not_early_leave() {
        let shift = [work(540, 600)];
        let periods = [period(540, 560, Ready, None), period(580, 600, Ready, None)];
        let (f, _) = evaluate(&AdherenceRules::default(), &day(&shift, &periods));
        assert_eq!((f.early_leave_s, f.exception_s), (0, 1200));
    }

    #[test]
    fn outside_shift_work_can_be_ignored_and_overtime_is_still_counted() {
        let rules = AdherenceRules::parse("a.toml", "working_outside_shift = \"ignore\"").unwrap();
        let shift = [work(540, 600)];
        let periods = [period(540, 630, Ready, None)];
        let (f, ex) = evaluate(&rules, &day(&shift, &periods));
        assert_eq!((f.exception_s, f.overtime_s, f.adherence), (0, 1800, Some(1.0)));
        assert!(ex.is_empty());
    }

    #[test]
    fn a_day_off_worked_is_zero_adherence_and_a_day_off_at_home_has_none() {
        let periods = [period(540, 600, Ready, None)];
        let (f, _) = evaluate(&AdherenceRules::default(), &day(&[], &periods));
        assert_eq!((f.scheduled_s, f.exception_s, f.adherence, f.absent, f.overtime_s), (0, 3600, Some(0.0), false, 3600));
        let (f, _) = evaluate(&AdherenceRules::default(), &day(&[], &[]));
        assert_eq!((f.adherence, f.conformance, f.absent), (None, None, false));
    }

    #[test]
    fn a_night_shift_is_judged_with_its_own_date() {
        // D: shift 22:00–06:00 next morning. D+1's window must leave 00:00–06:00 to D.
        let shift = [work(22 * 60, 30 * 60)];
        let periods = [period(22 * 60, 30 * 60, Ready, None), period(30 * 60, 31 * 60, Ready, None)];
        let (f, _) = evaluate(&AdherenceRules::default(), &day(&shift, &periods));
        assert_eq!((f.scheduled_s, f.exception_s, f.adherence), (8 * 3600, 0, Some(1.0)));
        let next = AgentDay {
            day: (DAY.1, DAY.1 + DAY.1),
            shift: &[],
            on_leave: false,
            other_shifts: &[(m(22 * 60), m(30 * 60))],
            periods: &periods,
            excused: &[],
            until_ms: None,
        };
        let (f, ex) = evaluate(&AdherenceRules::default(), &next);
        assert_eq!((f.exception_s, f.overtime_s), (3600, 3600), "only 06:00–07:00 is outside any shift");
        assert_eq!(ex[0].start_ms, m(30 * 60));
    }

    #[test]
    fn a_dst_day_counts_real_seconds() {
        // Europe/Warsaw 2026-03-29: 02:00 becomes 03:00; the day is 23 h. A shift 01:00–05:00
        // local is 3 h of real time.
        let zone = wfm_model::TenantZone::parse("Europe/Warsaw").unwrap();
        let d = chrono::NaiveDate::from_ymd_opt(2026, 3, 29).unwrap();
        let start = zone.day_start(d).timestamp_millis();
        let end = zone.day_start(d.succ_opt().unwrap()).timestamp_millis();
        assert_eq!(end - start, 23 * 3_600_000);
        let local = |h: u32| {
            use chrono::TimeZone;
            zone.tz().from_local_datetime(&d.and_hms_opt(h, 0, 0).unwrap()).unwrap().timestamp_millis()
        };
        let shift = [Planned { kind: ActivityKind::Work, start_ms: local(1), end_ms: local(5) }];
        let periods = [Period { start_ms: local(1), end_ms: local(4), state: Ready, reason: None }];
        let (f, _) = evaluate(
            &AdherenceRules::default(),
            &AgentDay { day: (start, end), shift: &shift, on_leave: false, other_shifts: &[], periods: &periods, excused: &[], until_ms: None },
        );
        assert_eq!(f.scheduled_s, 3 * 3600);
        assert_eq!(f.exception_s, 3600, "04:00–05:00 logged out");
        assert_eq!(f.early_leave_s, 3600);
    }

    #[test]
    fn excused_time_is_in_adherence_and_reported() {
        let shift = [work(540, 600)];
        let periods = [period(540, 560, Ready, None), period(560, 580, NotReady, Some("system")), period(580, 600, Ready, None)];
        let d = AgentDay { excused: &[(m(560), m(580))], ..day(&shift, &periods) };
        let (f, ex) = evaluate(&AdherenceRules::default(), &d);
        assert_eq!((f.exception_s, f.excused_s, f.adherence), (0, 1200, Some(1.0)));
        assert!(ex.is_empty());
    }

    #[test]
    fn so_far_today_judges_only_the_past() {
        let shift = [work(540, 600)];
        let periods = [period(545, 600, Ready, None)];
        let d = AgentDay { until_ms: Some(m(570)), ..day(&shift, &periods) };
        let (f, _) = evaluate(&AdherenceRules::default(), &d);
        assert_eq!((f.scheduled_s, f.exception_s, f.late_s, f.early_leave_s, f.absent), (1800, 300, 300, 0, false));
        let (f, _) = evaluate(&AdherenceRules::default(), &AgentDay { until_ms: Some(m(530)), ..day(&shift, &[]) });
        assert_eq!((f.scheduled_s, f.absent, f.adherence), (0, false, None), "the shift has not begun");
    }
}
