//! The roster's activities for assigned shifts: work runs, meals and breaks staggered on the
//! grid, training where the staff is spare, approved leave and days off.
//!
//! Pauses are planned on the time a shift really lasts ([`Design::as_lived`]), so that a night
//! across a change of the clocks keeps every pause and ends at its wall-clock time.

use crate::agents::Agent;
use crate::assign::{Assigned, Assignment};
use crate::design::{Design, Shape};
use crate::requests::{Request, RequestKind};
use crate::roster::{Activity, ActivityKind, Roster};
use crate::rules::Rules;
use std::collections::{HashMap, HashSet};

/// The roster's activities: each shift cut into work runs no longer than the continuous-work
/// limit, with the meal as the middle pause and paid breaks between the others, on the
/// interval grid, pauses staggered; one training session per agent where the staff is most in
/// surplus (when the rules ask for training); approved leave; other days are days off.
pub fn to_roster(assigned: &Assigned, design: &Design, agents: &[Agent], rules: &Rules, requests: &[Request]) -> Roster {
    let at = |day: usize, minute: i64| design.at(day, minute);
    let step_min = design.step_min;
    // Pauses are planned on the time really worked (see `Design::as_lived`), from the start.
    let lived: Vec<Shape> = assigned.shifts.iter().map(|s| design.as_lived(s.day, &s.shape)).collect();
    // Agents present per interval before any pause; each pause placed takes one away.
    let mut present = vec![0i64; design.required.len()];
    for s in &assigned.shifts {
        design.cover(s.day, &s.shape).for_each(|i| present[i] += 1);
    }
    let mut plans: Vec<Vec<(ActivityKind, u32)>> = assigned.shifts.iter().zip(&lived).map(|(s, lived)| stagger(shift_plan(lived, rules, step_min), s, design, rules, step_min, &mut present)).collect();
    if let Some(training) = rules.soft.training {
        place_training(assigned, design, training.minutes, step_min, &mut plans, &mut present);
    }
    let mut activities = Vec::new();
    let mut busy: HashSet<(usize, usize)> = HashSet::new();
    for (s, plan) in assigned.shifts.iter().zip(plans) {
        busy.insert((s.agent, s.day));
        let agent_id = agents[s.agent].id.clone();
        let mut t = at(s.day, i64::from(s.shape.start_min));
        for (kind, minutes) in plan {
            let end = design.grid.with_local_offset(t + chrono::Duration::minutes(i64::from(minutes)));
            activities.push(Activity { agent_id: agent_id.clone(), date: design.days[s.day], kind, start: t, end });
            t = end;
        }
    }
    let index: HashMap<&str, usize> = agents.iter().enumerate().map(|(i, a)| (a.id.as_str(), i)).collect();
    for r in requests {
        let (RequestKind::Leave { span }, Some(&a), Some(day)) = (&r.kind, index.get(r.agent_id.as_str()), design.days.iter().position(|d| *d == r.date)) else { continue };
        let (from, to) = span.map_or((0, 1440), |(f, t)| (f.minutes(), t.minutes()));
        activities.push(Activity { agent_id: r.agent_id.clone(), date: r.date, kind: ActivityKind::Leave, start: at(day, i64::from(from)), end: at(day, i64::from(to)) });
        busy.insert((a, day));
    }
    for (a, agent) in agents.iter().enumerate() {
        for day in 0..design.days.len() {
            if !busy.contains(&(a, day)) {
                activities.push(Activity { agent_id: agent.id.clone(), date: design.days[day], kind: ActivityKind::DayOff, start: at(day, 0), end: at(day, 1440) });
            }
        }
    }
    let mut roster = Roster { activities };
    roster.tidy();
    roster
}

/// One training session of `minutes` for each agent with a shift, inside a work run on the
/// grid, where the agents present most exceed the requirement (agents with fewest shifts
/// choose first); takes the session off `present`. Training counts as continuous work, so the
/// runs' limits still hold.
fn place_training(assigned: &Assigned, design: &Design, minutes: u32, step: u32, plans: &mut [Vec<(ActivityKind, u32)>], present: &mut [i64]) {
    let mut by_agent: HashMap<usize, Vec<usize>> = HashMap::new();
    for (k, s) in assigned.shifts.iter().enumerate() {
        by_agent.entry(s.agent).or_default().push(k);
    }
    let mut order: Vec<(usize, Vec<usize>)> = by_agent.into_iter().collect();
    order.sort_by_key(|(a, shifts)| (shifts.len(), *a));
    let slots = minutes.div_ceil(step) as usize;
    for (_, shifts) in order {
        // (surplus, shift, activity index, minutes into the run)
        let mut best: Option<(i64, usize, usize, u32)> = None;
        for k in shifts {
            let first = design.cover(assigned.shifts[k].day, &assigned.shifts[k].shape).start;
            let mut offset = 0;
            for (p, &(kind, run)) in plans[k].iter().enumerate() {
                if kind == ActivityKind::Work && run >= minutes {
                    let mut into = 0;
                    while into + minutes <= run {
                        let from = first + ((offset + into) / step) as usize;
                        let to = (from + slots).min(present.len());
                        let surplus: i64 = (from.min(to)..to).map(|i| present[i] - i64::from(design.required[i])).sum();
                        if best.is_none_or(|(v, ..)| surplus > v) {
                            best = Some((surplus, k, p, into));
                        }
                        into += step;
                    }
                }
                offset += run;
            }
        }
        let Some((_, k, p, into)) = best else { continue };
        let run = plans[k][p].1;
        let pieces = [(ActivityKind::Work, into), (ActivityKind::Training, minutes), (ActivityKind::Work, run - into - minutes)];
        plans[k].splice(p..=p, pieces.into_iter().filter(|(_, m)| *m > 0));
        let first = design.cover(assigned.shifts[k].day, &assigned.shifts[k].shape).start;
        let offset: u32 = plans[k][..p].iter().map(|(_, m)| m).sum::<u32>() + into;
        let from = first + (offset / step) as usize;
        (from..(from + slots).min(present.len())).for_each(|i| present[i] -= 1);
    }
}

/// Moves each pause of a shift's plan by up to two grid steps either way, to where the most
/// agents are present beyond the requirement, keeping every work run between one step and the
/// continuous-work limit; then takes the pauses off `present`.
fn stagger(mut plan: Vec<(ActivityKind, u32)>, shift: &Assignment, design: &Design, rules: &Rules, step: u32, present: &mut [i64]) -> Vec<(ActivityKind, u32)> {
    let limit = rules.hard.max_continuous_work_min.unwrap_or(u32::MAX);
    let shift_start = design.cover(shift.day, &shift.shape).start;
    // Only a pause between two work runs can move (a plan squeezed by odd rules may lack one).
    for p in 1..plan.len().saturating_sub(1) {
        if plan[p].0 == ActivityKind::Work || plan[p - 1].0 != ActivityKind::Work || plan[p + 1].0 != ActivityKind::Work {
            continue;
        }
        let offset_of = |plan: &[(ActivityKind, u32)]| plan[..p].iter().map(|(_, m)| m).sum::<u32>();
        let surplus = |plan: &[(ActivityKind, u32)], present: &[i64]| -> i64 {
            let from = shift_start + (offset_of(plan) / step) as usize;
            let to = (from + plan[p].1.div_ceil(step) as usize).min(present.len());
            (from.min(to)..to).map(|i| present[i] - i64::from(design.required[i])).sum()
        };
        let mut best = (surplus(&plan, present), 0i64);
        for delta in [-2i64, -1, 1, 2] {
            let moved = i64::from(step) * delta;
            let (before, after) = (i64::from(plan[p - 1].1) + moved, i64::from(plan[p + 1].1) - moved);
            let fits = |run: i64| run >= i64::from(step) && run <= i64::from(limit);
            if !(fits(before) && fits(after)) {
                continue;
            }
            let mut candidate = plan.clone();
            (candidate[p - 1].1, candidate[p + 1].1) = (before as u32, after as u32);
            let value = surplus(&candidate, present);
            if value > best.0 {
                best = (value, moved);
            }
        }
        plan[p - 1].1 = (i64::from(plan[p - 1].1) + best.1) as u32;
        plan[p + 1].1 = (i64::from(plan[p + 1].1) - best.1) as u32;
        let from = shift_start + (offset_of(&plan) / step) as usize;
        let to = (from + plan[p].1.div_ceil(step) as usize).min(present.len());
        (from.min(to)..to).for_each(|i| present[i] -= 1);
    }
    plan
}

/// Work runs and pauses of one shift, in order: the fewest paid breaks that keep every run
/// within the continuous-work limit, runs rounded to the grid step.
pub fn shift_plan(shape: &Shape, rules: &Rules, step_min: u32) -> Vec<(ActivityKind, u32)> {
    let b = &rules.breaks;
    let meal = shape.length_min > b.meal_after_min && b.meal_min < shape.length_min;
    let limit = rules.hard.max_continuous_work_min.unwrap_or(u32::MAX);
    let mut breaks = 0;
    loop {
        let pauses = u32::from(meal) + breaks;
        let work = shape.length_min.saturating_sub(if meal { b.meal_min } else { 0 } + breaks * b.break_min);
        let runs = pauses + 1;
        let run = (work / runs) / step_min * step_min;
        let last = work - run * (runs - 1);
        // Stop when every run fits, or when another break cannot help (too little work left,
        // breaks of no length, or already many): the checker then names what does not fit.
        let fits = last <= limit && run <= limit;
        let room_for_another = (breaks + 1) * b.break_min + if meal { b.meal_min } else { 0 } + (runs + 1) * step_min <= shape.length_min;
        let hopeless = breaks >= 8 || b.break_min == 0 || !room_for_another;
        if fits || hopeless {
            let mut out: Vec<(ActivityKind, u32)> = Vec::new();
            let meal_after = (runs / 2).max(1);
            for i in 0..runs {
                let minutes = if i + 1 == runs { last } else { run };
                match out.last_mut() {
                    Some((ActivityKind::Work, m)) => *m += minutes,
                    _ if minutes > 0 => out.push((ActivityKind::Work, minutes)),
                    _ => {}
                }
                if i + 1 < runs {
                    let (kind, minutes) = if meal && i + 1 == meal_after { (ActivityKind::Meal, b.meal_min) } else { (ActivityKind::Break, b.break_min) };
                    if minutes > 0 {
                        out.push((kind, minutes));
                    }
                }
            }
            return out;
        }
        breaks += 1;
    }
}
